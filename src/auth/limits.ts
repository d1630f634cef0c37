/**
 * @module auth/limits
 * Rate limits for one request. Every limit holds in any window of its length (a sliding window:
 * tenants/sliding-window.ts), exactly under concurrency (one Durable Object counter per scope:
 * tenants/rate-counter.ts). Nothing is counted when nothing is configured, so the single-tenant
 * default (no limits on the secret key) costs no round trip.
 *
 * Every request counts against the tenant's and the key's `requests_per_minute`. A publishable
 * key is public, so its limits are shaped so that nobody holding it can use up what real visitors
 * need:
 * - Only response creates (the requests that run a model) count against the key's daily cap.
 *   Visitor sessions and reads (the widget polls a response's manifest while copies run) cost
 *   no model and would otherwise let anyone burn the cap without running anything.
 * - Session issuance has its own per-address limit (`per_ip_per_minute` sessions a minute), and
 *   reads theirs ({@link READS_PER_CREATE} times `per_ip_per_minute`), so neither is free either.
 * - A create passes the per-address limits first (per minute, and the address's daily share,
 *   `per_ip_daily_cap`, a tenth of the daily cap unless set) and only then touches the daily
 *   counter: one address can take at most its share of the day, and a request refused for its
 *   address never takes a slot of the day, not even for a moment.
 * - Addresses are bucketed as auth/client-address.ts says (an IPv6 /64 is one client).
 * A request refused by one scope is taken back from the scopes that had counted it, so a
 * refusal costs no budget anywhere. Many addresses (a botnet) can still share out the daily cap
 * between them: the cap bounds the operator's cost, the per-address shares bound one client.
 */
import type { Bindings } from "../config";
import { UnsandboxError } from "../errors";
import type { HitResult, RateCounter } from "../tenants/rate-counter";
import type { WidgetSettings } from "../tenants/schema";
import type { Caller } from "./caller";
import { addressBucket } from "./client-address";

const MINUTE = 60_000;
const DAY = 86_400_000;

/** A visitor's reads per minute allowed for each create it may make in a minute (polls of one turn's files). */
export const READS_PER_CREATE = 10;

/** What a request is, for the limits: a visitor session, a read, or anything else (a create). */
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

/**
 * The counters one request must pass, in stages: a stage is counted only when every scope of
 * the stages before admitted the request.
 */
export function scopesFor(caller: Caller, ip: string, kind: RequestClass): Scope[][] {
  const first: Scope[] = [];
  const { tenant, keyId } = caller;
  if (caller.limits.tenant.requests_per_minute) first.push({ name: `tenant:${tenant}`, limit: caller.limits.tenant.requests_per_minute, windowMs: MINUTE, what: "this tenant's requests per minute" });
  if (caller.limits.key.requests_per_minute) first.push({ name: `key:${tenant}:${keyId}`, limit: caller.limits.key.requests_per_minute, windowMs: MINUTE, what: "this key's requests per minute" });
  if (!caller.widget) return first.length ? [first] : [];
  const w = caller.widget;
  const addr = addressBucket(ip);
  if (kind === "session") {
    first.push({ name: `sess:${tenant}:${keyId}:${addr}`, limit: w.per_ip_per_minute, windowMs: MINUTE, what: "visitor sessions per minute from your address" });
    return [first];
  }
  if (kind === "read") {
    first.push({ name: `read:${tenant}:${keyId}:${addr}`, limit: w.per_ip_per_minute * READS_PER_CREATE, windowMs: MINUTE, what: "reads per minute from your address" });
    return [first];
  }
  first.push({ name: `ip:${tenant}:${keyId}:${addr}`, limit: w.per_ip_per_minute, windowMs: MINUTE, what: "requests per minute from your address" });
  first.push({ name: `ipday:${tenant}:${keyId}:${addr}`, limit: perIpDailyCap(w), windowMs: DAY, what: "your address's share of this key's daily cap" });
  return [first, [{ name: `day:${tenant}:${keyId}`, limit: w.daily_cap, windowMs: DAY, what: "this key's daily cap" }]];
}

/**
 * Counts this request in every scope and refuses it when one is full.
 * @throws UnsandboxError 429 `rate_limit_exceeded` with `retry-after` (seconds).
 */
export async function enforceLimits(env: Bindings, caller: Caller, ip: string, kind: RequestClass): Promise<void> {
  const stages = scopesFor(caller, ip, kind);
  if (stages.length === 0) return;
  const ns = env.RATE_COUNTER as DurableObjectNamespace<RateCounter>;
  const counted: [Scope, HitResult][] = [];
  for (const stage of stages) {
    const results: HitResult[] = await Promise.all(stage.map((s) => ns.getByName(s.name).hit(s.limit, s.windowMs)));
    stage.forEach((s, i) => counted.push([s, results[i]!]));
    const refused = results.findIndex((r) => !r.ok);
    if (refused < 0) continue;
    // A refused request uses no budget anywhere: give back what the other scopes counted.
    await Promise.all(counted.map(([s, r]) => (r.ok ? ns.getByName(s.name).undo(r.bucket) : undefined)));
    const r = results[refused]!;
    throw new UnsandboxError(429, `Rate limit reached: ${stage[refused]!.what} (${r.limit}). Try again later.`, {
      code: "rate_limit_exceeded",
      headers: { "retry-after": String(Math.max(1, Math.ceil(r.retryAfterMs / 1000))) },
    });
  }
}
