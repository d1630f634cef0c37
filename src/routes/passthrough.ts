/**
 * @module routes/passthrough
 * Single-tenant mode: every `/v1/*` route unsandbox does not handle itself goes to the upstream
 * with the upstream key, so the rest of an app (models, embeddings, files…) keeps working. The
 * body streams both ways; nothing is buffered. Publishable keys never get here: every route they
 * may use is one of unsandbox's own, where their checks and limits run, so a request of theirs
 * that no own route matched (another spelling of a path) is refused rather than forwarded.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app";
import { getCaller } from "../auth/caller";
import { UnsandboxError } from "../errors";
import { keptResponseHeaders, upstreamFetch } from "../upstream/fetch";

export const passthrough = new Hono<AppEnv>();

passthrough.all("/v1/*", async (c) => {
  if (getCaller(c).kind === "publishable") {
    throw new UnsandboxError(403, "Publishable keys can only create responses and read their own.", {
      code: "publishable_key_not_allowed",
    });
  }
  const url = new URL(c.req.url);
  const upstream = await upstreamFetch(c.get("config"), {
    method: c.req.method,
    path: url.pathname.slice("/v1".length) + url.search,
    headers: c.req.raw.headers,
    body: c.req.method === "GET" || c.req.method === "HEAD" ? null : c.req.raw.body,
  });
  const headers = keptResponseHeaders(upstream.headers);
  const disposition = upstream.headers.get("content-disposition");
  if (disposition) headers.set("content-disposition", disposition);
  // fetch() has already decoded a compressed body, so its Content-Length would be the wrong one.
  const length = upstream.headers.get("content-length");
  if (length && !upstream.headers.has("content-encoding")) headers.set("content-length", length);
  return new Response(upstream.body, { status: upstream.status, headers });
});
