/**
 * @module routes/responses
 * `POST /v1/responses`: the drop-in proxy. The body goes upstream as the client sent it, with two
 * edits (the tool outputs are always requested, because figures live there, and earlier
 * unsandbox output sent back as input is restored to upstream's original form). What comes back
 * has the upstream shape, with every sandbox link and citation pointing at a working download URL
 * and a top-level `unsandbox` object listing the files.
 */
import { Hono, type Context } from "hono";
import type { AppEnv } from "../app";
import { assertResponsesBodyChecked } from "../auth/checked";
import { badRequest } from "../errors";
import { harvest, type HarvestOptions } from "../harvest/harvest";
import { applyManagedContainer } from "../harvest/managed";
import { linkExpiry, namingFor } from "../harvest/naming";
import { restoreInput } from "../harvest/restore";
import { rewriteResponseObject } from "../links/response";
import { CreateResponseBody, OUTPUTS_INCLUDE } from "../schemas/create-response";
import { keptResponseHeaders, upstreamFetch } from "../upstream/fetch";
import { streamResponse } from "./responses-stream";
import { featureOn } from "../harvest/features";
import { withFileInstructions } from "../harvest/file-instructions";
import { TERMINAL_STATUSES } from "../tracker/background";
import { loadConfig } from "../config";
import { sealForLaterWork } from "../tenants/store";
import { responseIndexFor } from "../tracker/stubs";
import { waitMsHeader } from "./wait-header";

export const responses = new Hono<AppEnv>();

/** A Response object as upstream sent it; only what unsandbox reads is typed. */
export type UpstreamResponse = { id: string; output?: unknown[]; status?: string; background?: boolean | null; previous_response_id?: string | null } & Record<string, unknown>;

/** How long the plain route waits for copies before answering (`x-unsandbox-wait-ms` overrides). */
export const DEFAULT_WAIT_MS = 10_000;

responses.post("/v1/responses", async (c) => {
  // The guard's body checks (ownership, widget policy) must have run for this very request.
  assertResponsesBodyChecked(c);
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw badRequest("We could not parse the JSON body of your request. The body must be a JSON object.", null, "invalid_json");
  }
  const parsed = CreateResponseBody.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const param = issue.path.join(".") || null;
    throw badRequest(`Invalid value for '${param ?? "body"}': ${issue.message}`, param, "invalid_value");
  }
  const body = parsed.data;
  // Every check comes before the upstream call: a refused request must not run the model.
  const wait = waitMsHeader(c, DEFAULT_WAIT_MS);
  const clientWantsOutputs = (body.include ?? []).includes(OUTPUTS_INCLUDE);
  // Opt-in managed containers (x-unsandbox-managed-container: 1): an auto container becomes one unsandbox created or reuses.
  let forwarded = await applyManagedContainer(c, {
    ...(await restoreInput(c.env, c.get("config"), c.get("tenant"), raw as Record<string, unknown>)),
    include: clientWantsOutputs ? body.include : [...(body.include ?? []), OUTPUTS_INCLUDE],
  });

  if (featureOn(c, "file_instructions")) forwarded = withFileInstructions(forwarded);

  const upstream = await upstreamFetch(c.get("config"), {
    method: "POST",
    path: "/responses",
    headers: c.req.raw.headers,
    body: JSON.stringify(forwarded),
  });
  if (!upstream.ok) return passError(upstream);

  const options: HarvestOptions = {
    tenant: c.get("tenant"),
    previousResponseId: body.previous_response_id ?? undefined,
    clientWantsOutputs,
    waitMs: wait,
    repair: featureOn(c, "repair"),
    upstreamKeySealed: await sealForLaterWork(loadConfig(c.env), c.get("caller")),
  };
  if (body.stream) return streamResponse(c, upstream, options);

  const response = (await upstream.json()) as UpstreamResponse;
  const result = await answer(c, response, options);
  const headers = keptResponseHeaders(upstream.headers);
  headers.set("content-type", "application/json");
  return new Response(JSON.stringify(result), { status: upstream.status, headers });
});

/**
 * Harvests a finished Response and rewrites it. A background response that is still running is
 * handed to its index, whose alarm polls upstream until it ends and harvests it then, whether or
 * not the client ever polls. A harvest problem never turns a successful upstream answer into an
 * error: the files are reported with the states the tracker has, and links keep their URLs.
 */
export async function answer(c: Context<AppEnv>, response: UpstreamResponse, options: HarvestOptions) {
  const linksExpireAt = linkExpiry(c.get("caller"), response.created_at);
  const naming = namingFor(c.get("config"), options.tenant, response.id, linksExpireAt);
  let files: Awaited<ReturnType<typeof harvest>> = [];
  if (response.background === true && !TERMINAL_STATUSES.has(response.status ?? "")) {
    await watchBackground(c.env, response, options);
  } else {
    files = await harvest(c.env, response, naming, { ...options, linksExpireAt });
  }
  const rewritten = await rewriteResponseObject(response, naming.name);
  if (!options.clientWantsOutputs) stripOutputs(rewritten);
  return { ...rewritten, unsandbox: { files } };
}

/** Starts the index's own polling of a background response (never fails the request). */
export async function watchBackground(env: AppEnv["Bindings"], response: { id: string; created_at?: unknown }, options: HarvestOptions) {
  try {
    await responseIndexFor(env, response.id).watchBackground({
      tenant: options.tenant,
      responseId: response.id,
      previousResponseId: options.previousResponseId ?? null,
      createdAt: typeof response.created_at === "number" ? response.created_at : Math.floor(Date.now() / 1000),
      upstreamKeySealed: options.upstreamKeySealed ?? null,
    });
  } catch (err) {
    console.error(JSON.stringify({ level: "error", msg: "background watch failed", responseId: response.id, error: String(err) }));
  }
}

/** Removes tool outputs the client did not ask for (unsandbox always asks, for the figures). */
export function stripOutputs(response: { output?: unknown }) {
  if (!Array.isArray(response.output)) return;
  for (const item of response.output as { type?: string; outputs?: unknown }[]) {
    if (item?.type === "code_interpreter_call") item.outputs = null;
  }
}

/** The upstream's own error answer, passed through as it is (status, body and useful headers). */
export function passError(upstream: Response): Response {
  const headers = keptResponseHeaders(upstream.headers);
  return new Response(upstream.body, { status: upstream.status, headers });
}
