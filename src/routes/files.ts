/**
 * @module routes/files
 * `GET`/`HEAD /files/<token>/<name>`: the download route. No bearer auth: the signed token is the
 * credential (see src/links/token.ts), and the name segment is only for humans.
 *
 * The token names a response and a path; the response index turns that into a file version and
 * the container tracker says where that version stands. Stored bytes are served from R2 with
 * real HTTP semantics (Range, If-Range, If-None-Match, ETag). Every answer, errors included,
 * carries headers that keep a model-written file from acting as a page of ours: `nosniff`,
 * `Content-Security-Policy: sandbox`, `Referrer-Policy: no-referrer`, `X-Robots-Tag: noindex`.
 */
import { Hono, type Context } from "hono";
import type { AppEnv } from "../app";
import { contentDisposition } from "../http/content-disposition";
import { isInlineSafe } from "../http/content-type";
import { contentRange, ifRangeAllows, noneMatchHits, parseRange, unsatisfiedRange } from "../http/range";
import { verifyLink } from "../links/token";
import { responseIndexFor, trackerFor } from "../tracker/stubs";
import type { FileRecord, PathResolution } from "../tracker/types";

/** How long a download waits for a file that is still being harvested or copied before answering 503. */
export const COPY_WAIT_MS = 8_000;
/** What a 503 tells the client to wait before trying again (seconds). */
export const RETRY_AFTER_S = 5;

