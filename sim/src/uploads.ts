/**
 * @module uploads
 * Small helpers for names the real API invents for uploaded files.
 */

/** 32 random hex digits, the prefix the real API puts before an uploaded file's name. */
export function randomHex32(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}
