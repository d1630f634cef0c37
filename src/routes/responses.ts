/**
 * @module routes/responses
 * `POST /v1/responses`: the drop-in proxy. The body goes upstream as the client sent it, with two
 * edits (the tool outputs are always requested, because figures live there, and earlier
 * unsandbox output sent back as input is restored to upstream's original form). What comes back
 * has the upstream shape, with every sandbox link and citation pointing at a working download URL
 * and a top-level `unsandbox` object listing the files. The route parses and relays; the response
 * pipeline (harvest/pipeline.ts) edits the body and shapes the answer.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app";
import { getCaller } from "../auth/caller";
import { enforceCreateLimits } from "../auth/limits";
import { assertResponsesBodyChecked } from "../auth/checked";
import { badRequest } from "../errors";
import { conversationIdOf } from "../harvest/conversation";
import { domainSecretValues, scrubbedError } from "../upstream/domain-secrets";
import { featureOn } from "../harvest/features";
import { clientWantsOutputs, pipelineFor, requestToForward, type UpstreamResponse } from "../harvest/pipeline";
import { parseCreateResponseBody } from "../schemas/create-response";
import { keptResponseHeaders, upstreamFetch } from "../upstream/fetch";
import { passError } from "./pass-error";
import { streamResponse } from "./responses-stream";
import { waitMsHeader } from "./wait-header";

export const responses = new Hono<AppEnv>();

/** Kept here for routes that import it from this module (routes/containers.ts). */
export { passError };

/** How long the plain route waits for copies before answering (`x-unsandbox-wait-ms` overrides). */
export const DEFAULT_WAIT_MS = 10_000;

responses.post("/v1/responses", async (c) => {
  // The guard's body checks (ownership, widget policy) must have run for this very request.
  assertResponsesBodyChecked(c);
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw badRequest(
      "We could not parse the JSON body of your request. The body must be a JSON object.",
      null,
      "invalid_json",
    );
  }
  const body = parseCreateResponseBody(raw);
  // Every check comes before the upstream call: a refused request must not run the model.
  const wait = waitMsHeader(c, DEFAULT_WAIT_MS);
  // The last check: a publishable key's daily counters (only creates that run count).
  await enforceCreateLimits(c.env, getCaller(c), c.req.header("cf-connecting-ip") ?? "unknown");
  const forwarded = await requestToForward(c, raw as Record<string, unknown>, body);

  const upstream = await upstreamFetch(c.get("config"), {
    method: "POST",
    // The client's query string goes along (`?beta=true` selects the beta multi-agent API).
    path: `/responses${new URL(c.req.url).search}`,
    headers: c.req.raw.headers,
    body: JSON.stringify(forwarded),
  });
  // Should upstream quote a domain secret of the request in its error, it is not passed on.
  if (!upstream.ok) return scrubbedError(upstream, domainSecretValues(raw), keptResponseHeaders(upstream.headers));

  const pipeline = await pipelineFor(c, {
    clientWantsOutputs: clientWantsOutputs(body.include),
    previousResponseId: body.previous_response_id ?? undefined,
    conversationId: conversationIdOf(body.conversation),
    waitMs: wait,
    repair: featureOn(c, "repair"),
  });
  if (body.stream) return streamResponse(c, upstream, pipeline.stream());

  const result = await pipeline.answer((await upstream.json()) as UpstreamResponse);
  const headers = keptResponseHeaders(upstream.headers);
  headers.set("content-type", "application/json");
  return new Response(JSON.stringify(result), { status: upstream.status, headers });
});
