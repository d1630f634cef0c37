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
 * - **scoped calls**: a Durable Object that asks passes itself as the `scope`: it shares a call
 *   only with its own other lookups, never with another object of the isolate or a request,
 *   because the runtime refuses to settle, in one object, a promise made in another's context
 *   ("Cannot perform I/O on behalf of a different Durable Object"; the same refusal made the copy
 *   slots poll, src/storage/slots.ts). Answers, once stored, are plain values and are served to
 *   every caller: objects lose only the isolate-wide single-flight of a cold key.
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
  /** Calls under way shared by the isolate's requests. */
  readonly #inFlight = new Map<string, Promise<T>>();
  /** Calls under way per Durable Object (the `scope`): each object shares only its own. */
  readonly #scoped = new WeakMap<object, Map<string, Promise<T>>>();

  constructor(readonly bounds: CacheBounds) {}

  /**
   * The cached answer for `key`, or `load()`'s (one call at a time per key and scope), or the last
   * good one if it fails. `scope`: the Durable Object asking (its instance); absent for the
   * Worker's requests.
   */
  get(key: string, load: () => Promise<T>, now = Date.now(), scope?: object): Promise<T> {
    const hit = this.#entries.get(key);
    if (hit && now - hit.at < this.bounds.freshMs) return Promise.resolve(hit.value);
    let inFlight = this.#inFlight;
    if (scope) {
      inFlight = this.#scoped.get(scope) ?? new Map<string, Promise<T>>();
      this.#scoped.set(scope, inFlight);
    }
    const pending = inFlight.get(key);
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
        inFlight.delete(key);
      }
    })();
    inFlight.set(key, call);
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
