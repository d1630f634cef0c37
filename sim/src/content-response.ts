/**
 * @module content-response
 * `GET /v1/containers/{id}/files/{file_id}/content` as real traffic shows it: `Content-Length`,
 * no `Content-Type`, `Content-Disposition: attachment; filename="file.<ext>"; filename*=UTF-8''…`
 * (placeholder ASCII name), `Range` ignored, gzip when `Accept-Encoding` allows it. Each of those
 * is a quirk with a switch (see quirks.ts).
 */
import { contentStream, extOf } from "./content";
import { SimError } from "./errors";
import { applyBodyFaults, checkStatusFault, takeBodyFaults } from "./faults";
import type { Quirks } from "./quirks";
import { bump, state, type SimContainer, type SimFile } from "./state";

const MIME: Record<string, string> = {
  pdf: "application/pdf",
  png: "image/png",
  csv: "text/csv",
  txt: "text/plain",
  md: "text/markdown",
  json: "application/json",
};

/** RFC 6266 / 5987 header: placeholder or sanitised ASCII name plus the real name in `filename*`. */
export function contentDisposition(path: string, placeholder: boolean): string {
  const name = path.slice(path.lastIndexOf("/") + 1);
  const ext = extOf(path);
  const ascii = placeholder ? `file${ext ? `.${ext}` : ""}` : name.replace(/[^\x20-\x7e]|["\\]/g, "_");
  const star = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${star}`;
}

/** Whether `Accept-Encoding` admits gzip (q > 0). */
export function acceptsGzip(header: string | null): boolean {
  if (!header) return false;
  return header.split(",").some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(";");
    if (coding !== "gzip" && coding !== "*") return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    return !q || Number(q.slice(2)) > 0;
  });
}

/**
 * The `Accept-Encoding` the client sent. In front of a Worker (Cloudflare, and `wrangler dev`'s
 * entry worker alike) the header is replaced by `br, gzip` and the client's own value is kept in
 * `request.cf.clientAcceptEncoding` ("" when it sent none); the real API sees the client's value,
 * so that is the one the gzip quirk follows. Without a `cf` object (a service binding, the tests'
 * auxiliary worker) the header is what the client sent.
 */
export function clientAcceptEncoding(req: Request): string | null {
  const original = (req.cf as { clientAcceptEncoding?: unknown } | undefined)?.clientAcceptEncoding;
  if (typeof original === "string") return original || null;
  return req.headers.get("accept-encoding");
}

/** Parses one `bytes=a-b` / `bytes=a-` / `bytes=-n` range; null when absent or multi-range. */
export function parseRange(
  header: string | null,
  size: number,
): { start: number; end: number } | "unsatisfiable" | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return null;
  let start: number;
  let end: number;
  if (m[1] === "") {
    const n = Number(m[2]);
    if (n === 0) return "unsatisfiable";
    start = Math.max(0, size - n);
    end = size;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size : Math.min(size, Number(m[2]) + 1);
    if (m[2] !== "" && Number(m[2]) < start) return null;
  }
  if (start >= size) return "unsatisfiable";
  return { start, end };
}

/** Builds the content response for a file (the container was checked live by the caller). */
export function contentResponse(req: Request, c: SimContainer, f: SimFile, q: Quirks): Response {
  checkStatusFault("content", c.id, f.id);
  bump(state.counters.content_fetches, f.id);
  if (f.body.kind === "junk") throw new SimError(404, `File ${f.id} not found on container ${c.id}.`);

  const headers = new Headers();
  headers.set("content-disposition", contentDisposition(f.path, q.placeholder_filename));
  if (!q.no_content_type) headers.set("content-type", MIME[extOf(f.path)] ?? "application/octet-stream");

  let start = 0;
  let end = f.size;
  let status = 200;
  if (q.honour_range) {
    headers.set("accept-ranges", "bytes");
    const range = parseRange(req.headers.get("range"), f.size);
    if (range === "unsatisfiable") {
      headers.set("content-range", `bytes */${f.size}`);
      return new Response(null, { status: 416, headers });
    }
    if (range) {
      ({ start, end } = range);
      status = 206;
      headers.set("content-range", `bytes ${start}-${end - 1}/${f.size}`);
    }
  }

  const body = applyBodyFaults(contentStream(f, start, end), takeBodyFaults(c.id, f.id), c);
  const gzip = q.force_gzip || (q.gzip && acceptsGzip(clientAcceptEncoding(req)));
  if (gzip) {
    // Compressed by us, so `encodeBody: "manual"` stops workerd from compressing it again.
    headers.set("content-encoding", "gzip");
    return new Response(body.pipeThrough(new CompressionStream("gzip")), { status, headers, encodeBody: "manual" });
  }
  // A FixedLengthStream gives the body a known length, so workerd sends Content-Length.
  // The explicit header keeps it visible across a service binding too.
  const fixed = new FixedLengthStream(end - start);
  body.pipeTo(fixed.writable).catch(() => {});
  headers.set("content-length", String(end - start));
  return new Response(fixed.readable, { status, headers });
}
