/**
 * @module tenants/sliding-window
 * The rule of every rate limit: at most `limit` requests in ANY `windowMs` milliseconds. Pure
 * (stored state + now → admit or refuse, the state to store, when to retry); the Durable Object
 * in tenants/rate-counter.ts only stores.
 *
 * Fixed calendar windows do not hold that: a limit of 3 per minute admits 3 at 11:59:59.9 and 3
 * more at 12:00:00.1. A log of every admitted timestamp would hold it exactly but grows with the
 * limit (a daily cap of 10 million). So the window is split into {@link BUCKETS} buckets, each
 * counting the requests admitted in it, and a request is admitted only when every bucket that
 * overlaps the window ending now (the oldest one whole, even where it starts before the window)
 * holds fewer than `limit` requests together. Why that holds in every window: take any window
 * and the last request it admitted, at time `a`; every earlier request of the window lies
 * within `windowMs` before `a`, so it sits in a bucket that overlapped `a`'s window and was
 * counted when `a` was admitted, which needed fewer than `limit` of them. The price is caution:
 * a request may be refused up to one bucket (1/60 of the window: 1 s of a minute) earlier than a
 * timestamp log would. The state is at most `BUCKETS + 1` rows whatever the limit.
 *
 * `grant` admits several requests at once (a lease, tenants/lease-policy.ts), all counted in the
 * current bucket as if admitted now. The rule still holds in every window as long as each unit
 * is used before its bucket ends (the lease ends there): a unit used at `u` sits in a bucket that
 * ends after `u`, so it was counted by every later grant whose window reaches back to `u`, exactly
 * as if it had been admitted at `u`. A unit given back unused is taken off its bucket.
 */

/** Buckets per window. */
export const BUCKETS = 60;

/** One stored bucket: requests admitted in `[start, start + bucketMs)`. */
export interface Bucket {
  start: number;
  count: number;
}

export type Decision =
  | {
      ok: true;
      remaining: number /** the bucket this request was counted in (to take it back) */;
      bucket: number;
      buckets: Bucket[];
    }
  | { ok: false /** ms until a request would be admitted */; retryAfterMs: number; buckets: Bucket[] };

/** The bucket length of a window (at least 1 ms). */
export function bucketMs(windowMs: number): number {
  return Math.max(1, Math.floor(windowMs / BUCKETS));
}

/** A lease of `granted` requests at once (tenants/lease-policy.ts), or a refusal. */
export type Grant =
  | {
      ok: true;
      granted: number;
      /** What is left in the window after this grant. */
      remaining: number;
      /** The bucket the grant was counted in (to take units back), and when it ends. */
      bucket: number;
      bucketEnd: number;
      buckets: Bucket[];
    }
  | { ok: false /** ms until a request would be admitted */; retryAfterMs: number; buckets: Bucket[] };

/**
 * Grants up to `want` requests at `now` (at least 1 when any is left; never more than
 * `cap(available)`), all counted in the current bucket. `buckets` is the stored state (any
 * order); the result's `buckets` is the state to store: the buckets still overlapping the window,
 * plus the grant. A refusal counts nothing.
 */
export function grant(
  buckets: readonly Bucket[],
  now: number,
  limit: number,
  windowMs: number,
  want: number,
  cap: (available: number) => number = () => Number.POSITIVE_INFINITY,
): Grant {
  const size = bucketMs(windowMs);
  // A bucket is counted while it overlaps (now - windowMs, now].
  const live = buckets.filter((b) => b.start + size > now - windowMs && b.count > 0).sort((a, b) => a.start - b.start);
  const used = live.reduce((n, b) => n + b.count, 0);
  if (used < limit) {
    const available = limit - used;
    const n = Math.max(1, Math.min(Number.isFinite(want) ? Math.floor(want) : 1, available, cap(available)));
    const start = now - (now % size);
    const last = live.at(-1);
    const kept =
      last && last.start === start
        ? [...live.slice(0, -1), { start, count: last.count + n }]
        : [...live, { start, count: n }];
    return { ok: true, granted: n, remaining: available - n, bucket: start, bucketEnd: start + size, buckets: kept };
  }
  // Refused: buckets leave the window oldest first; the first moment fewer than `limit` remain.
  let remaining = used;
  for (const b of live) {
    remaining -= b.count;
    if (remaining < limit) return { ok: false, retryAfterMs: b.start + size + windowMs - now, buckets: live };
  }
  return { ok: false, retryAfterMs: windowMs, buckets: live }; // unreachable: `live` sums to `used`
}

/**
 * Decides one request at `now`: a grant of one.
 * @example decide([], 0, 3, 60_000) // { ok: true, remaining: 2, bucket: 0, buckets: [{ start: 0, count: 1 }] }
 */
export function decide(buckets: readonly Bucket[], now: number, limit: number, windowMs: number): Decision {
  const g = grant(buckets, now, limit, windowMs, 1);
  return g.ok ? { ok: true, remaining: g.remaining, bucket: g.bucket, buckets: g.buckets } : g;
}
