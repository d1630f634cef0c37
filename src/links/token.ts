/**
 * @module links/token
 * Download-link tokens: what a `/files/<token>/<name>` URL names, signed so nobody can forge one.
 *
 * A link streams out before the file id exists (annotations come after the text, sometimes the
 * file is only listed later), so the token names only what is known at that moment: the tenant,
 * the response id and the container path (plus the container id when known and an optional
 * expiry). The Response index maps that to a file version later.
 *
 * Wire format (then base64url without padding, so the token uses only `[A-Za-z0-9_-]`):
 * ```
 * version(1 byte = 1) | flags(1) | str(tenant) | str(responseId) | str(path)
 *   | [str(containerId)] | [varint(expiresAt)] | [varint(variant)] | str(kid) | HMAC-SHA256(32)
 * ```
 * `str` is a varint byte length followed by UTF-8; `flags` bit 0 = containerId present, bit 1 =
 * expiresAt present, bit 2 = variant present. The MAC covers every byte before it, the key id
 * included, so a token cannot be moved to another key.
 */
import { fromBase64Url, toBase64Url } from "../encoding/base64url";

/** One signing key; `LINK_SECRETS` in src/config.ts parses to a list of these. */
export type LinkSecret = { kid: string; secret: string };

/** What a download link names. */
export interface LinkClaims {
  tenant: string;
  /** The `resp_…` id of the response that issued the link. */
  responseId: string;
  /** Canonical container path, `/mnt/data/<name>` (see `canonicalPath` in links/find.ts). */
  path: string;
  containerId?: string;
  /** Unix seconds after which the link is refused. */
  expiresAt?: number;
  /**
   * Tells apart links of one response whose destinations were written differently but name the
   * same path (`sandbox:/x` and `sandbox:/mnt/data/x`), so each URL maps back to its own
   * original text. Absent (0) for the first spelling of a path.
   */
  variant?: number;
}

export type VerifyResult =
  | { ok: true; claims: LinkClaims; kid: string }
  | { ok: false; reason: "malformed" | "unknown_key" | "bad_signature" | "expired" };

const VERSION = 1;
const MAC_BYTES = 32;
const FLAG_CONTAINER = 1;
const FLAG_EXPIRES = 2;
const FLAG_VARIANT = 4;
/** Tokens longer than this are refused before any decoding work (paths are at most ~2 KB). */
const MAX_TOKEN_CHARS = 8192;

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Signs `claims` with the first secret.
 * @example
 * const token = await signLink({ tenant: "default", responseId: "resp_1", path: "/mnt/data/a.csv" }, config.LINK_SECRETS);
 */
export async function signLink(claims: LinkClaims, secrets: readonly LinkSecret[]): Promise<string> {
  const signer = secrets[0];
  if (!signer) throw new Error("signLink needs at least one LinkSecret");
  const out: number[] = [VERSION, 0];
  let flags = 0;
  writeStr(out, claims.tenant);
  writeStr(out, claims.responseId);
  writeStr(out, claims.path);
  if (claims.containerId !== undefined) {
    flags |= FLAG_CONTAINER;
    writeStr(out, claims.containerId);
  }
  if (claims.expiresAt !== undefined) {
    flags |= FLAG_EXPIRES;
    writeVarint(out, claims.expiresAt);
  }
  if (claims.variant) {
    flags |= FLAG_VARIANT;
    writeVarint(out, claims.variant);
  }
  out[1] = flags;
  writeStr(out, signer.kid);
  const body = Uint8Array.from(out);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(signer.secret), body));
  const token = new Uint8Array(body.length + mac.length);
  token.set(body);
  token.set(mac, body.length);
  return toBase64Url(token);
}

/**
 * Checks a token against every configured secret (matched by key id, so rotation works: sign
 * with the new first key, keep the old one listed until its links may lapse).
 * Order of checks: shape, key id, MAC (compared in constant time by WebCrypto's `verify`),
 * then expiry — so an expired token is only reported as expired when it is genuine.
 */
export async function verifyLink(token: string, secrets: readonly LinkSecret[], nowMs: number): Promise<VerifyResult> {
  if (token.length > MAX_TOKEN_CHARS) return { ok: false, reason: "malformed" };
  const bytes = fromBase64Url(token);
  if (!bytes || bytes.length < 2 + MAC_BYTES || bytes[0] !== VERSION) return { ok: false, reason: "malformed" };
  const body = bytes.subarray(0, bytes.length - MAC_BYTES);
  const mac = bytes.subarray(bytes.length - MAC_BYTES);
  let parsed: { claims: LinkClaims; kid: string };
  try {
    parsed = parseBody(body);
  } catch {
    return { ok: false, reason: "malformed" };
  }
  const secret = secrets.find((s) => s.kid === parsed.kid);
  if (!secret) return { ok: false, reason: "unknown_key" };
  const good = await crypto.subtle.verify("HMAC", await hmacKey(secret.secret), mac, body);
  if (!good) return { ok: false, reason: "bad_signature" };
  const { expiresAt } = parsed.claims;
  if (expiresAt !== undefined && nowMs >= expiresAt * 1000) return { ok: false, reason: "expired" };
  return { ok: true, claims: parsed.claims, kid: parsed.kid };
}

/**
 * The absolute download URL: `${origin}/files/${token}/${name}`. The name is only for humans
 * (browsers use it for "save as"); the token alone decides what is served. It is
 * percent-encoded so the URL holds only unreserved characters and `%XX`: `encodeURIComponent`
 * leaves `!'()*`, and a `)` would end a Markdown link destination, so those are encoded too.
 * A name of `.` or `..` (even as `%2E%2E`) is a dot segment that WHATWG URL parsing removes, so
 * such names (and the empty name) become `download`.
 */
export function fileUrl(origin: string, token: string, filename: string): string {
  return `${origin.replace(/\/+$/, "")}/files/${token}/${encodeFileName(filename)}`;
}

/** Percent-encodes a file name into unreserved characters and `%XX` only. */
export function encodeFileName(filename: string): string {
  let name = filename.toWellFormed();
  if (name === "" || name === "." || name === "..") name = "download";
  return encodeURIComponent(name).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

// ---------------------------------------------------------------------------------------------
// Encoding helpers

const keyCache = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    keyCache.set(secret, key);
  }
  return key;
}

function writeVarint(out: number[], value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`token integers must be non-negative safe integers, got ${value}`);
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

function writeStr(out: number[], s: string): void {
  const b = encoder.encode(s);
  writeVarint(out, b.length);
  for (const x of b) out.push(x);
}

function parseBody(body: Uint8Array): { claims: LinkClaims; kid: string } {
  let pos = 2;
  const varint = (): number => {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = body[pos++];
      if (b === undefined) throw new Error("truncated");
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 0x80;
    }
    throw new Error("varint too long");
  };
  const str = (): string => {
    const len = varint();
    if (pos + len > body.length) throw new Error("truncated");
    const s = strictDecoder.decode(body.subarray(pos, pos + len));
    pos += len;
    return s;
  };
  const flags = body[1]!;
  if (flags & ~(FLAG_CONTAINER | FLAG_EXPIRES | FLAG_VARIANT)) throw new Error("unknown flags");
  const claims: LinkClaims = { tenant: str(), responseId: str(), path: str() };
  if (flags & FLAG_CONTAINER) claims.containerId = str();
  if (flags & FLAG_EXPIRES) claims.expiresAt = varint();
  if (flags & FLAG_VARIANT) claims.variant = varint();
  const kid = str();
  if (pos !== body.length) throw new Error("trailing bytes");
  return { claims, kid };
}
