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

/** What R2 says about stored bytes: all an answer's headers need besides the object's own. */
export interface ObjectMeta {
  size: number;
  /** R2's `httpEtag` (strong, quoted). */
  etag: string;
  /** Upload time, ms since epoch. */
  uploaded: number;
}

/** The metadata of an R2 object (from a `head` or a `get`). */
export const metaOf = (o: R2Object): ObjectMeta => ({ size: o.size, etag: o.httpEtag, uploaded: o.uploaded.getTime() });

/**
 * The headers of an object's answers, made once per held `meta` (a download resolved before keeps
 * the same object across requests: harvest/download-cache.ts), so a popular link does not encode
 * its file name and date on every download.
 */
const headerSets = new WeakMap<ObjectMeta, { object: StoredObject; headers: Record<string, string> }>();

function headersFor(object: StoredObject, meta: ObjectMeta): Headers {
  const held = headerSets.get(meta);
  if (held?.object === object) return new Headers(held.headers);
  const headers = headerRecord(object, meta);
  headerSets.set(meta, { object, headers });
  return new Headers(headers);
}

function headerRecord(object: StoredObject, meta: ObjectMeta): Record<string, string> {
  const inline = isInlineSafe(object.contentType);
  return {
    ...SAFETY_HEADERS,
    "content-type": object.contentType,
    "content-disposition": contentDisposition(inline ? "inline" : "attachment", object.filename),
    etag: meta.etag,
    "last-modified": new Date(meta.uploaded).toUTCString(),
    "accept-ranges": "bytes",
    // Stored bytes never change, but whoever may read them is a credential: keep them out of shared caches.
    "cache-control": "private, max-age=3600",
    // Raster previews may be embedded by other sites (chat UIs); nothing else may be.
    "cross-origin-resource-policy": inline ? "cross-origin" : "same-origin",
  };
}

/** A plain GET: the whole body, whatever the object's validators. */
const wantsWhole = (req: ObjectRequest) =>
  req.method !== "HEAD" && !req.header("range") && !req.header("if-none-match");

/**
 * Serves `object` from `bucket`, or returns null when the key holds nothing (the caller decides
 * what a vanished object means: 410 for a link, a fallback upstream for container files).
 *
 * One R2 operation when the object's metadata is `known` (a download resolved before,
 * harvest/download-cache.ts): a `get` (with its range) for an answer with a body, a `head` for one
 * without (`HEAD`, 304, 416), so a deleted object is noticed at once either way; when the
 * metadata `known` no longer matches the object's, null too (resolve again). Unknown metadata: a
 * plain GET is one `get` (its metadata comes with the body), anything else a `head` and then at
 * most one `get`.
 * @example
 * const res = await serveObject(c.env.FILES, { r2Key, contentType, filename }, c.req);
 * if (!res) return refuse(c, 410, "file_deleted", …);
 */
export async function serveObject(
  bucket: R2Bucket,
  object: StoredObject,
  req: ObjectRequest,
  known?: ObjectMeta,
): Promise<Response | null> {
  if (!known && wantsWhole(req)) {
    const obj = await bucket.get(object.r2Key);
    if (!obj) return null;
    const headers = headersFor(object, metaOf(obj));
    headers.set("content-length", String(obj.size));
    return new Response(obj.body, { status: 200, headers });
  }
  let meta = known;
  if (!meta) {
    const head = await bucket.head(object.r2Key);
    if (!head) return null;
    meta = metaOf(head);
  }
  const { size, etag } = meta;
  const headers = headersFor(object, meta);
  /** An answer without a body: from known metadata, a `head` first says the object is still there. */
  const bare = async (status: number) => {
    if (known && (await bucket.head(object.r2Key))?.httpEtag !== etag) return null;
    return new Response(null, { status, headers });
  };
  if (noneMatchHits(req.header("if-none-match"), etag)) {
    for (const h of ["content-type", "content-disposition", "accept-ranges"]) headers.delete(h);
    return bare(304);
  }
  const range = ifRangeAllows(req.header("if-range"), etag, new Date(meta.uploaded))
    ? parseRange(req.header("range"), size)
    : ({ kind: "full" } as const);
  if (range.kind === "unsatisfiable") {
    headers.set("content-range", unsatisfiedRange(size));
    headers.delete("content-type");
    headers.delete("content-disposition");
    return bare(416);
  }
  const partial = range.kind === "partial";
  if (partial) headers.set("content-range", contentRange(range.offset, range.length, size));
  headers.set("content-length", String(partial ? range.length : size));
  const status = partial ? 206 : 200;
  if (req.method === "HEAD") return bare(status);
  const obj = await bucket.get(
    object.r2Key,
    partial ? { range: { offset: range.offset, length: range.length } } : undefined,
  );
  if (!obj) return null;
  if (obj.httpEtag !== etag) {
    // Not the bytes these headers describe (keys are written once, so only if the object was
    // replaced meanwhile): the caller resolves again.
    await obj.body.cancel();
    return null;
  }
  return new Response(obj.body, { status, headers });
}
