/**
 * @module auth/limits
 * Rate limits for one request: the tenant's and the key's requests per minute, and for
 * publishable keys a per-IP per-minute limit and a daily cap. Each scope has its own exact
 * counter (tenants/rate-counter.ts); a request refused by one scope is taken back from the
 * others, so it costs no budget. Nothing is counted when nothing is configured, so the
 * single-tenant default (no limits on the secret key) costs no round trip.
 */
import type { Bindings } from "../config";
import { UnsandboxError } from "../errors";
import type { HitResult } from "../tenants/rate-counter";
import type { Caller } from "./caller";

const MINUTE = 60_000;
const DAY = 86_400_000;

/** The counters one request must pass: `[scope, limit, windowMs]`. */
export function scopesFor(caller: Caller, ip: string): [string, number, number][] {
  const out: [string, number, number][] = [];
  if (caller.limits.tenant.requests_per_minute) out.push([`tenant:${caller.tenant}`, caller.limits.tenant.requests_per_minute, MINUTE]);
  if (caller.limits.key.requests_per_minute) out.push([`key:${caller.tenant}:${caller.keyId}`, caller.limits.key.requests_per_minute, MINUTE]);
  if (caller.widget) {
    out.push([`ip:${caller.tenant}:${caller.keyId}:${ip}`, caller.widget.per_ip_per_minute, MINUTE]);
    out.push([`day:${caller.tenant}:${caller.keyId}`, caller.widget.daily_cap, DAY]);
  }
  return out;
}

/**
 * Counts this request in every scope and refuses it when one is full.
 * @throws UnsandboxError 429 `rate_limit_exceeded` with `retry-after` (seconds).
 */
export async function enforceLimits(env: Bindings, caller: Caller, ip: string): Promise<void> {
  const scopes = scopesFor(caller, ip);
  if (scopes.length === 0) return;
  const ns = env.RATE_COUNTER;
  const results: HitResult[] = await Promise.all(scopes.map(([scope, limit, windowMs]) => ns.getByName(scope).hit(limit, windowMs)));
  const refused = results.findIndex((r) => !r.ok);
  if (refused < 0) return;
  // A refused request uses no budget anywhere: give back what the other scopes counted.
  await Promise.all(results.map((r, i) => (r.ok ? ns.getByName(scopes[i]![0]).undo(scopes[i]![2], r.resetAt) : undefined)));
  const r = results[refused]!;
  const scope = scopes[refused]![0].split(":")[0];
  const what = { tenant: "this tenant's requests per minute", key: "this key's requests per minute", ip: "requests per minute from your address", day: "this key's daily cap" }[scope!] ?? "a limit";
  throw new UnsandboxError(429, `Rate limit reached: ${what} (${r.limit}). Try again later.`, {
    code: "rate_limit_exceeded",
    headers: { "retry-after": String(Math.max(1, Math.ceil((r.resetAt - Date.now()) / 1000))) },
  });
}
