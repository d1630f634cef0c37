/**
 * @module tracker/backoff
 * Retry timing for copy jobs: exponential backoff with jitter, honouring upstream's Retry-After.
 * Jitter spreads the retries of many trackers that failed together (an upstream incident hits
 * every container at once), so they do not all come back in the same second. Tests that need an
 * exact due time read `jobs.next_attempt_at` instead of predicting it.
 *
 * The retries are not bounded by a count but by the container's computed expiry (see
 * `computedExpiry` in ./policy.ts): after that the bytes are gone anyway.
 */

/** First retry delay; doubles per attempt. */
export const BACKOFF_BASE_MS = 2_000;
/** No retry waits longer than this unless upstream's Retry-After says so. */
export const BACKOFF_CAP_MS = 5 * 60_000;

/**
 * Delay before attempt `attempt + 1` after `attempt` failures (1-based): "equal jitter", i.e. a
 * uniformly random delay between half and all of the exponential step, and never less than
 * Retry-After (capped at an hour). `random` is injectable for tests.
 */
export function backoffMs(attempt: number, retryAfterMs?: number, random: () => number = Math.random): number {
  const exp = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.round(exp / 2 + (exp / 2) * Math.min(1, Math.max(0, random())));
  return Math.max(jittered, Math.min(retryAfterMs ?? 0, 60 * 60_000));
}
