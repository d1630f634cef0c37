/**
 * @module harvest/pin-hint
 * Which responses this isolate handed to their containers' trackers lately, so a download of one
 * of their links asks the live objects first instead of reading a link pin that cannot be there
 * yet (harvest/resolve-link.ts; pins: storage/pins.ts, written by src/tracker/outlive.ts).
 *
 * Why a pin cannot be there yet: a link's pin is written only when its container is over and its
 * tracker empties itself. A container is over 20 minutes after the last client use by default
 * (`computedExpiry`, src/tracker/policy.ts; OpenAI's containers expire after 20 idle minutes:
 * https://platform.openai.com/docs/guides/tools-code-interpreter), the harvest's
 * `open`/`track` is such a use, and even a container that ends early (expired or deleted upstream)
 * keeps its tracker at least `SETTLE_QUIET_MS` (60 s) after the last call that named it. So within
 * {@link PIN_FREE_MS} of the harvest the pin is almost never there, and the one R2 `get` that
 * would look for it is skipped.
 *
 * The hint is only an order, never an answer: where it is wrong (a container that ended early, a
 * tracker taken back after it emptied), the live path still finds the file (an emptied index reads
 * the pins itself) or finds nothing, and then the pin is read after all. Kept in this isolate only
 * (no Cache API write per create): a download in another isolate reads the pin first, as before.
 */

/** How long after the harvest named a response's containers its links are resolved live first. */
export const PIN_FREE_MS = 5 * 60_000;

/** `tenant\0responseId` → when this isolate handed the response to its trackers (ms). */
const named = new Map<string, number>();
const MAX_HELD = 1_000;

const keyOf = (tenant: string, responseId: string) => `${tenant}\u0000${responseId}`;

/** The harvest is about to hand the response's containers to their trackers (`open`/`track`). */
export function noteNamed(tenant: string, responseId: string, at = Date.now()): void {
  const key = keyOf(tenant, responseId);
  named.delete(key); // re-inserted last: the oldest go first when the map is full
  if (named.size >= MAX_HELD) {
    for (const k of named.keys()) {
      named.delete(k);
      if (named.size < MAX_HELD / 2) break;
    }
  }
  named.set(key, at);
}

/** Whether the response's links are resolved from the live objects first (its pins read only after). */
export function livesFirst(tenant: string, responseId: string, now: number): boolean {
  const at = named.get(keyOf(tenant, responseId));
  return at !== undefined && now - at < PIN_FREE_MS;
}

/** Drops the hint (the link is resolved again from scratch: harvest/download-cache.ts `forgetDownload`). */
export function forgetNamed(tenant: string, responseId: string): void {
  named.delete(keyOf(tenant, responseId));
}
