/**
 * @module encoding/fnv1a
 * FNV-1a, 32 bits (http://www.isthe.com/chongo/tech/comp/fnv/): a stable, cheap and evenly
 * spread hash of a string, for picking a shard by name. Not for anything an attacker must not
 * steer (it is not keyed).
 */

/** The 32-bit FNV-1a hash of the string's UTF-16 code units, as an unsigned integer. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
