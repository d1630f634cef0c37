/**
 * @module durable/lookup-cache
 * The per-isolate cache in front of a shared Durable Object (the tenant directory, the usage
 * meter's totals): one answer per key, trusted for `freshMs`, with
 *
 * - **single-flight**: concurrent lookups of one key while it is stale share one call, so a burst
 *   of requests with a new key costs the shared object one call per isolate, not one per request;
 * - **stale-if-error**: when the call fails, the last good answer is served while it is younger
 *   than `staleIfErrorMs`, so an overloaded object degrades to slightly old answers instead of
 *   errors (or, worse, made-up defaults). Past that bound the error is the caller's.
 *
 * A Durable Object handles on the order of 1,000 simple requests a second
 * (https://developers.cloudflare.com/durable-objects/platform/limits/), so whatever sits on every
 * request must not reach one per request. Memory is bounded by `maxEntries` (the map is cleared
 * when full: a burst of unknown keys costs lookups, never memory).
 */

export interface CacheBounds {
  /** How long an answer is served without asking again. */
  freshMs: number;
  /** How long after it was fetched an answer may still be served when asking fails. */
  staleIfErrorMs: number;
  maxEntries: number;
}

interface Entry<T> {
  at: number;
  value: T;
}

export class LookupCache<T> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly #inFlight = new Map<string, Promise<T>>();

  constructor(readonly bounds: CacheBounds) {}

  /** The cached answer for `key`, or `load()`'s (one call at a time per key), or the last good one if it fails. */
  get(key: string, load: () => Promise<T>, now = Date.now()): Promise<T> {
    const hit = this.#entries.get(key);
    if (hit && now - hit.at < this.bounds.freshMs) return Promise.resolve(hit.value);
    const pending = this.#inFlight.get(key);
    if (pending) return pending;
    const call = (async () => {
      try {
        const value = await load();
        if (this.#entries.size >= this.bounds.maxEntries) this.#entries.clear();
        this.#entries.set(key, { at: Date.now(), value });
        return value;
      } catch (err) {
        // Re-read: an entry dropped in the meantime (`clear()` after an admin change) is not served.
        const last = this.#entries.get(key);
        if (last && Date.now() - last.at < this.bounds.staleIfErrorMs) return last.value;
        throw err;
      } finally {
        this.#inFlight.delete(key);
      }
    })();
    this.#inFlight.set(key, call);
    return call;
  }

  /** The answer held for `key` (fresh or not), without asking. */
  peek(key: string): T | undefined {
    return this.#entries.get(key)?.value;
  }

  /** Drops every answer (calls under way still finish and are stored). */
  clear(): void {
    this.#entries.clear();
  }
}
