/**
 * @module routes/responses-read
 * Reading responses back: `GET /v1/responses/{id}` and `/input_items` are rewritten on read, so a
 * stored answer never shows a sandbox link again; `GET /v1/responses/{id}/files` is the manifest,
 * where file states converge after the answer was sent. What each answer says is the response
 * pipeline's (harvest/pipeline.ts); the route fetches from upstream and relays.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app";
import { notFound } from "../errors";
import {
  clientWantsOutputs,
  pipelineFor,
  responseManifest,
  rewriteInputItems,
  type UpstreamResponse,
} from "../harvest/pipeline";
import { OUTPUTS_INCLUDE } from "../schemas/create-response";
import { keptResponseHeaders, upstreamFetch } from "../upstream/fetch";
import { conversations } from "./conversations";
import { passError } from "./pass-error";
import { resumeStream } from "./responses-stream";
import { waitMsHeader } from "./wait-header";

export const responsesRead = new Hono<AppEnv>();

// Conversation items are read back (and sent) through the same pipeline (routes/conversations.ts).
responsesRead.route("/", conversations);

const ID = /^resp_[A-Za-z0-9_-]{1,200}$/;

function checkId(id: string) {
  if (!ID.test(id)) throw notFound(`No response found with id '${id.slice(0, 100)}'.`, "response_not_found");
}

responsesRead.get("/v1/responses/:id/files", async (c) => {
  const id = c.req.param("id");
  checkId(id);
  const wait = waitMsHeader(c, 0);
  const files = await responseManifest(c, id, wait);
  return c.json({ object: "list", response_id: id, data: files });
});

responsesRead.get("/v1/responses/:id", async (c) => {
  const id = c.req.param("id");
  checkId(id);
  const url = new URL(c.req.url);
  const include = url.searchParams.getAll("include[]").concat(url.searchParams.getAll("include"));
  const wantsOutputs = clientWantsOutputs(include);
  if (!wantsOutputs) url.searchParams.append("include[]", OUTPUTS_INCLUDE);
  // A resumed stream is re-read from its first event: the link state machine must see every
  // delta, or it could start in the middle of a link. Events up to the cursor are dropped here.
  const startingAfter = Number(url.searchParams.get("starting_after") ?? "-1");
  url.searchParams.delete("starting_after");
  const upstream = await upstreamFetch(c.get("config"), {
    method: "GET",
    path: `/responses/${id}${url.search}`,
    headers: c.req.raw.headers,
  });
  if (!upstream.ok) return passError(upstream);
  // A read never waits for copies and never asks for a repair turn.
  const pipeline = await pipelineFor(c, { clientWantsOutputs: wantsOutputs, waitMs: 0, repair: false });
  if (url.searchParams.get("stream") === "true") {
    return resumeStream(c, upstream, pipeline.stream(), startingAfter);
  }
  const answer = await pipeline.readBack(id, (await upstream.json()) as UpstreamResponse);
  return c.json(answer, 200, Object.fromEntries(keptResponseHeaders(upstream.headers)));
});

responsesRead.get("/v1/responses/:id/input_items", async (c) => {
  const id = c.req.param("id");
  checkId(id);
  const url = new URL(c.req.url);
  const upstream = await upstreamFetch(c.get("config"), {
    method: "GET",
    path: `/responses/${id}/input_items${url.search}`,
    headers: c.req.raw.headers,
  });
  if (!upstream.ok) return passError(upstream);
  const list = (await upstream.json()) as { data?: unknown[] };
  if (Array.isArray(list.data)) list.data = await rewriteInputItems(c, id, list.data);
  return c.json(list, 200, Object.fromEntries(keptResponseHeaders(upstream.headers)));
});
