/**
 * @module storage/location-cache
 * Answers worth keeping for a short, fixed time in the location that computed them (a resolved
 * download, a tenant's takedown tombstones), so a popular link or a polled manifest does not
 * reach R2 or a Durable Object on every request. Two layers:
 *
 * - this isolate's map, for at most ISOLATE_TTL_MS (bounded by the cache's `maxEntries`: the map
 *   is cleared when full, so a burst of unknown keys costs lookups, never memory);
 * - the location's Workers Cache API (`caches.default`, keyed by a synthetic URL that never
 *   leaves the Worker), for at most LOCATION_TTL_MS after the answer was read from its source
 *   (or the cache's own `locationTtlMs`).
 *   The Cache API is per data centre and never replicated
 *   (https://developers.cloudflare.com/workers/runtime-apis/cache/); on `*.workers.dev` it does
 *   nothing, and only the isolate layer holds.
 *
 * So a change (a takedown, a deletion) reaches an answer held here at once where `delete` ran
 * (this isolate and this location's cache), within ISOLATE_TTL_MS in the location's other
 * isolates, and within LOCATION_TTL_MS everywhere else. Loads are single-flight per isolate:
 * concurrent misses of one key share one load. The cache is an optimisation: a Cache API failure
 * is a miss, never an error.
 */

/** How long an answer is kept in a location, from when it was read from its source. */
export const LOCATION_TTL_MS = 30_000;
/** How long one isolate keeps an answer without asking the location's cache again. */
export const ISOLATE_TTL_MS = 5_000;
/** Never fetched: only the key of the Cache API's entries (`.invalid` cannot resolve). */
const ORIGIN = "https://location-cache.unsandbox.invalid";

interface Held<T> {
  value: T;
  /** When the value was read from its source (ms). */
  at: number;
  /** Until when this isolate serves it without asking again. */
  until: number;
}

/** The location's cache, where the runtime has one. */
function locationStore(): Cache | null {
  return typeof caches === "undefined" ? null : (caches as unknown as { default: Cache }).default;
}

export class LocationCache<T> {
  readonly #held = new Map<string, Held<T>>();
  readonly #loading = new Map<string, Promise<unknown>>();
  /** Bumped by every `delete`: an answer read before one is not kept (it may predate the change). */
  #generation = 0;

  /** How long this cache's answers are kept in a location (LOCATION_TTL_MS unless set). */
  readonly locationTtlMs: number;

  /**
   * `namespace` keeps kinds of answers apart (bump its version when their shape changes);
   * `maxEntries` bounds what this isolate holds; `locationTtlMs` is for answers that cannot go
   * stale in any way the caller does not check itself (a stored download's resolution).
   */
  constructor(
    readonly namespace: string,
    readonly maxEntries: number,
    options: { locationTtlMs?: number } = {},
  ) {
    this.locationTtlMs = options.locationTtlMs ?? LOCATION_TTL_MS;
  }

  #url(key: string): string {
    return `${ORIGIN}/${this.namespace}/${encodeURIComponent(key)}`;
  }

  #hold(key: string, value: T, at: number, now: number): void {
    if (this.#held.size >= this.maxEntries) this.#held.clear();
    this.#held.set(key, { value, at, until: Math.min(at + this.locationTtlMs, now + ISOLATE_TTL_MS) });
  }

  /** The answer held for `key` in this isolate or location, or undefined. */
  async get(key: string): Promise<T | undefined> {
    const now = Date.now();
    const held = this.#held.get(key);
    if (held && now < held.until) return held.value;
    if (held) this.#held.delete(key);
    const store = locationStore();
    if (!store) return undefined;
    try {
      const res = await store.match(this.#url(key));
      if (!res) return undefined;
      const { value, at } = await res.json<{ value: T; at: number }>();
      if (!(Date.now() < at + this.locationTtlMs)) return undefined;
      this.#hold(key, value, at, Date.now());
      return value;
    } catch {
      return undefined;
    }
  }

  /** A stamp to take before reading an answer from its source, for `put`. */
  stamp(): number {
    return this.#generation;
  }

  /**
   * Keeps `value`, read from its source at `at` (ms), for the rest of its location TTL, unless a
   * `delete` ran since `stamp` was taken.
   */
  async put(key: string, value: T, at: number, stamp: number): Promise<void> {
    if (stamp !== this.#generation) return;
    const now = Date.now();
    this.#hold(key, value, at, now);
    const seconds = Math.floor((at + this.locationTtlMs - now) / 1000);
    const store = locationStore();
    if (!store || seconds < 1) return;
    try {
      const body = JSON.stringify({ value, at });
      await store.put(
        this.#url(key),
        new Response(body, { headers: { "content-type": "application/json", "cache-control": `max-age=${seconds}` } }),
      );
    } catch {
      // Only the isolate layer holds it.
    }
  }

  /** Forgets `key` in this isolate and this location. */
  async delete(key: string): Promise<void> {
    this.#generation++;
    this.#held.delete(key);
    try {
      await locationStore()?.delete(this.#url(key));
    } catch {
      // Nothing held there, or no cache: the TTL bounds it.
    }
  }

  /**
   * `load()`, shared by every caller in this isolate that asks for `key` while it runs. A caller
   * that joins a load waits for it at most `joinMs`, then loads on its own: the load belongs to
   * the request that started it, and a request that ends early (its client went away) must not
   * leave the others waiting.
   */
  once<R>(key: string, load: () => Promise<R>, joinMs: number): Promise<R> {
    const running = this.#loading.get(key) as Promise<R> | undefined;
    if (running) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const own = new Promise<R>((resolve, reject) => {
        timer = setTimeout(() => load().then(resolve, reject), joinMs);
      });
      return Promise.race([running, own]).finally(() => clearTimeout(timer));
    }
    const call = load().finally(() => this.#loading.delete(key));
    this.#loading.set(key, call);
    return call;
  }
}
