/**
 * @module auth/session
 * Visitor sessions for publishable keys: short-lived signed tokens that bind a conversation
 * chain (the response ids created under the session) to one visitor. A publishable key is public,
 * so without a session every visitor of a page could continue every other visitor's chain.
 *
 * Token: `vs1.<base64url JSON claims>.<base64url HMAC-SHA256>`, signed with a key derived (HKDF)
 * from the first LINK_SECRETS entry and verified by its key id, so rotating LINK_SECRETS rotates
 * sessions too. Claims are short on purpose (they travel in a header on every call).
 */
import type { LinkSecret } from "../links/token";
import { fromBase64Url, toBase64Url } from "../encoding/base64url";

export interface SessionClaims {
  /** Tenant id. */
  t: string;
  /** Publishable key id the session was issued for. */
  k: string;
  /** Visitor id (random, 128 bits): owner of the ids created under this session. */
  v: string;
  /** The origin the session was issued to. */
  o: string;
  /** Expiry, unix seconds. */
  e: number;
  /** Signing key id. */
  i: string;
}

export type SessionResult =
  | { ok: true; claims: SessionClaims }
  | { ok: false; reason: "malformed" | "bad_signature" | "expired" };

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();
const MAX_TOKEN = 2048;

function sessionKey(secret: string): Promise<CryptoKey> {
  let k = keys.get(secret);
  if (!k) {
    k = (async () => {
      const ikm = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveKey"]);
      return crypto.subtle.deriveKey(
        {
          name: "HKDF",
          hash: "SHA-256",
          salt: encoder.encode("unsandbox"),
          info: encoder.encode("visitor session v1"),
        },
        ikm,
        { name: "HMAC", hash: "SHA-256", length: 256 },
        false,
        ["sign", "verify"],
      );
    })();
    keys.set(secret, k);
  }
  return k;
}

/** Signs a new session for a visitor. */
export async function signSession(claims: Omit<SessionClaims, "i">, secrets: readonly LinkSecret[]): Promise<string> {
  const signer = secrets[0]!;
  const body = toBase64Url(encoder.encode(JSON.stringify({ ...claims, i: signer.kid })));
  const mac = await crypto.subtle.sign("HMAC", await sessionKey(signer.secret), encoder.encode(`vs1.${body}`));
  return `vs1.${body}.${toBase64Url(new Uint8Array(mac))}`;
}

/** Verifies shape, key id, MAC (constant time, by WebCrypto) and then expiry. */
export async function verifySession(
  token: string,
  secrets: readonly LinkSecret[],
  nowMs: number,
): Promise<SessionResult> {
  if (token.length > MAX_TOKEN || !/^vs1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token))
    return { ok: false, reason: "malformed" };
  const [, body, mac] = token.split(".") as [string, string, string];
  let claims: SessionClaims;
  try {
    claims = JSON.parse(
      new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(base64UrlBytes(body)),
    ) as SessionClaims;
  } catch {
    return { ok: false, reason: "malformed" };
  }
  if (typeof claims !== "object" || claims === null || typeof claims.i !== "string" || typeof claims.e !== "number")
    return { ok: false, reason: "malformed" };
  const secret = secrets.find((s) => s.kid === claims.i);
  if (!secret) return { ok: false, reason: "bad_signature" };
  let macBytes: Uint8Array<ArrayBuffer>;
  try {
    macBytes = base64UrlBytes(mac);
  } catch {
    return { ok: false, reason: "malformed" };
  }
  const good = await crypto.subtle.verify(
    "HMAC",
    await sessionKey(secret.secret),
    macBytes,
    encoder.encode(`vs1.${body}`),
  );
  if (!good) return { ok: false, reason: "bad_signature" };
  if (nowMs >= claims.e * 1000) return { ok: false, reason: "expired" };
  return { ok: true, claims };
}

/** Decodes a base64url field of a token unsandbox issued; a malformed one is a refused token. */
function base64UrlBytes(s: string): Uint8Array<ArrayBuffer> {
  const bytes = fromBase64Url(s);
  if (!bytes) throw new TypeError("malformed base64url");
  return bytes;
}
