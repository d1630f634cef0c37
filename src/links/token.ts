/**
 * @module links/token
 * Download-link tokens: what a `/files/<token>/<name>` URL names, sealed so nobody can forge one
 * and nobody holding the URL can read what it names.
 *
 * A link streams out before the file id exists (annotations come after the text, sometimes the
 * file is only listed later), so the token names only what is known at that moment: the tenant,
 * the response id and the container path (plus the container id when known and an optional
 * expiry). The Response index maps that to a file version later.
 *
 * Version 2 (issued now) is authenticated encryption: a shared link reveals the key id (a short
 * name such as `k2`), a length rounded up to 32 bytes, and nothing else: not the tenant, not the
 * response id (which would let a holder of another key continue the chain), not the path.
 * ```
 * 2 | len(kid) | kid | iv(12) | AES-256-GCM(plaintext, aad = the bytes before iv) with its tag(16)
 * plaintext = flags(1) | str(tenant) | str(responseId) | str(path) | [str(containerId)]
 *   | [varint(expiresAt)] | [varint(variant)] | zero padding to a multiple of 32 bytes
 * ```
 * Two keys are derived per `LINK_SECRETS` entry with HKDF-SHA-256 (RFC 5869; salt names this
 * format, info names the purpose and the kid): an AES-GCM key, and an HMAC key whose MAC of the
 * plaintext gives the IV (a synthetic IV, as in RFC 5297's SIV). So the same claims always seal to
 * the same token (the answer, its manifest and a later read hand out one URL per link) and two
 * different claims never share an IV under one key, which is what GCM's security needs
 * (NIST SP 800-38D §8). The key id is authenticated as associated data, so a token cannot be moved
 * to another key. WebCrypto does all of it: https://developer.mozilla.org/docs/Web/API/SubtleCrypto
 *
 * Version 1 (signed, not encrypted: the claims in clear followed by HMAC-SHA256) is still
 * verified, so links shared before the change keep working until they expire or their key is
 * removed from `LINK_SECRETS`; nothing issues v1 any more.
 * ```
 * 1 | flags(1) | str(tenant) | str(responseId) | str(path) | [str(containerId)] | [varint(expiresAt)]
 *   | [varint(variant)] | str(kid) | HMAC-SHA256(32)
 * ```
 * `str` is a varint byte length followed by UTF-8; `flags` bit 0 = containerId present, bit 1 =
 * expiresAt present, bit 2 = variant present. Everything is base64url without padding, so a
 * token uses only `[A-Za-z0-9_-]`.
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

const V1 = 1;
const V2 = 2;
const MAC_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** v2 plaintexts are zero-padded to a multiple of this, so a token's length says little about its path. */
const PAD_TO = 32;
const FLAG_CONTAINER = 1;
const FLAG_EXPIRES = 2;
const FLAG_VARIANT = 4;
/** Tokens longer than this are refused before any decoding work (paths are at most ~2 KB). */
const MAX_TOKEN_CHARS = 8192;

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Seals `claims` with the first secret (format v2: encrypted and authenticated).
 * @example
 * const token = await signLink({ tenant: "default", responseId: "resp_1", path: "/mnt/data/a.csv" }, config.LINK_SECRETS);
 */
export async function signLink(claims: LinkClaims, secrets: readonly LinkSecret[]): Promise<string> {
  const sealer = secrets[0];
  if (!sealer) throw new Error("signLink needs at least one LinkSecret");
  const plain: number[] = [0];
  plain[0] = writeClaims(plain, claims);
  while (plain.length % PAD_TO !== 0) plain.push(0);
  const plaintext = Uint8Array.from(plain);
  const keys = await v2Keys(sealer);
  const iv = new Uint8Array(await crypto.subtle.sign("HMAC", keys.iv, plaintext)).subarray(0, IV_BYTES);
  const header = v2Header(sealer.kid);
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: header, tagLength: TAG_BYTES * 8 },
      keys.aead,
      plaintext,
    ),
  );
  const token = new Uint8Array(header.length + IV_BYTES + sealed.length);
  token.set(header);
  token.set(iv, header.length);
  token.set(sealed, header.length + IV_BYTES);
  return toBase64Url(token);
}

/**
 * Checks a token against every configured secret (matched by key id, so rotation works: seal
 * with the new first key, keep the old one listed until its links may lapse).
 * Order of checks: shape, key id, authenticity (GCM's tag, or v1's MAC compared in constant time
 * by WebCrypto's `verify`), then expiry — so an expired token is only reported as expired when it
 * is genuine.
 */
