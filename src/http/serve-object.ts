/**
 * @module http/serve-object
 * The one way unsandbox serves stored bytes from R2: the download route (`/files/<token>/<name>`)
 * and the container-file content route (`/v1/containers/{id}/files/{id}/content`) both answer
 * through here, so both get the same HTTP semantics and the same safety headers.
 *
 * Semantics: a single byte `Range` (206, or 416 with `Content-Range: bytes *\/size`), `If-Range`
 * and `If-None-Match` (304) per RFC 9110 (parsing in http/range.ts), `ETag` and `Last-Modified`
 * from R2's own metadata, `HEAD` without a body. Safety: a model-written file must never act as
 * a page of ours, so every answer carries `nosniff`, `Content-Security-Policy: sandbox`, no
 * referrer, `noindex`; only media types that are safe to render inline (http/content-type.ts)
 * are served `inline`, everything else as an attachment.
 */
import { contentDisposition } from "./content-disposition";
import { isInlineSafe } from "./content-type";
import { contentRange, ifRangeAllows, noneMatchHits, parseRange, unsatisfiedRange } from "./range";

/** Headers on every answer about stored bytes, errors included. */
export const SAFETY_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "content-security-policy": "sandbox",
  "referrer-policy": "no-referrer",
  "x-robots-tag": "noindex",
};

/** What to serve: an R2 key and how to present its bytes. */
export interface StoredObject {
  r2Key: string;
  contentType: string;
  /** The name offered for "save as". */
  filename: string;
}

/** The request headers that shape the answer. */
export interface ObjectRequest {
  method: string;
  header(name: string): string | undefined;
}

/**
 * Serves `object` from `bucket`, or returns null when the key holds nothing (the caller decides
 * what a vanished object means: 410 for a link, a fallback upstream for container files).
 * @example
 * const res = await serveObject(c.env.FILES, { r2Key, contentType, filename }, c.req);
 * if (!res) return refuse(c, 410, "file_deleted", …);
 */
export async function serveObject(
  bucket: R2Bucket,
  object: StoredObject,
  req: ObjectRequest,
): Promise<Response | null> {
  const head = await bucket.head(object.r2Key);
  if (!head) return null;
  const size = head.size;
  const etag = head.httpEtag;
  const inline = isInlineSafe(object.contentType);
  const headers = new Headers({
    ...SAFETY_HEADERS,
    "content-type": object.contentType,
    "content-disposition": contentDisposition(inline ? "inline" : "attachment", object.filename),
    etag,
    "last-modified": head.uploaded.toUTCString(),
    "accept-ranges": "bytes",
    // Stored bytes never change, but whoever may read them is a credential: keep them out of shared caches.
    "cache-control": "private, max-age=3600",
    // Raster previews may be embedded by other sites (chat UIs); nothing else may be.
    "cross-origin-resource-policy": inline ? "cross-origin" : "same-origin",
  });
  if (noneMatchHits(req.header("if-none-match"), etag)) {
    for (const h of ["content-type", "content-disposition", "accept-ranges"]) headers.delete(h);
    return new Response(null, { status: 304, headers });
  }
  const range = ifRangeAllows(req.header("if-range"), etag, head.uploaded)
    ? parseRange(req.header("range"), size)
    : ({ kind: "full" } as const);
  if (range.kind === "unsatisfiable") {
    headers.set("content-range", unsatisfiedRange(size));
    headers.delete("content-type");
    headers.delete("content-disposition");
    return new Response(null, { status: 416, headers });
  }
  const isHead = req.method === "HEAD";
  if (range.kind === "partial") {
    headers.set("content-range", contentRange(range.offset, range.length, size));
    headers.set("content-length", String(range.length));
    if (isHead) return new Response(null, { status: 206, headers });
    const obj = await bucket.get(object.r2Key, { range: { offset: range.offset, length: range.length } });
    return obj ? new Response(obj.body, { status: 206, headers }) : null;
  }
  headers.set("content-length", String(size));
  if (isHead) return new Response(null, { status: 200, headers });
  const obj = await bucket.get(object.r2Key);
  return obj ? new Response(obj.body, { status: 200, headers }) : null;
}
