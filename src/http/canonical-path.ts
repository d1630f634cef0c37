/**
 * @module http/canonical-path
 * The one spelling a `/v1/…` or `/files/…` path may have. Pure.
 *
 * The router matches the percent-decoded path (Hono decodes `%72` to `r` before matching), so a
 * path spelled `/v1/%72esponses` runs the `/v1/responses` route while any check reading the raw
 * URL sees something else. Rather than teach every check every spelling, the front door
 * (http/front-door.ts) refuses every spelling but the canonical one before anything runs: ids and
 * route words never need percent-encoding, so a `/v1` path is canonical only when it is written
 * with the characters ids and route words use, with no empty segment (`//`, a trailing slash:
 * no `/v1` route has one), no dot segment and no `%` at all. A download path is
 * `/files/<token>/<name>`: the token is base64url, and the name is exactly what the service
 * itself writes (`encodeFileName` in links/token.ts: unreserved characters as they are,
 * everything else `%XX` in upper case, RFC 3986 §2.1 and §6.2.2), so every URL unsandbox issues
 * passes and nothing else that decodes to the same name does.
 *
 * WHATWG URL parsing already resolves `.`/`..` segments (including `%2e` spellings) before a
 * Worker sees the URL, so dot segments are refused here only as a second line.
 * https://url.spec.whatwg.org/#path-state , https://www.rfc-editor.org/rfc/rfc3986#section-6.2.2
 */
import { encodeFileName } from "../links/token";

/** Why a path is not canonical (a sentence for the error message), or null when it is. */
export type Verdict = { ok: true } | { ok: false; reason: string };

/** The characters of ids and route words in `/v1` paths (what auth/route-policy.ts accepts). */
const V1_SEGMENT = /^[A-Za-z0-9_.:-]+$/;
/** A download token: base64url (links/token.ts). */
const TOKEN_SEGMENT = /^[A-Za-z0-9_-]+$/;

const OK: Verdict = { ok: true };
const refuse = (reason: string): Verdict => ({ ok: false, reason });

/**
 * Which guarded surface a raw path reaches once decoded the way any router might decode it
 * (percent-decoding up to twice, case folded, repeated slashes and dot segments collapsed), or
 * null for paths outside `/v1` and `/files`. Linear in the path's length.
 */
export function scopeOf(rawPath: string): "v1" | "files" | null {
  let p = rawPath;
  for (let i = 0; i < 2 && p.includes("%"); i++)
    p = p.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  const segs: string[] = [];
  for (const s of p.replace(/\\/g, "/").split("/")) {
    if (s === "" || s === ".") continue;
    if (s === "..") segs.pop();
    else segs.push(s.toLowerCase());
  }
  if (segs[0] === "v1") return "v1";
  if (segs[0] === "files") return "files";
  return null;
}

/**
 * Whether the raw pathname (as in `new URL(request.url).pathname`) is the canonical spelling.
 * Paths outside `/v1` and `/files` are not judged here.
 * @example canonicalVerdict("/v1/%72esponses") // { ok: false, reason: "…" }
 */
export function canonicalVerdict(rawPath: string): Verdict {
  const scope = scopeOf(rawPath);
  if (!scope) return OK;
  const segs = rawPath.split("/").slice(1);
  if (segs[0] !== scope) return refuse(`the path must start with /${scope}/ exactly as written here`);
  for (let i = 1; i < segs.length; i++) {
    const s = segs[i]!;
    if (s === "")
      return refuse(i === segs.length - 1 ? "no route ends with a slash" : "the path has an empty segment (//)");
    if (s === "." || s === "..") return refuse("the path has a dot segment");
  }
  if (scope === "v1") {
    for (const s of segs)
      if (!V1_SEGMENT.test(s))
        return refuse(
          "route words and ids are never percent-encoded and contain only letters, digits, '_', '-', '.' and ':'",
        );
    return OK;
  }
  if (segs.length > 1 && !TOKEN_SEGMENT.test(segs[1]!)) return refuse("a download token is never percent-encoded");
  for (const s of segs.slice(2))
    if (!isCanonicalName(s)) return refuse("the file name is not spelled the way download links spell it");
  return OK;
}

/** Whether `raw` is the name segment `encodeFileName` writes for the name it decodes to. */
export function isCanonicalName(raw: string): boolean {
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return false;
  }
  // A name is one path segment: a decoded '/' would be a second one to any other reader.
  return !decoded.includes("/") && encodeFileName(decoded) === raw;
}
