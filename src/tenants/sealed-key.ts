/**
 * @module tenants/sealed-key
 * Tenants' upstream (OpenAI) keys at rest: AES-256-GCM under a Worker secret with a key id, so
 * the secret can be rotated (prepend a new `kid:secret` to TENANT_KEY_ENCRYPTION_KEYS, re-seal,
 * then drop the old one). The keys cannot simply be hashed like unsandbox's own keys: alarms,
 * sweeps and background polling call OpenAI after the request has ended, so they must be
 * recoverable. The tenant id is the additional authenticated data, so a sealed key copied onto
 * another tenant's record does not open.
 *
 * Format: `v1.<kid>.<base64url iv (12 bytes)>.<base64url ciphertext+tag>`.
 */
import { UnsandboxError } from "../errors";
import { fromBase64Url, toBase64Url } from "../encoding/base64url";

export type SealingKey = { kid: string; secret: string };

const encoder = new TextEncoder();
const cache = new Map<string, Promise<CryptoKey>>();

/** AES key derived with HKDF from the configured secret (any string of ≥ 32 characters). */
function aesKey(secret: string): Promise<CryptoKey> {
  let key = cache.get(secret);
  if (!key) {
    key = (async () => {
      const ikm = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveKey"]);
      return crypto.subtle.deriveKey(
        {
          name: "HKDF",
          hash: "SHA-256",
          salt: encoder.encode("unsandbox"),
          info: encoder.encode("tenant upstream key v1"),
        },
        ikm,
        { name: "AES-GCM", length: 256 },
        false,
        ["encrypt", "decrypt"],
      );
    })();
    cache.set(secret, key);
  }
  return key;
}

/** Encrypts `plaintext` for `tenant` with the first key. */
export async function seal(plaintext: string, tenant: string, keys: readonly SealingKey[]): Promise<string> {
  const k = keys[0];
  if (!k)
    throw new UnsandboxError(500, "TENANT_KEY_ENCRYPTION_KEYS is not set", {
      type: "configuration_error",
      code: "configuration_error",
    });
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(tenant) },
    await aesKey(k.secret),
    encoder.encode(plaintext),
  );
  return `v1.${k.kid}.${toBase64Url(iv)}.${toBase64Url(new Uint8Array(ct))}`;
}

/** Decrypts a sealed key; throws a 500 when its key id is no longer configured or it was tampered with. */
export async function unseal(sealed: string, tenant: string, keys: readonly SealingKey[]): Promise<string> {
  const [v, kid, iv, ct] = sealed.split(".");
  const k = keys.find((x) => x.kid === kid);
  if (v !== "v1" || !k || !iv || !ct) {
    throw new UnsandboxError(
      500,
      `The upstream key of tenant ${tenant} is sealed with a key id that is not configured`,
      {
        type: "configuration_error",
        code: "configuration_error",
      },
    );
  }
  try {
    const pt = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: base64UrlBytes(iv), additionalData: encoder.encode(tenant) },
      await aesKey(k.secret),
      base64UrlBytes(ct),
    );
    return new TextDecoder().decode(pt);
  } catch (cause) {
    throw new UnsandboxError(500, `The upstream key of tenant ${tenant} does not decrypt`, {
      type: "configuration_error",
      code: "configuration_error",
      cause,
    });
  }
}

/** Decodes a base64url field of a token unsandbox issued; a malformed one is a refused token. */
function base64UrlBytes(s: string): Uint8Array<ArrayBuffer> {
  const bytes = fromBase64Url(s);
  if (!bytes) throw new TypeError("malformed base64url");
  return bytes;
}
