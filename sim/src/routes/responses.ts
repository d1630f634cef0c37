/**
 * @module routes/responses
 * The Responses API routes: create (plain, `stream: true`, `background: true`), retrieve (also
 * as a resumable stream for background responses), input items, cancel, delete.
 */
import { Hono } from "hono";
import { SimError } from "../errors";
import { pageQuery, paginate } from "../pagination";
import { isMultiAgent, tagEvent, takeAgentTags, tagResponse } from "../responses/beta";
import { buildEvents, sseBody, type StreamEvent } from "../responses/events";
import { getReplay } from "../replay";
import { parseDirective } from "../scenario";
import { createResponse, lastUserText } from "../responses/engine";
import { renderResponse, statusAt } from "../responses/render";
import { INCLUDE_VALUES } from "../responses/schemas";
import { getResponse, type StoredResponse } from "../responses/store";
import { orgOf, type SimVars } from "../orgs";
import { state } from "../state";

const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" };

/** `include` / `include[]` query values, checked against the spec's enum. */
function includeQuery(url: URL): string[] {
  const values = [...url.searchParams.getAll("include"), ...url.searchParams.getAll("include[]")];
  values.forEach((v, i) => {
    if (!(INCLUDE_VALUES as readonly string[]).includes(v)) {
      throw new SimError(
        400,
        `Invalid value: '${v}'. Supported values are: ${INCLUDE_VALUES.map((x) => `'${x}'`).join(", ")}.`,
        {
          param: `include[${i}]`,
          code: "invalid_value",
        },
      );
    }
  });
  return values;
}

function streamOf(
  r: StoredResponse,
  include: readonly string[],
  obfuscation: boolean,
  startingAfter = -1,
  beta = false,
): Response {
  const built = buildEvents(r, { include, quirks: r.quirks, obfuscation });
  const events = beta && r.multi_agent ? built.map(tagEvent) : built;
  r.streamed = events.map((e) => ({ type: e.type, sequence_number: e.sequence_number }));
  // A background stream is spread over its run time, so a reader can drop and resume it.
  const pace = r.background
    ? Math.max(r.pace_ms, Math.floor(state.settings.background_ms / Math.max(1, events.length)))
    : r.pace_ms;
  return new Response(sseBody(events, pace, startingAfter), { headers: SSE_HEADERS });
}

export const responsesRoutes = new Hono<SimVars>();

responsesRoutes.post("/", async (c) => {
  const text = await c.req.text();
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new SimError(
      400,
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
    );
  }
  // A registered recording answers instead of the simulated model (replay.ts).
  const replayId = parseDirective(lastUserText((raw as { input?: unknown } | null)?.input)).replay;
  if (replayId) {
    const replay = getReplay(replayId);
    if (replay.events) return new Response(sseBody(replay.events as StreamEvent[], 0), { headers: SSE_HEADERS });
    return c.json(replay.response);
  }
  const url = new URL(c.req.url);
  const multiAgent = isMultiAgent(url, c.req.header("openai-beta"));
  const r = createResponse(multiAgent ? takeAgentTags(raw) : raw, text, orgOf(c));
  r.multi_agent = multiAgent;
  r.received = { body: raw, query: url.search.slice(1), openai_beta: c.req.header("openai-beta") ?? null };
  const include = r.body.include ?? [];
  if (r.body.stream) return streamOf(r, include, r.body.stream_options?.include_obfuscation ?? true, -1, multiAgent);
  const rendered = renderResponse(r, include);
  return c.json(multiAgent ? tagResponse(rendered) : rendered);
});

responsesRoutes.get("/:id", (c) => {
  const url = new URL(c.req.url);
  for (const key of url.searchParams.keys()) {
    if (!["include", "include[]", "stream", "starting_after", "include_obfuscation", "beta"].includes(key)) {
      throw new SimError(400, `Unknown parameter: '${key}'.`, { param: key, code: "unknown_parameter" });
    }
  }
  const r = getResponse(c.req.param("id"), orgOf(c));
  const include = includeQuery(url);
  // Read through the beta route, a multi-agent response shows its agents; otherwise it does not.
  const beta = isMultiAgent(url, c.req.header("openai-beta"));
  if (url.searchParams.get("stream") === "true") {
    if (!r.background)
      throw new SimError(400, "Streaming a stored response is only supported for background responses.", {
        param: "stream",
      });
    const after = Number(url.searchParams.get("starting_after") ?? -1);
    return streamOf(
      r,
      include,
      url.searchParams.get("include_obfuscation") !== "false",
      Number.isFinite(after) ? after : -1,
      beta,
    );
  }
  const rendered = renderResponse(r, include);
  return c.json(beta && r.multi_agent ? tagResponse(rendered) : rendered);
});

responsesRoutes.get("/:id/input_items", (c) => {
  const url = new URL(c.req.url);
  const r = getResponse(c.req.param("id"), orgOf(c));
  const q = pageQuery(url, ["include", "include[]"]);
  const items = q.order === "desc" ? [...r.input_items].reverse() : r.input_items;
  return c.json(paginate(items as { id: string }[], q));
});

responsesRoutes.post("/:id/cancel", (c) => {
  const r = getResponse(c.req.param("id"), orgOf(c));
  if (!r.background)
    throw new SimError(400, "Only responses created with background=true can be cancelled.", { param: "response_id" });
  const status = statusAt(r);
  if (status === "queued" || status === "in_progress") r.cancelled = true;
  return c.json(renderResponse(r, r.body.include ?? []));
});

responsesRoutes.delete("/:id", (c) => {
  const r = getResponse(c.req.param("id"), orgOf(c));
  state.responses.delete(r.id);
  return c.json({ id: r.id, object: "response", deleted: true });
});
