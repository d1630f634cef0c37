/**
 * @module encoding/base64url
 * base64url without padding, the alphabet of every token unsandbox issues (links, visitor
 * sessions, sealed keys): only unreserved URL characters. Built on the platform's
 * `Uint8Array.prototype.toBase64` / `Uint8Array.fromBase64` (workerd implements both).
 */

export function toBase64Url(bytes: Uint8Array): string {
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

/**
 * Decodes base64url, or returns null for anything that is not its one canonical spelling (stray
 * low bits in the last character would give one token two string forms).
 */
export function fromBase64Url(s: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) return null;
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    // "loose" accepts the missing padding; canonical form is checked by encoding back.
    bytes = Uint8Array.fromBase64(s, { alphabet: "base64url", lastChunkHandling: "loose" }) as Uint8Array<ArrayBuffer>;
  } catch {
    return null;
  }
  return toBase64Url(bytes) === s ? bytes : null;
}
