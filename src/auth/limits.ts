/**
 * @module auth/limits
 * Rate limits for one request. Every limit holds in any window of its length (a sliding window:
 * tenants/sliding-window.ts) under any concurrency, and is never exceeded: each scope has one
 * Durable Object counter (tenants/rate-counter.ts), and isolates take its units in leases, counted
 * when granted, spent one per request (auth/leases.ts). So a popular scope (a tenant's or key's
 * requests per minute, a widget key's daily cap) takes about one counter call per busy isolate
 * per lease, not one per request. The approximation is on the safe side: units an isolate holds
 * and does not use are unavailable elsewhere for a while (bounds: tenants/lease-policy.ts).
 * Nothing is counted when nothing is configured, so the single-tenant default (no limits on the
 * secret key) costs no round trip.
 *
 * Every request counts against the tenant's and the key's `requests_per_minute`. A publishable
 * key is public, so its limits are shaped so that nobody holding it can use up what real visitors
 * need:
 * - Only response creates (the requests that run a model) count against the key's daily cap.
 *   Visitor sessions and reads (the widget polls a response's manifest while copies run) cost
 *   no model and would otherwise let anyone burn the cap without running anything.
 * - Session issuance has its own per-address limit (`per_ip_per_minute` sessions a minute), and
 *   reads theirs ({@link READS_PER_CREATE} times `per_ip_per_minute`), so neither is free either.
 * - A create passes the per-address minute limit as it is authenticated, and the daily counters
 *   only where the responses route is about to run it (after the body, ownership and route
 *   checks): first the address's daily share (`per_ip_daily_cap`, a tenth of the daily cap
 *   unless set), and only when that admitted it, the key's cap. One address can take at most its
 *   share of the day; a request refused for its address, or refused at all, never takes a slot
 *   of the day, not even for a moment.
 * - Addresses are bucketed as auth/client-address.ts says (an IPv6 /64 is one client).
 * A request refused by one scope is taken back from the scopes counted with it (the daily ones
 * are counted apart, so a create refused for the day keeps the minute slot it took as a
 * request, and nothing else). Many addresses (a botnet) can still share out the daily cap
 * between them: the cap bounds the operator's cost, the per-address shares bound one client.
 */
import type { Bindings } from "../config";
import { UnsandboxError } from "../errors";
import type { WidgetSettings } from "../tenants/schema";
import type { Caller } from "./caller";
import { addressBucket } from "./client-address";
import { giveBack, type Lease, take } from "./leases";

const MINUTE = 60_000;
const DAY = 86_400_000;

/** A visitor's reads per minute allowed for each create it may make in a minute (polls of one turn's files). */
export const READS_PER_CREATE = 10;

/** What a request is, for the limits: a visitor session, a read, or anything else (counted like a create). */
export type RequestClass = "session" | "read" | "create";

/** One counter a request must pass. */
export interface Scope {
  name: string;
  limit: number;
  windowMs: number;
  /** What the 429 names. */
  what: string;
}

/** The address's daily share of a publishable key's cap. */
export function perIpDailyCap(widget: WidgetSettings): number {
  return widget.per_ip_daily_cap ?? Math.max(1, Math.ceil(widget.daily_cap / 10));
}

/** The counters every request must pass as it is authenticated. */
export function scopesFor(caller: Caller, ip: string, kind: RequestClass): Scope[] {
  const out: Scope[] = [];
  const { tenant, keyId } = caller;
  if (caller.limits.tenant.requests_per_minute)
    out.push({
      name: `tenant:${tenant}`,
      limit: caller.limits.tenant.requests_per_minute,
      windowMs: MINUTE,
      what: "this tenant's requests per minute",
    });
  if (caller.limits.key.requests_per_minute)
    out.push({
      name: `key:${tenant}:${keyId}`,
      limit: caller.limits.key.requests_per_minute,
      windowMs: MINUTE,
      what: "this key's requests per minute",
    });
  if (!caller.widget) return out;
  const w = caller.widget;
  const addr = addressBucket(ip);
  if (kind === "session")
    out.push({
      name: `sess:${tenant}:${keyId}:${addr}`,
      limit: w.per_ip_per_minute,
      windowMs: MINUTE,
      what: "visitor sessions per minute from your address",
    });
  else if (kind === "read")
    out.push({
      name: `read:${tenant}:${keyId}:${addr}`,
      limit: w.per_ip_per_minute * READS_PER_CREATE,
      windowMs: MINUTE,
      what: "reads per minute from your address",
    });
  else
    out.push({
      name: `ip:${tenant}:${keyId}:${addr}`,
      limit: w.per_ip_per_minute,
      windowMs: MINUTE,
      what: "requests per minute from your address",
    });
  return out;
}

/**
 * The daily counters of a publishable key's response create, in stages: the address's share,
 * and only when that admitted it, the key's cap.
 */
export function createScopes(caller: Caller, ip: string): Scope[][] {
  if (!caller.widget) return [];
  const { tenant, keyId, widget: w } = caller;
  const addr = addressBucket(ip);
  return [
    [
      {
        name: `ipday:${tenant}:${keyId}:${addr}`,
        limit: perIpDailyCap(w),
        windowMs: DAY,
        what: "your address's share of this key's daily cap",
      },
    ],
    [{ name: `day:${tenant}:${keyId}`, limit: w.daily_cap, windowMs: DAY, what: "this key's daily cap" }],
  ];
}

/**
 * Counts an authenticated request in its scopes (`authenticate` calls it for every request).
 * @throws UnsandboxError 429 `rate_limit_exceeded` with `retry-after` (seconds).
 */
export function enforceLimits(env: Bindings, caller: Caller, ip: string, kind: RequestClass): Promise<void> {
  const scopes = scopesFor(caller, ip, kind);
  return scopes.length ? countIn(env, [scopes]) : Promise.resolve();
}

/**
 * Counts a response create against a publishable key's daily counters. The responses route calls
 * it once every check passed, just before anything runs upstream: a create that is refused for
 * its body, its ids or its route never takes a slot of the day.
 * @throws UnsandboxError 429 `rate_limit_exceeded` with `retry-after` (seconds).
 */
export function enforceCreateLimits(env: Bindings, caller: Caller, ip: string): Promise<void> {
  const stages = createScopes(caller, ip);
  return stages.length ? countIn(env, stages) : Promise.resolve();
}

/** Counts in each stage in turn; on a refusal, takes back what every stage counted and throws. */
async function countIn(env: Bindings, stages: Scope[][]): Promise<void> {
  const ns = env.RATE_COUNTER;
  const counted: [Scope, Lease][] = [];
  for (const stage of stages) {
    const results = await Promise.allSettled(stage.map((s) => take(ns, s)));
    let refused: { scope: Scope; limit: number; retryAfterMs: number } | null = null;
    let failure: { reason: unknown } | null = null;
    for (const [i, r] of results.entries()) {
      if (r.status === "rejected") failure ??= r;
      else if (r.value.ok) counted.push([stage[i]!, r.value.lease]);
      else refused ??= { scope: stage[i]!, ...r.value };
    }
    if (!failure && !refused) continue;
    // A refused (or failed) request uses no budget anywhere: give back what the other scopes counted.
    for (const [s, lease] of counted) giveBack(ns, s.name, lease);
    if (failure) throw failure.reason;
    const { scope, limit, retryAfterMs } = refused!;
    throw new UnsandboxError(429, `Rate limit reached: ${scope.what} (${limit}). Try again later.`, {
      code: "rate_limit_exceeded",
      headers: { "retry-after": String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
    });
  }
}
