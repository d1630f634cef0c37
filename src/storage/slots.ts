/**
 * @module storage/slots
 * A counting semaphore: at most `size` holders at once, the rest wait. The copy engine keeps one
 * per isolate (./copy.ts): Durable Objects that share an isolate share its 128 MB of memory
 * (https://developers.cloudflare.com/workers/platform/limits/#memory), and each running copy holds
 * up to a few parts in memory, so the number running at once is capped there, not per tracker.
 *
 * A waiter polls for a free slot on its own timer instead of being woken by the holder that
 * frees one: the holder may be another Durable Object of the isolate, and the runtime refuses to
 * settle a promise made in one object's context from another's ("Cannot perform I/O on behalf of
 * a different Durable Object"). Taking a slot is synchronous (check and count, no await between),
 * so two waiters never take the same one.
 */

/** How often a waiter looks for a free slot, plus up to half of it again at random (no herd). */
const POLL_MS = 20;

export class Slots {
  #free: number;
  #waiting = 0;

  constructor(readonly size: number) {
    this.#free = size;
  }

  /** Holders right now. */
  get busy(): number {
    return this.size - this.#free;
  }

  /** Copies waiting for a slot right now. */
  get queued(): number {
    return this.#waiting;
  }

  /** Runs `work` once a slot is free, and frees the slot when it settles. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#free <= 0) {
      this.#waiting++;
      try {
        while (this.#free <= 0) await new Promise((r) => setTimeout(r, POLL_MS + Math.random() * (POLL_MS / 2)));
      } finally {
        this.#waiting--;
      }
    }
    this.#free--;
    try {
      return await work();
    } finally {
      this.#free++;
    }
  }
}
