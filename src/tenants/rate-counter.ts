/**
 * @module tenants/rate-counter
 * RateCounter: one Durable Object per rate-limit scope (`key:<id>`, `tenant:<id>`,
 * `ip:<key>:<ip>`, `day:<key>`), counting fixed windows exactly. A Durable Object runs one event
 * at a time and `hit` does its read and write with no await in between, so concurrent requests
 * can never both take the last slot. The platform's rate-limit binding is per location and
 * approximate (see the reference notes), and one global limiter object would be a bottleneck.
 */
import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "../config";
import { openMigrated } from "../durable/sqlite-migrations";

const MIGRATIONS = [`CREATE TABLE windows (start INTEGER PRIMARY KEY, count INTEGER NOT NULL)`];

export interface HitResult {
  ok: boolean;
  limit: number;
  remaining: number;
  /** Unix ms when the current window ends. */
  resetAt: number;
}

export class RateCounter extends DurableObject<Bindings> {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    this.#sql = openMigrated(ctx, MIGRATIONS);
  }

  /**
   * Counts one request in the window of `windowMs` containing now, unless the window already
   * holds `limit` requests. Refused requests are not counted. Old windows are dropped.
   */
  hit(limit: number, windowMs: number): HitResult {
    const now = Date.now();
    const start = now - (now % windowMs);
    const resetAt = start + windowMs;
    this.#sql.exec("DELETE FROM windows WHERE start < ?", start);
    const count = this.#sql.exec<{ count: number }>("SELECT count FROM windows WHERE start = ?", start).toArray()[0]?.count ?? 0;
    if (count >= limit) return { ok: false, limit, remaining: 0, resetAt };
    this.#sql.exec("INSERT INTO windows (start, count) VALUES (?, 1) ON CONFLICT (start) DO UPDATE SET count = count + 1", start);
    return { ok: true, limit, remaining: limit - count - 1, resetAt };
  }

  /** Takes back one counted request of the window ending at `resetAt` (another scope refused it). */
  undo(windowMs: number, resetAt: number): void {
    this.#sql.exec("UPDATE windows SET count = count - 1 WHERE start = ? AND count > 0", resetAt - windowMs);
  }
}
