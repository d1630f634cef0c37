/**
 * @module auth/leases
 * What this isolate holds of each rate-limit scope: a lease of units taken from the scope's
 * RateCounter (tenants/rate-counter.ts) and spent here, one per admitted request, so a popular
 * scope's counter takes one call per lease instead of one per request. Sizes, lifetimes and the
 * error bounds are tenants/lease-policy.ts's.
 *
 * - Requests that find no unit wait for one call to the counter (single-flight per scope); the
 *   call asks for enough units for every request waiting then, and the units it brings go to
 *   those requests first (admitted when the counter granted them, whatever the call's latency).
 *   What is left serves later requests until the lease ends.
 * - A unit given back (another scope refused the request) returns to its lease while the lease
 *   lasts; otherwise it, and whatever a lease had left when it ended, goes back to the counter
 *   with this isolate's next call for the scope. When that call fails, they are dropped, never
 *   sent twice: the counter may have taken them already, and taking them twice would admit more
 *   than the limit.
 * - A refusal is remembered for at most REFUSAL_CACHE_MS, so a refused flood does not reach the
 *   counter on every request.
 * - A call that does not answer within RENEW_DEADLINE_MS answers its waiting requests 503 with
 *   `Retry-After` (src/overload.ts) and lets the next request call again: a shared call must not
 *   hold every request of the scope, for instance when the request that made it went away.
 * - At most MAX_SCOPES scopes per isolate (the names carry client addresses, which anyone picks):
 *   past that, the least recently used idle scope is forgotten (its units lost, never reused).
 */
import type { LeaseResult, RateCounter, Returned } from "../tenants/rate-counter";
import { overloadError, UNAVAILABLE_RETRY_AFTER_S } from "../overload";
import { leaseWant, REFUSAL_CACHE_MS } from "../tenants/lease-policy";

type Counters = DurableObjectNamespace<RateCounter>;

/** What one lease call brought: `left` units of `bucket`, to be spent before `endsAt` (this isolate's clock). */
export interface Lease {
  bucket: number;
  granted: number;
  left: number;
  endsAt: number;
}

/** One scope as this isolate holds it. */
interface Held {
  lease: Lease | null;
  /** Units to give back to the counter with the next call, by bucket. */
  returns: Map<number, number>;
  refusedUntil: number;
  retryAt: number;
  limit: number;
  renewing: Promise<Lease | null> | null;
  waiting: number;
}

/** A scope's counter and its limit. */
export interface Counted {
  name: string;
  limit: number;
  windowMs: number;
}

export type Taken = { ok: true; lease: Lease } | { ok: false; limit: number; retryAfterMs: number };

export const MAX_SCOPES = 10_000;
/** Longest a request waits for its scope's counter before answering 503 (it never waits when units are held). */
export const RENEW_DEADLINE_MS = 5_000;

const heldBy = new WeakMap<object, Map<string, Held>>();

function heldFor(ns: Counters, name: string): Held {
  let scopes = heldBy.get(ns);
  if (!scopes) heldBy.set(ns, (scopes = new Map()));
  let h = scopes.get(name);
  if (h) {
    // Most recently used last: the map's order is the eviction order.
    scopes.delete(name);
    scopes.set(name, h);
    return h;
  }
  h = { lease: null, returns: new Map(), refusedUntil: 0, retryAt: 0, limit: 0, renewing: null, waiting: 0 };
  scopes.set(name, h);
  if (scopes.size > MAX_SCOPES) {
    for (const [k, v] of scopes) {
      if (scopes.size <= MAX_SCOPES) break;
      if (!v.renewing && v.waiting === 0) scopes.delete(k);
    }
  }
  return h;
}

/**
 * Takes one unit of `scope` for a request: from this isolate's lease, else from a new one.
 * @throws what the counter's call throws (an overloaded object: src/overload.ts maps it to 503).
 */
export async function take(ns: Counters, scope: Counted): Promise<Taken> {
  const h = heldFor(ns, scope.name);
  for (;;) {
    const now = Date.now();
    if (now < h.refusedUntil) return { ok: false, limit: h.limit, retryAfterMs: Math.max(0, h.retryAt - now) };
    const current = h.lease;
    if (current && current.left > 0 && now < current.endsAt) {
      current.left--;
      return { ok: true, lease: current };
    }
    h.waiting++;
    let brought: Lease | null;
    try {
      const call = (h.renewing ??= renew(ns, scope, h).finally(() => {
        if (h.renewing === call) h.renewing = null;
      }));
      brought = await withinDeadline(call, () => {
        if (h.renewing === call) h.renewing = null;
      });
    } finally {
      h.waiting--;
    }
    // The units a call brings go to the requests that waited for it, whenever they resume.
    if (brought && brought.left > 0) {
      brought.left--;
      return { ok: true, lease: brought };
    }
  }
}

/**
 * `call`, or a 503 `temporarily_unavailable` after RENEW_DEADLINE_MS: a call shared by requests
 * (single-flight) must not hold all of them when it hangs, for instance when the request that
 * made it went away. `giveUp` lets the next request make a call of its own.
 */
async function withinDeadline<T>(call: Promise<T>, giveUp: () => void): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      giveUp();
      reject(overloadError({ kind: "unavailable", retryAfterS: UNAVAILABLE_RETRY_AFTER_S }));
    }, RENEW_DEADLINE_MS);
  });
  try {
    return await Promise.race([call, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Gives back a unit taken for a request that another scope refused. */
export function giveBack(ns: Counters, name: string, lease: Lease): void {
  const h = heldFor(ns, name);
  if (h.lease === lease && Date.now() < lease.endsAt) lease.left++;
  else h.returns.set(lease.bucket, (h.returns.get(lease.bucket) ?? 0) + 1);
}

/** One call to the counter: gives back what this isolate no longer holds, asks for a new lease. */
async function renew(ns: Counters, scope: Counted, h: Held): Promise<Lease | null> {
  const last = h.lease;
  const served = last && { granted: last.granted, used: last.granted - last.left };
  if (last && last.left > 0) h.returns.set(last.bucket, (h.returns.get(last.bucket) ?? 0) + last.left);
  if (last) last.left = 0;
  // Units given back while the call runs wait for the next one.
  h.lease = null;
  const returns: Returned[] = [...h.returns].map(([bucket, count]) => ({ bucket, count }));
  h.returns.clear();
  const want = leaseWant(h.waiting, served);
  const sentAt = Date.now();
  const r: LeaseResult = await ns.getByName(scope.name).lease(scope.limit, scope.windowMs, want, returns);
  h.limit = r.limit;
  if (!r.ok) {
    const now = Date.now();
    h.retryAt = now + r.retryAfterMs;
    h.refusedUntil = now + Math.max(1, Math.min(r.retryAfterMs, REFUSAL_CACHE_MS));
    return null;
  }
  const lease: Lease = { bucket: r.bucket, granted: r.granted, left: r.granted, endsAt: sentAt + r.ttlMs };
  h.lease = lease;
  return lease;
}
