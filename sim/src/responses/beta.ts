/**
 * @module responses/beta
 * Beta multi-agent Responses: `POST /v1/responses?beta=true` with the header
 * `OpenAI-Beta: responses_multi_agent=v1`. In that mode every output item and every stream event
 * carries `agent: {agent_name}` (the spec's `BetaAgentTag`), and input items may carry it back.
 * A request without the query string and the header is the ordinary API: an input item with
 * `agent` is an unknown parameter there, and answers carry no `agent`, which is how a proxy that
 * dropped the query string would show (it silently downgrades the request).
 */
import { SimError } from "../errors";

/** The one agent the simulated model speaks as. */
export const AGENT = { agent_name: "main" } as const;

const BETA_HEADER = "responses_multi_agent=v1";

/** Whether a request asks for the beta multi-agent Responses (query `beta=true` and the header). */
export function isMultiAgent(url: URL, openaiBeta: string | undefined): boolean {
  if (url.searchParams.get("beta") !== "true") return false;
  return (openaiBeta ?? "").split(",").some((v) => v.trim() === BETA_HEADER);
}

/** Checks and removes `agent` from input items (multi-agent mode only); the rest is validated as usual. */
export function takeAgentTags(raw: unknown): unknown {
  if (!raw || typeof raw !== "object" || !Array.isArray((raw as { input?: unknown }).input)) return raw;
  const body = raw as { input: unknown[] };
  const input = body.input.map((item, i) => {
    if (!item || typeof item !== "object" || !("agent" in item)) return item;
    const { agent, ...rest } = item as { agent?: unknown };
    const ok =
      agent === null ||
      (typeof agent === "object" && typeof (agent as { agent_name?: unknown }).agent_name === "string");
    if (!ok)
      throw new SimError(400, `Invalid type for 'input[${i}].agent': expected an object with agent_name, or null.`, {
        param: `input[${i}].agent`,
        code: "invalid_type",
      });
    return rest;
  });
  return { ...body, input };
}

/** An output item as the beta API shows it. */
export function tagItem<T extends Record<string, unknown>>(item: T): T & { agent: typeof AGENT } {
  return { ...item, agent: AGENT };
}

/** A Response object (plain, or inside a `response.*` event) with its output items tagged. */
export function tagResponse<T extends { output?: unknown }>(response: T): T {
  return Array.isArray(response.output)
    ? { ...response, output: (response.output as Record<string, unknown>[]).map(tagItem) }
    : response;
}

/** A stream event as the beta API sends it: `agent` on the event, on its item and response. */
export function tagEvent<T extends Record<string, unknown>>(event: T): T {
  const out: Record<string, unknown> = { ...event, agent: AGENT };
  if (event.item && typeof event.item === "object") out.item = tagItem(event.item as Record<string, unknown>);
  if (event.response && typeof event.response === "object")
    out.response = tagResponse(event.response as { output?: unknown });
  return out as T;
}
