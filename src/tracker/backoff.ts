/**
 * @module tracker/backoff
 * Retry timing for copy jobs and listing sweeps. Deterministic (no jitter): one Durable Object per
 * container already spreads load, and tests can then reason about due times with an injected clock.
 */

/** First retry delay; doubles per attempt. */
export const BACKOFF_BASE_MS = 2_000;
/** No retry waits longer than this unless upstream's Retry-After says so. */
export const BACKOFF_CAP_MS = 5 * 60_000;

/** Delay before attempt `attempt + 1` after `attempt` failures (1-based), honouring Retry-After. */
export function backoffMs(attempt: number, retryAfterMs?: number): number {
  const exp = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt - 1));
  return Math.max(exp, Math.min(retryAfterMs ?? 0, 60 * 60_000));
}
