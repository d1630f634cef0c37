/**
 * @module tenants/rate-counter
 * RateCounter: one Durable Object per rate-limit scope (src/auth/limits.ts names them), storing
 * the buckets of a sliding window; the rule that admits or refuses is tenants/sliding-window.ts.
 * A Durable Object runs one event at a time and `hit` reads, decides and writes with no await in
 * between, so concurrent requests can never both take the last slot. The platform's rate-limit
 * binding is per location and approximate (https://developers.cloudflare.com/workers/runtime-apis/bindings/rate-limit/),
 * and one global limiter object would be a bottleneck.
 */
import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "../config";
import { openMigrated } from "../durable/sqlite-migrations";
import { decide, type Bucket } from "./sliding-window";

// `windows` held fixed windows before; a row is now one bucket (same shape), so old rows read as
// one full bucket at their window's start: counted, never lost.
const MIGRATIONS = [`CREATE TABLE windows (start INTEGER PRIMARY KEY, count INTEGER NOT NULL)`];

export interface HitResult {
  ok: boolean;
  limit: number;
  remaining: number;
  /** Refused: ms until a request would be admitted. */
  retryAfterMs: number;
  /** Admitted: the bucket it was counted in, for `undo`. */
  bucket: number;
}

export class RateCounter extends DurableObject<Bindings> {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    this.#sql = openMigrated(ctx, MIGRATIONS);
  }

  /** Counts one request unless `limit` were admitted in the last `windowMs`. Refused requests are not counted. */
  hit(limit: number, windowMs: number): HitResult {
    const stored = this.#sql.exec<{ start: number; count: number }>("SELECT start, count FROM windows").toArray();
    const d = decide(stored, Date.now(), limit, windowMs);
    this.#store(stored, d.buckets);
    return d.ok
      ? { ok: true, limit, remaining: d.remaining, retryAfterMs: 0, bucket: d.bucket }
      : { ok: false, limit, remaining: 0, retryAfterMs: d.retryAfterMs, bucket: -1 };
  }

  /** Takes back one request counted in `bucket` (another scope refused it). */
  undo(bucket: number): void {
    this.#sql.exec("UPDATE windows SET count = count - 1 WHERE start = ? AND count > 0", bucket);
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
