/**
 * @module routes/files
 * `GET`/`HEAD /files/<token>/<name>`: the download route. No bearer auth: the signed token is the
 * credential (see src/links/token.ts), and the name segment is only for humans.
 *
 * The token names a response and a path; harvest/download-cache.ts turns that into a file version
 * and its state (through harvest/resolve-link.ts the first time, then from the location's cache
 * for a stored file: a warm download is one R2 `get` and no Durable Object call). Stored bytes
 * are served by http/serve-object.ts (Range, If-Range, If-None-Match, ETag). Every answer, errors
 * included, carries headers that keep a model-written file from acting as a page of ours:
 * `nosniff`, `Content-Security-Policy: sandbox`, `Referrer-Policy: no-referrer`,
 * `X-Robots-Tag: noindex`.
 *
 * Takedowns (storage/tombstones.ts) are checked on every download, on the decoded and verified
 * claims this route acts on, never on the raw URL: the link's own tombstone, and the stored
 * object's (by R2 key and by content), so every link to taken-down bytes answers 410
 * `file_taken_down`, links minted after the takedown included.
 */
import { Hono, type Context } from "hono";
import type { AppEnv } from "../app";
import { forgetDownload, resolveDownload } from "../harvest/download-cache";
import { SAFETY_HEADERS, serveObject } from "../http/serve-object";
import { verifyLinkCached } from "../links/token";
import type { TombstoneRecord } from "../storage/tombstones";

/** How long a download waits for a file that is still being harvested or copied before answering 503. */
export const COPY_WAIT_MS = 8_000;
/** What a 503 tells the client to wait before trying again (seconds). */
export const RETRY_AFTER_S = 5;

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Browsers get a short page, API clients OpenAI's error JSON (chosen by `Accept`). */
function refuse(
  c: Context<AppEnv>,
  status: 403 | 404 | 410 | 502 | 503,
  code: string,
  title: string,
  message: string,
  extra: Record<string, string> = {},
): Response {
  const headers = new Headers({ ...SAFETY_HEADERS, "cache-control": "no-store", ...extra });
  const wantsHtml = (c.req.header("accept") ?? "").includes("text/html");
  const type =
    status === 403 ? "permission_error" : status === 404 || status === 410 ? "not_found_error" : "server_error";
  let body: string;
  if (wantsHtml) {
    headers.set("content-type", "text/html; charset=utf-8");
    body =
      `<!doctype html><html lang="en"><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
      `<body style="font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em">` +
      `<h1 style="font-size:1.3em">${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p><p style="color:#666">${escapeHtml(code)}</p></body></html>`;
  } else {
    headers.set("content-type", "application/json");
    body = JSON.stringify({ error: { message, type, param: null, code } });
  }
  return new Response(c.req.method === "HEAD" ? null : body, { status, headers });
}

function when(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
}

const gone = (c: Context<AppEnv>) =>
  refuse(c, 410, "file_deleted", "This file is no longer available", "The stored copy of this file no longer exists.");

const takenDown = (c: Context<AppEnv>, stone: TombstoneRecord) =>
  refuse(c, 410, "file_taken_down", "This file was taken down", `This file was taken down (${stone.reason}).`);

/** The download route; mount with `app.route("/", filesRoute)`. Hono routes HEAD to the GET handler. */
export const filesRoute = new Hono<AppEnv>();

filesRoute.get("/files/:token/:name", async (c) => {
  const config = c.get("config");
  const verdict = await verifyLinkCached(c.req.param("token"), config.LINK_SECRETS, Date.now());
  if (!verdict.ok) {
    return verdict.reason === "expired"
      ? refuse(
          c,
          403,
          "link_expired",
          "This link has expired",
          "The download link has expired. Ask for the file again to get a fresh link.",
        )
      : refuse(
          c,
          403,
          "link_invalid",
          "This link is not valid",
          "The download link is not valid. Check that it was copied whole.",
        );
  }
  const { tenant, responseId, path } = verdict.claims;
  const link = { tenant, responseId, path };
  c.set("tenant", tenant); // for the request log line and metering (bytes served)
  const notProduced = () =>
    refuse(
      c,
      404,
      "file_not_produced",
      "This file was never produced",
      `The model linked ${path.slice(path.lastIndexOf("/") + 1)}, but it never wrote that file, so there is nothing to download.`,
    );
  const stillCopying = () =>
    refuse(
      c,
      503,
      "file_not_ready",
      "This file is still being saved",
      `The file is still being copied. Try again in ${RETRY_AFTER_S} seconds.`,
      {
        "retry-after": String(RETRY_AFTER_S),
      },
    );

  let d = await resolveDownload(c.env, link, COPY_WAIT_MS);
  if (d.kind === "stored" && d.cached) {
    const res = await serveObject(c.env.FILES, d.entry.object, c.req, d.entry.meta);
    if (res) return res;
    // R2 no longer holds those bytes (deleted since): resolve again, to say why.
    await forgetDownload(link);
    d = await resolveDownload(c.env, link, COPY_WAIT_MS);
  }
  if (d.kind === "taken_down") return takenDown(c, d.stone);
  if (d.kind === "pending") return stillCopying();
  if (d.kind === "not_produced") return notProduced();
  if (d.kind === "gone") return gone(c);
  if (d.kind === "stored") return (await serveObject(c.env.FILES, d.entry.object, c.req, d.entry.meta)) ?? gone(c);
  const { file } = d;
  switch (file.state) {
    case "stored":
      return gone(c); // never: a stored file resolves as `stored` or `gone`
    case "pending":
    case "copying":
      return stillCopying();
    case "missing":
      return notProduced();
    case "skipped":
      // Beyond a limit (README "Limits"): it existed, unsandbox chose not to keep it, and says why.
      return refuse(
        c,
        410,
        "file_skipped",
        "This file was not saved",
        `The file was not saved: ${file.reason ?? "a storage limit applied"}.`,
      );
    case "lost":
      return refuse(
        c,
        410,
        "file_lost",
        "This file was lost",
        `It could not be saved: ${file.reason ?? "the container was gone"} (noticed at ${when(file.stateAt)}).`,
      );
    case "deleted":
      // The reason reads "deleted by retention on <date>" or "deleted on request on <date>".
      return refuse(
        c,
        410,
        "file_deleted",
        "This file was deleted",
        file.reason ? `This file was ${file.reason}.` : `The file was deleted at ${when(file.stateAt)}.`,
      );
    case "failed":
      return refuse(
        c,
        502,
        "file_copy_failed",
        "This file could not be saved",
        `Copying the file from the container failed (${file.reason ?? "unknown error"}).`,
      );
    case "unavailable":
      return refuse(
        c,
        502,
        "file_unavailable",
        "This file cannot be saved",
        `The file could not be copied: ${file.reason ?? "the upstream offers no Containers API"}.`,
      );
  }
});