export async function verifyLink(token: string, secrets: readonly LinkSecret[], nowMs: number): Promise<VerifyResult> {
  if (token.length > MAX_TOKEN_CHARS) return { ok: false, reason: "malformed" };
  const bytes = fromBase64Url(token);
  if (!bytes) return { ok: false, reason: "malformed" };
  let opened: VerifyResult;
  if (bytes[0] === V2) opened = await openV2(bytes, secrets);
  else if (bytes[0] === V1) opened = await verifyV1(bytes, secrets);
  else return { ok: false, reason: "malformed" };
  if (!opened.ok) return opened;
  const { expiresAt } = opened.claims;
  if (expiresAt !== undefined && nowMs >= expiresAt * 1000) return { ok: false, reason: "expired" };
  return opened;
}

/** Verified tokens this isolate has opened, per list of secrets: a popular link is opened once. */
const verified = new WeakMap<readonly LinkSecret[], Map<string, { claims: LinkClaims; kid: string }>>();
/** Bounds what `verifyLinkCached` keeps: tokens are ~100-200 characters; longer ones are not kept. */
const VERIFIED_MAX_ENTRIES = 1_000;
const VERIFIED_MAX_TOKEN_CHARS = 512;

/**
 * `verifyLink`, remembering genuine tokens in this isolate so a link downloaded again is not
 * decrypted again (the download route's hot path). What a token names never changes, so a held
 * result is as good as a fresh one, with two checks made on every call all the same: expiry
 * (against `nowMs`) and the key (the memory is per list of secrets, so a token of a key that was
 * removed from `LINK_SECRETS` is opened against the new list). Refusals are not kept: an invalid
 * token costs its decryption every time, and cannot fill the memory.
 */
export async function verifyLinkCached(
  token: string,
  secrets: readonly LinkSecret[],
  nowMs: number,
): Promise<VerifyResult> {
  let held = verified.get(secrets);
  const hit = held?.get(token);
  if (hit) {
    const { expiresAt } = hit.claims;
    if (expiresAt !== undefined && nowMs >= expiresAt * 1000) return { ok: false, reason: "expired" };
    return { ok: true, claims: hit.claims, kid: hit.kid };
  }
  const verdict = await verifyLink(token, secrets, nowMs);
  if (verdict.ok && token.length <= VERIFIED_MAX_TOKEN_CHARS) {
    if (!held) verified.set(secrets, (held = new Map()));
    if (held.size >= VERIFIED_MAX_ENTRIES) held.clear();
    held.set(token, { claims: Object.freeze({ ...verdict.claims }), kid: verdict.kid });
  }
  return verdict;
}

async function openV2(bytes: Uint8Array, secrets: readonly LinkSecret[]): Promise<VerifyResult> {
  const kidLen = bytes[1];
  if (kidLen === undefined || bytes.length < 2 + kidLen + IV_BYTES + TAG_BYTES + PAD_TO)
    return { ok: false, reason: "malformed" };
  let kid: string;
  try {
    kid = strictDecoder.decode(bytes.subarray(2, 2 + kidLen));
  } catch {
    return { ok: false, reason: "malformed" };
  }
  const secret = secrets.find((s) => s.kid === kid);
  if (!secret) return { ok: false, reason: "unknown_key" };
  const header = bytes.subarray(0, 2 + kidLen);
  const iv = bytes.subarray(2 + kidLen, 2 + kidLen + IV_BYTES);
  let plaintext: Uint8Array;
  try {
    const keys = await v2Keys(secret);
    plaintext = new Uint8Array(
      await crypto.subtle.decrypt(
        { name: "AES-GCM", iv, additionalData: header, tagLength: TAG_BYTES * 8 },
        keys.aead,
        bytes.subarray(2 + kidLen + IV_BYTES),
      ),
    );
  } catch {
    return { ok: false, reason: "bad_signature" };
  }
  try {
    const r = new Reader(plaintext, 1);
    const claims = r.claims(plaintext[0]!);
    r.zeros();
    return { ok: true, claims, kid };
  } catch {
    // Authentic but unreadable: only a sealer with our key could have made it; refuse all the same.
    return { ok: false, reason: "malformed" };
  }
}

