/**
 * @module routes/responses-read
 * Reading responses back: `GET /v1/responses/{id}` and `/input_items` are rewritten on read, so a
 * stored answer never shows a sandbox link again; `GET /v1/responses/{id}/files` is the manifest,
 * where file states converge after the answer was sent.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app";
import { notFound } from "../errors";
import { harvest, manifestOf } from "../harvest/harvest";
import { linkExpiry, namingFor } from "../harvest/naming";
import { rewriteItems, rewriteResponseObject } from "../links/response";
import { OUTPUTS_INCLUDE } from "../schemas/create-response";
import { loadConfig } from "../config";
import { sealForLaterWork } from "../tenants/store";
import { responseIndexFor } from "../tracker/stubs";
import { keptResponseHeaders, upstreamFetch } from "../upstream/fetch";
import { withoutDomainSecrets } from "../upstream/domain-secrets";
import { passError, stripOutputs, type UpstreamResponse } from "./responses";
import { resumeStream } from "./responses-stream";
import { waitMsHeader } from "./wait-header";

export const responsesRead = new Hono<AppEnv>();

const TERMINAL = new Set(["completed", "failed", "cancelled", "incomplete"]);
const ID = /^resp_[A-Za-z0-9_-]{1,200}$/;

function checkId(id: string) {
  if (!ID.test(id)) throw notFound(`No response found with id '${id.slice(0, 100)}'.`, "response_not_found");
}

responsesRead.get("/v1/responses/:id/files", async (c) => {
  const id = c.req.param("id");
  checkId(id);
  const wait = waitMsHeader(c, 0);
  const info = await responseIndexFor(c.env, id).info(c.get("tenant"));
  if (!info) throw notFound(`No response found with id '${id}'.`, "response_not_found");
  const naming = namingFor(c.get("config"), c.get("tenant"), id, linkExpiry(c.get("caller"), info.createdAt));
  return c.json({ object: "list", response_id: id, data: await manifestOf(c.env, info, naming, wait) });
});

responsesRead.get("/v1/responses/:id", async (c) => {
  const id = c.req.param("id");
  checkId(id);
  const url = new URL(c.req.url);
  const include = url.searchParams.getAll("include[]").concat(url.searchParams.getAll("include"));
  const clientWantsOutputs = include.includes(OUTPUTS_INCLUDE);
  if (!clientWantsOutputs) url.searchParams.append("include[]", OUTPUTS_INCLUDE);
  // A resumed stream is re-read from its first event: the link state machine must see every
  // delta, or it could start in the middle of a link. Events up to the cursor are dropped here.
  const startingAfter = Number(url.searchParams.get("starting_after") ?? "-1");
  url.searchParams.delete("starting_after");
  const upstream = await upstreamFetch(c.get("config"), { method: "GET", path: `/responses/${id}${url.search}`, headers: c.req.raw.headers });
  if (!upstream.ok) return passError(upstream);
  const tenant = c.get("tenant");
  const options = { tenant, clientWantsOutputs, waitMs: 0, upstreamKeySealed: await sealForLaterWork(loadConfig(c.env), c.get("caller")) };
  if (url.searchParams.get("stream") === "true") {
    return resumeStream(c, upstream, options, startingAfter);
  }

  const response = (await upstream.json()) as UpstreamResponse;
  const linksExpireAt = linkExpiry(c.get("caller"), response.created_at);
  const naming = namingFor(c.get("config"), tenant, id, linksExpireAt);
  const index = responseIndexFor(c.env, id);
  let info = await index.info(tenant);
  // A background response seen finished here first is harvested once; after that a read only
  // reports, because every listing may refresh the container's last_active_at (and its bill).
  if (!info && TERMINAL.has(response.status ?? "")) {
    await harvest(c.env, response, naming, { ...options, linksExpireAt, previousResponseId: response.previous_response_id ?? undefined });
    info = await index.info(tenant);
  }
  const rewritten = await rewriteResponseObject(response, naming.name);
  if (!clientWantsOutputs) stripOutputs(rewritten);
  const files = info ? await manifestOf(c.env, info, naming) : [];
  const headers = keptResponseHeaders(upstream.headers);
  return c.json({ ...withoutDomainSecrets(rewritten), unsandbox: { files } }, 200, Object.fromEntries(headers));
});

responsesRead.get("/v1/responses/:id/input_items", async (c) => {
  const id = c.req.param("id");
  checkId(id);
  const url = new URL(c.req.url);
  const upstream = await upstreamFetch(c.get("config"), { method: "GET", path: `/responses/${id}/input_items${url.search}`, headers: c.req.raw.headers });
  if (!upstream.ok) return passError(upstream);
  const list = (await upstream.json()) as { data?: unknown[] };
  const info = await responseIndexFor(c.env, id).info(c.get("tenant"));
  const naming = namingFor(c.get("config"), c.get("tenant"), id, linkExpiry(c.get("caller"), info?.createdAt));
  if (Array.isArray(list.data)) list.data = await rewriteItems(list.data, naming.name);
  return c.json(list, 200, Object.fromEntries(keptResponseHeaders(upstream.headers)));
});
