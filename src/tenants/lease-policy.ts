/**
 * @module tenants/lease-policy
 * How rate-limit counters are shared out in blocks (leases), so that one popular scope (a
 * tenant's requests per minute, a widget key's daily cap) is not one Durable Object written on
 * every request. Pure: sizes and lifetimes; the counter (tenants/rate-counter.ts) grants, the
 * isolate's holder (auth/leases.ts) spends.
 *
 * A lease is counted in full by the counter when it is granted (tenants/sliding-window.ts
 * `grant`), so a limit is never exceeded: what an isolate admits from its lease was already
 * counted. The approximation is the other way: units an isolate holds and does not use are
 * unavailable to the others until they come back. Bounds, per scope:
 * - A lease ends when its counter's bucket does (1/60 of the window: 1 s of a minute, 24 min of a
 *   day) and after at most {@link LEASE_MAX_MS}; what is left of it goes back with the isolate's
 *   next call for that scope. One grant is at most {@link MAX_LEASE} units and at most a
 *   {@link LEASE_SHARE}th of what the window still has ({@link leaseCap}), so near the limit
 *   leases shrink to one unit and the counter decides request by request, as an exact counter would.
 * - Units an isolate held when it was evicted never come back: they are lost to the window (never
 *   admitted twice), at most MAX_LEASE − 1 per evicted isolate and scope.
 * - An isolate that was refused refuses locally for at most {@link REFUSAL_CACHE_MS} (the client
 *   still gets the counter's full `Retry-After`), so a refused flood costs a counter at most one
 *   call per isolate per REFUSAL_CACHE_MS.
 * Durable Objects take a few hundred writes a second each
 * (https://developers.cloudflare.com/durable-objects/platform/limits/): with leases a scope's
 * counter takes about one call per busy isolate per lease, not one per request.
 */

/** Most units one grant hands out. */
export const MAX_LEASE = 64;
/** One grant takes at most this fraction (1/LEASE_SHARE) of what the window has left, rounded up. */
export const LEASE_SHARE = 4;
/** Longest life of a lease (shorter when its bucket ends sooner). */
export const LEASE_MAX_MS = 10_000;
/** Longest an isolate refuses a scope without asking its counter again. */
export const REFUSAL_CACHE_MS = 1_000;

/** Pure: the most one grant may hand out when `available` units are left in the window. */
export function leaseCap(available: number): number {
  return Math.min(MAX_LEASE, Math.max(1, Math.ceil(available / LEASE_SHARE)));
}

/** Pure: how long a lease granted `now`, counted in a bucket that ends at `bucketEnd`, lasts (ms). */
export function leaseTtl(now: number, bucketEnd: number): number {
  return Math.max(0, Math.min(LEASE_MAX_MS, bucketEnd - now));
}

/**
 * Pure: how many units an isolate asks for: enough for the requests waiting now, and for as many
 * as the last lease served (twice that when it ran out before it ended), within 1..MAX_LEASE.
 */
export function leaseWant(waiting: number, last: { granted: number; used: number } | null): number {
  const demand = last === null ? 1 : last.used >= last.granted ? last.granted * 2 : last.used;
  return Math.min(MAX_LEASE, Math.max(1, waiting, demand));
}