async function verifyV1(bytes: Uint8Array, secrets: readonly LinkSecret[]): Promise<VerifyResult> {
  if (bytes.length < 2 + MAC_BYTES) return { ok: false, reason: "malformed" };
  const body = bytes.subarray(0, bytes.length - MAC_BYTES);
  const mac = bytes.subarray(bytes.length - MAC_BYTES);
  let claims: LinkClaims;
  let kid: string;
  try {
    const r = new Reader(body, 2);
    claims = r.claims(body[1]!);
    kid = r.str();
    r.end();
  } catch {
    return { ok: false, reason: "malformed" };
  }
  const secret = secrets.find((s) => s.kid === kid);
  if (!secret) return { ok: false, reason: "unknown_key" };
  const good = await crypto.subtle.verify("HMAC", await hmacKey(secret.secret), mac, body);
  return good ? { ok: true, claims, kid } : { ok: false, reason: "bad_signature" };
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
// Keys and encoding helpers

const keyCache = new Map<string, Promise<CryptoKey>>();

function cached(id: string, make: () => Promise<CryptoKey>): Promise<CryptoKey> {
  let key = keyCache.get(id);
  if (!key) {
    key = make();
    keyCache.set(id, key);
  }
  return key;
}

/** v1's MAC key: the secret's bytes as they are. */
function hmacKey(secret: string): Promise<CryptoKey> {
  return cached(`v1\u0000${secret}`, () =>
    crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]),
  );
}

const HKDF_SALT = encoder.encode("unsandbox download link v2");

/** v2's two keys of one secret, derived with HKDF so neither is the secret itself nor the other. */
async function v2Keys(s: LinkSecret): Promise<{ aead: CryptoKey; iv: CryptoKey }> {
  const derive = (purpose: string, algorithm: Parameters<SubtleCrypto["deriveKey"]>[2], usages: string[]) =>
    cached(`v2\u0000${purpose}\u0000${s.kid}\u0000${s.secret}`, async () => {
      const ikm = await crypto.subtle.importKey("raw", encoder.encode(s.secret), "HKDF", false, ["deriveKey"]);
      return crypto.subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt: HKDF_SALT, info: encoder.encode(`${purpose}:${s.kid}`) },
        ikm,
        algorithm,
        false,
        usages,
      );
    });
  const [aead, iv] = await Promise.all([
    derive("aes-256-gcm", { name: "AES-GCM", length: 256 }, ["encrypt", "decrypt"]),
    derive("synthetic-iv", { name: "HMAC", hash: "SHA-256", length: 256 }, ["sign"]),
  ]);
  return { aead, iv };
}

function v2Header(kid: string): Uint8Array {
  const k = encoder.encode(kid);
  if (k.length > 255) throw new Error("a link key id must be at most 255 bytes");
  const h = new Uint8Array(2 + k.length);
  h[0] = V2;
  h[1] = k.length;
  h.set(k, 2);
  return h;
}

/** Appends the claims after a flags byte's place; returns the flags. */
function writeClaims(out: number[], claims: LinkClaims): number {
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
  return flags;
}

function writeVarint(out: number[], value: number): void {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new Error(`token integers must be non-negative safe integers, got ${value}`);
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

/** Reads the claim fields; every method throws on anything out of shape. */
class Reader {
  constructor(
    private readonly bytes: Uint8Array,
    private pos: number,
  ) {}

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.bytes[this.pos++];
      if (b === undefined) throw new Error("truncated");
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 0x80;
    }
    throw new Error("varint too long");
  }

  str(): string {
    const len = this.varint();
    if (this.pos + len > this.bytes.length) throw new Error("truncated");
    const s = strictDecoder.decode(this.bytes.subarray(this.pos, this.pos + len));
    this.pos += len;
    return s;
  }

  claims(flags: number): LinkClaims {
    if (flags & ~(FLAG_CONTAINER | FLAG_EXPIRES | FLAG_VARIANT)) throw new Error("unknown flags");
    const claims: LinkClaims = { tenant: this.str(), responseId: this.str(), path: this.str() };
    if (flags & FLAG_CONTAINER) claims.containerId = this.str();
    if (flags & FLAG_EXPIRES) claims.expiresAt = this.varint();
    if (flags & FLAG_VARIANT) claims.variant = this.varint();
    return claims;
  }

  end(): void {
    if (this.pos !== this.bytes.length) throw new Error("trailing bytes");
  }

  /** The rest is padding: zero bytes only. */
  zeros(): void {
    for (; this.pos < this.bytes.length; this.pos++) if (this.bytes[this.pos] !== 0) throw new Error("trailing bytes");
  }
}
