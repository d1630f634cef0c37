/**
 * @module storage/slots
 * A counting semaphore: at most `size` holders at once, the rest wait in arrival order. The copy
 * engine keeps one per isolate (./copy.ts): Durable Objects that share an isolate share its
 * 128 MB of memory (https://developers.cloudflare.com/workers/platform/limits/#memory), and each
 * running copy holds up to a few parts in memory, so the number running at once is capped there,
 * not per tracker.
 */
export class Slots {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(readonly size: number) {
    this.#free = size;
  }

  /** Holders right now. */
  get busy(): number {
    return this.size - this.#free;
  }

  /** Copies waiting for a slot right now. */
  get queued(): number {
    return this.#waiting.length;
  }

  /** Runs `work` once a slot is free, and frees the slot when it settles. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await work();
    } finally {
      // The slot passes straight to the next waiter (it stays taken), or is freed.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    }
  }
}