const SAFETY_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "content-security-policy": "sandbox",
  "referrer-policy": "no-referrer",
  "x-robots-tag": "noindex",
};

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Browsers get a short page, API clients OpenAI's error JSON (chosen by `Accept`). */
function refuse(c: Context<AppEnv>, status: 403 | 404 | 410 | 502 | 503, code: string, title: string, message: string, extra: Record<string, string> = {}): Response {
  const headers = new Headers({ ...SAFETY_HEADERS, "cache-control": "no-store", ...extra });
  const wantsHtml = (c.req.header("accept") ?? "").includes("text/html");
  const type = status === 403 ? "permission_error" : status === 404 || status === 410 ? "not_found_error" : "server_error";
  let body: string;
  if (wantsHtml) {
    headers.set("content-type", "text/html; charset=utf-8");
    body = `<!doctype html><html lang="en"><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
      `<body style="font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em">` +
      `<h1 style="font-size:1.3em">${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p><p style="color:#666">${escapeHtml(code)}</p></body></html>`;
  } else {
    headers.set("content-type", "application/json");
    body = JSON.stringify({ error: { message, type, param: null, code } });
  }
  return new Response(c.req.method === "HEAD" ? null : body, { status, headers });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves the link, waiting (bounded) while the response's harvest is still running. */
async function resolveLink(c: Context<AppEnv>, tenant: string, responseId: string, path: string, deadline: number): Promise<PathResolution> {
  const index = responseIndexFor(c.env, responseId);
  for (;;) {
    const r = await index.resolve({ tenant, path });
    if (r.kind !== "pending" || Date.now() >= deadline) return r;
    await sleep(Math.min(500, Math.max(0, deadline - Date.now())));
  }
}

function when(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
}

async function serve(c: Context<AppEnv>, file: FileRecord): Promise<Response> {
  const bucket = c.env.FILES;
  const head = await bucket.head(file.r2Key);
  if (!head) {
    return refuse(c, 410, "file_deleted", "This file is no longer available", "The stored copy of this file no longer exists.");
  }
  const size = head.size;
  const etag = head.httpEtag;
  const inline = isInlineSafe(file.contentType);
  const headers = new Headers({
    ...SAFETY_HEADERS,
    "content-type": file.contentType,
    "content-disposition": contentDisposition(inline ? "inline" : "attachment", file.filename),
    etag,
    "last-modified": head.uploaded.toUTCString(),
    "accept-ranges": "bytes",
    // A version's bytes never change, but the link is a credential: keep it out of shared caches.
    "cache-control": "private, max-age=3600",
    // Raster previews may be embedded by other sites (chat UIs); nothing else may be.
    "cross-origin-resource-policy": inline ? "cross-origin" : "same-origin",
  });
  if (noneMatchHits(c.req.header("if-none-match"), etag)) {
    for (const h of ["content-type", "content-disposition", "accept-ranges"]) headers.delete(h);
    return new Response(null, { status: 304, headers });
  }
  const range = ifRangeAllows(c.req.header("if-range"), etag, head.uploaded) ? parseRange(c.req.header("range"), size) : ({ kind: "full" } as const);
  if (range.kind === "unsatisfiable") {
    headers.set("content-range", unsatisfiedRange(size));
    headers.delete("content-type");
    headers.delete("content-disposition");
    return new Response(null, { status: 416, headers });
  }
  const isHead = c.req.method === "HEAD";
  if (range.kind === "partial") {
    headers.set("content-range", contentRange(range.offset, range.length, size));
    headers.set("content-length", String(range.length));
    if (isHead) return new Response(null, { status: 206, headers });
    const obj = await bucket.get(file.r2Key, { range: { offset: range.offset, length: range.length } });
    if (!obj) return refuse(c, 410, "file_deleted", "This file is no longer available", "The stored copy of this file no longer exists.");
    return new Response(obj.body, { status: 206, headers });
  }
  headers.set("content-length", String(size));
  if (isHead) return new Response(null, { status: 200, headers });
  const obj = await bucket.get(file.r2Key);
  if (!obj) return refuse(c, 410, "file_deleted", "This file is no longer available", "The stored copy of this file no longer exists.");
  return new Response(obj.body, { status: 200, headers });
}

/** The download route; mount with `app.route("/", filesRoute)`. Hono routes HEAD to the GET handler. */
export const filesRoute = new Hono<AppEnv>();

filesRoute.get("/files/:token/:name", async (c) => {
  const config = c.get("config");
  const verdict = await verifyLink(c.req.param("token"), config.LINK_SECRETS, Date.now());
  if (!verdict.ok) {
    return verdict.reason === "expired"
      ? refuse(c, 403, "link_expired", "This link has expired", "The download link has expired. Ask for the file again to get a fresh link.")
      : refuse(c, 403, "link_invalid", "This link is not valid", "The download link is not valid. Check that it was copied whole.");
  }
  const { tenant, responseId, path } = verdict.claims;
  c.set("tenant", tenant); // for the request log line and metering (bytes served)
  const deadline = Date.now() + COPY_WAIT_MS;
  const notProduced = () =>
    refuse(c, 404, "file_not_produced", "This file was never produced", `The model linked ${path.slice(path.lastIndexOf("/") + 1)}, but it never wrote that file, so there is nothing to download.`);
  const stillCopying = () =>
    refuse(c, 503, "file_not_ready", "This file is still being saved", `The file is still being copied. Try again in ${RETRY_AFTER_S} seconds.`, {
      "retry-after": String(RETRY_AFTER_S),
    });

  const r = await resolveLink(c, tenant, responseId, path, deadline);
  if (r.kind === "pending") return stillCopying();
  if (r.kind !== "file") return notProduced();

  const file = await trackerFor(c.env, r.containerId).waitForFile({ tenant, fileId: r.fileId, version: r.version }, Math.max(0, deadline - Date.now()));
  if (!file) return notProduced();
  switch (file.state) {
    case "stored":
      return serve(c, file);
    case "pending":
    case "copying":
      return stillCopying();
    case "missing":
      return notProduced();
    case "skipped":
      // Beyond a limit (README "Limits"): it existed, unsandbox chose not to keep it, and says why.
      return refuse(c, 410, "file_skipped", "This file was not saved", `The file was not saved: ${file.reason ?? "a storage limit applied"}.`);
    case "lost":
      return refuse(c, 410, "file_lost", "This file was lost", `It could not be saved: ${file.reason ?? "the container was gone"} (noticed at ${when(file.stateAt)}).`);
    case "deleted":
      // The reason reads "deleted by retention on <date>" or "deleted on request on <date>".
      return refuse(c, 410, "file_deleted", "This file was deleted", file.reason ? `This file was ${file.reason}.` : `The file was deleted at ${when(file.stateAt)}.`);
    case "failed":
      return refuse(c, 502, "file_copy_failed", "This file could not be saved", `Copying the file from the container failed (${file.reason ?? "unknown error"}).`);
    case "unavailable":
      return refuse(c, 502, "file_unavailable", "This file cannot be saved", `The file could not be copied: ${file.reason ?? "the upstream offers no Containers API"}.`);
  }
});
