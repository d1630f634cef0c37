/**
 * @module auth/keys
 * API keys unsandbox mints: `usk_<40 base62>` (secret, for servers) and `pk_<40 base62>`
 * (publishable, for widgets). Only their SHA-256 is stored: a key is 238 bits of randomness, so
 * a plain hash (no salt, no slow KDF) is enough and lets the directory find a key by its hash.
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const encoder = new TextEncoder();

/** `n` characters of base62 from the platform CSPRNG (rejection sampling keeps it uniform). */
export function randomBase62(n: number): string {
  let out = "";
  while (out.length < n) {
    for (const b of crypto.getRandomValues(new Uint8Array(n * 2))) {
      if (b < 248 && out.length < n) out += ALPHABET[b % 62];
    }
  }
  return out;
}

/** A new key of the given kind. */
export function mintKey(kind: "secret" | "publishable"): string {
  return `${kind === "secret" ? "usk_" : "pk_"}${randomBase62(40)}`;
}

/** The stored form of a key: lowercase hex SHA-256. */
export async function hashKey(key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(key));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** What a listing shows of a key: enough to recognise it, too little to use it. */
export function keyPrefix(key: string): string {
  return key.slice(0, key.indexOf("_") + 7);
}

/** Keys look like this before any lookup is spent on them (also keeps CR/LF out of caches and logs). */
export function looksLikeKey(key: string): boolean {
  return /^[\x21-\x7e]{8,512}$/.test(key);
}

/** Compares two strings in constant time (hashes first, so lengths leak nothing either). */
export async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(ha, hb);
}
