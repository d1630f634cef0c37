/**
 * @module http/range
 * Pure parsing of the request headers that shape a download: `Range` (RFC 9110 §14.2),
 * `If-Range` (§13.1.5) and `If-None-Match` (§13.1.2). The route turns the results into R2
 * `get` options and status codes; nothing here does I/O.
 */

/** What a `Range` header asks of a representation of `size` bytes. */
export type RangeRequest =
  /** No usable range: serve the whole representation with 200. */
  | { kind: "full" }
  /** One satisfiable range, already clamped to the representation: serve it with 206. */
  | { kind: "partial"; offset: number; length: number }
  /** Syntactically valid but no byte of it exists: 416 with `Content-Range: bytes *\/size`. */
  | { kind: "unsatisfiable" };

const SPEC = /^\s*(\d*)\s*-\s*(\d*)\s*$/;

/**
 * Parses a `Range` header against a known size.
 *
 * Only a single `bytes` range is honoured. RFC 9110 §14.2 lets a server ignore a Range header it
 * does not want to serve, so several ranges (which would need `multipart/byteranges`), other units
 * and malformed headers all fall back to the full body rather than an error.
 */
export function parseRange(header: string | null | undefined, size: number): RangeRequest {
  if (!header) return { kind: "full" };
  const eq = header.indexOf("=");
  if (eq < 0 || header.slice(0, eq).trim().toLowerCase() !== "bytes") return { kind: "full" };
  const specs = header.slice(eq + 1).split(",");
  if (specs.length !== 1) return { kind: "full" };
  const m = SPEC.exec(specs[0]!);
  if (!m) return { kind: "full" };
  const [, first, last] = m as unknown as [string, string, string];
  if (first === "" && last === "") return { kind: "full" };

  if (first === "") {
    // Suffix range `bytes=-N`: the last N bytes; N = 0 selects nothing (§14.1.3).
    const suffix = Number(last);
    if (!Number.isSafeInteger(suffix)) return { kind: "full" };
    if (suffix === 0 || size === 0) return { kind: "unsatisfiable" };
    const length = Math.min(suffix, size);
    return { kind: "partial", offset: size - length, length };
  }

  const start = Number(first);
  if (!Number.isSafeInteger(start)) return { kind: "full" };
  let end = last === "" ? size - 1 : Number(last);
  if (!Number.isSafeInteger(end)) end = size - 1;
  // `last < first` makes the spec invalid, which is ignored like any other bad syntax (§14.1.1).
  if (last !== "" && end < start) return { kind: "full" };
  if (start >= size) return { kind: "unsatisfiable" };
  end = Math.min(end, size - 1);
  return { kind: "partial", offset: start, length: end - start + 1 };
}

/** `Content-Range` for a served part, e.g. `bytes 0-0/10`. */
export function contentRange(offset: number, length: number, size: number): string {
  return `bytes ${offset}-${offset + length - 1}/${size}`;
}

/** `Content-Range` for a 416 answer, e.g. `bytes *\/10`. */
export function unsatisfiedRange(size: number): string {
  return `bytes */${size}`;
}

/** Splits an entity-tag list (`"a", W/"b"`) into its tags, keeping the quotes and weakness prefix. */
function parseTags(header: string): string[] {
  return header.match(/(?:W\/)?"[^"]*"/g) ?? [];
}

const opaque = (tag: string) => (tag.startsWith("W/") ? tag.slice(2) : tag);

/**
 * True when `If-None-Match` matches the current ETag, i.e. the answer is 304 for GET/HEAD.
 * Uses the weak comparison that §13.1.2 prescribes for this header.
 */
export function noneMatchHits(header: string | null | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === "*") return true;
  return parseTags(header).some((t) => opaque(t) === opaque(etag));
}

/**
 * True when the `Range` may be honoured under `If-Range`: no `If-Range`, a strongly matching
 * ETag, or an HTTP-date equal to the representation's Last-Modified (§13.1.5). A mismatch means
 * the client's copy is stale, so it gets the whole representation with 200.
 */
export function ifRangeAllows(header: string | null | undefined, etag: string, lastModified: Date): boolean {
  if (!header) return true;
  const value = header.trim();
  if (value.startsWith('"') || value.startsWith("W/")) {
    // A weak validator never matches in If-Range: strong comparison only.
    return !value.startsWith("W/") && !etag.startsWith("W/") && value === etag;
  }
  const when = Date.parse(value);
  return Number.isFinite(when) && Math.floor(when / 1000) === Math.floor(lastModified.getTime() / 1000);
}
