/**
 * @module tenants/rate-counter
 * RateCounter: one Durable Object per rate-limit scope (src/auth/limits.ts names them), storing
 * the buckets of a sliding window; the rule that admits or refuses is tenants/sliding-window.ts.
 * Isolates do not call it per request: they lease blocks of units (`lease`) and spend them
 * locally (src/auth/leases.ts; sizes and bounds in tenants/lease-policy.ts), so a popular scope's
 * counter takes about one call per busy isolate per lease.
 *
 * A Durable Object runs one event at a time and `lease` takes back returned units, reads, decides
 * and writes with no await in between, so concurrent isolates can never both take the last
 * units. The platform's rate-limit binding
 * (https://developers.cloudflare.com/workers/runtime-apis/bindings/rate-limit/) is not used: its
 * limit and period are fixed per binding in wrangler.toml (10 or 60 s), while every limit here is
 * set per tenant or key (`requests_per_minute`, `per_ip_per_minute`, `daily_cap`), and it counts
 * per Cloudflare location, so a client reaching two locations would get twice its limit.
 */
import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "../config";
import { openMigrated } from "../durable/sqlite-migrations";
import { leaseCap, leaseTtl } from "./lease-policy";
import { type Bucket, grant } from "./sliding-window";

// `windows` held fixed windows before; a row is now one bucket (same shape), so old rows read as
// one full bucket at their window's start: counted, never lost.
const MIGRATIONS = [`CREATE TABLE windows (start INTEGER PRIMARY KEY, count INTEGER NOT NULL)`];

/** Unused units of earlier leases, given back: `count` units counted in the bucket `bucket`. */
export interface Returned {
  bucket: number;
  count: number;
}

export type LeaseResult =
  | {
      ok: true;
      limit: number;
      /** Units granted (1..want), counted now. */
      granted: number;
      /** The bucket they were counted in (to give them back). */
      bucket: number;
      /** How long the lease may be spent, from this call (ms). */
      ttlMs: number;
    }
  | { ok: false; limit: number /** ms until a request would be admitted */; retryAfterMs: number };

/** Most returned entries one call takes (an isolate holds one lease per scope at a time). */
const MAX_RETURNS = 64;

export class RateCounter extends DurableObject<Bindings> {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    this.#sql = openMigrated(ctx, MIGRATIONS);
  }

  /**
   * Takes back `returns`, then grants up to `want` units unless `limit` were admitted in the last
   * `windowMs` (tenants/lease-policy.ts caps a grant). Refused requests are not counted.
   */
  lease(limit: number, windowMs: number, want: number, returns: Returned[] = []): LeaseResult {
    for (const r of returns.slice(0, MAX_RETURNS))
      this.#sql.exec("UPDATE windows SET count = max(0, count - ?) WHERE start = ?", Math.max(0, r.count), r.bucket);
    const stored = this.#sql.exec<{ start: number; count: number }>("SELECT start, count FROM windows").toArray();
    const now = Date.now();
    const g = grant(stored, now, limit, windowMs, want, leaseCap);
    this.#store(stored, g.buckets);
    return g.ok
      ? { ok: true, limit, granted: g.granted, bucket: g.bucket, ttlMs: leaseTtl(now, g.bucketEnd) }
      : { ok: false, limit, retryAfterMs: g.retryAfterMs };
  }

  /** Writes the buckets that changed and deletes those that left the window. */
  #store(before: Bucket[], after: Bucket[]): void {
    const old = new Map(before.map((b) => [b.start, b.count]));
    for (const b of after) {
      if (old.get(b.start) !== b.count)
        this.#sql.exec(
          "INSERT INTO windows (start, count) VALUES (?, ?) ON CONFLICT (start) DO UPDATE SET count = excluded.count",
          b.start,
          b.count,
        );
      old.delete(b.start);
    }
    for (const start of old.keys()) this.#sql.exec("DELETE FROM windows WHERE start = ?", start);
  }
}
