/**
 * @module tracker/background
 * The polling schedule for background responses. Polling a response (not a container) is safe:
 * it does not refresh any container's `last_active_at`.
 */

/** Statuses after which a response changes no more. */
export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(["completed", "failed", "cancelled", "incomplete"]);

/** How long a background response is followed before the index gives up (it is kept ~10 min upstream after it ends). */
export const BACKGROUND_WATCH_MS = 2 * 3600_000;

/** 1 s, 2 s, 4 s … capped at 30 s between polls. */
export function nextPollDelay(polls: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.min(polls, 5));
}
