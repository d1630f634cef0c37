/**
 * @module prng
 * A small deterministic PRNG (xorshift32) and a string hash to seed it, so every byte and every
 * text split the simulator makes is reproducible from an id.
 */

/** FNV-1a 32-bit hash of a string. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0 || 1;
}

/** Mixes two 32-bit values into a non-zero seed. */
export function mix(a: number, b: number): number {
  let h = (a ^ Math.imul(b + 0x9e3779b9, 0x85ebca6b)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  return h >>> 0 || 1;
}

/** xorshift32: fast, good enough for filler bytes and choices. */
export class Prng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0 || 1;
  }
  next(): number {
    let x = this.#s;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#s = x >>> 0;
    return this.#s;
  }
  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + (this.next() % (hi - lo + 1));
  }
  /** Fills `out` with pseudo-random bytes, four at a time. */
  fill(out: Uint8Array): void {
    const words = Math.floor(out.length / 4);
    const view = new Uint32Array(out.buffer, out.byteOffset, words);
    let x = this.#s;
    for (let i = 0; i < words; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      view[i] = x;
    }
    this.#s = x >>> 0 || 1;
    for (let i = words * 4; i < out.length; i++) out[i] = this.next() & 0xff;
  }
}
