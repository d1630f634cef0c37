/**
 * @module metering/meter
 * UsageMeter: METER_SHARDS Durable Objects per tenant (./shards.ts: `<tenant>`, `<tenant>:s1`, …)
 * holding that tenant's daily counters, summed on read, plus one instance named `TENANT_INDEX`
 * that remembers which tenants have any usage, so the admin report can list them in every mode
 * (single-tenant has no tenant directory).
 *
 * Writers send batches (`apply`), each entry with an id the shard remembers for APPLIED_KEEP_MS:
 * a batch sent again after an unknown outcome (a timeout, an eviction before the sender noted
 * success) counts once, so at-least-once delivery gives exact totals.
 *
 * Why a Durable Object and not KV or Analytics Engine: increments must not be lost under
 * concurrency (KV has no atomic add and is eventually consistent), and the admin route must read
 * its own numbers back (Analytics Engine is queried through a separate SQL API with an account
 * token). One object per tenant keeps each tenant's write rate far below one object's limit.
 */
import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "../config";
import { openMigrated } from "../durable/sqlite-migrations";
import { cleanDelta, dayOf, METRICS, type Metric, type UsageDelta, type UsageReport } from "./usage";

/** The name of the instance that lists tenants. Tenant ids never contain `:` (tenants/schema.ts). */
export const TENANT_INDEX = "index:tenants";

/** How long a shard remembers an applied entry id (a sender retries for far less). */
export const APPLIED_KEEP_MS = 7 * 24 * 3600_000;

/** One increment of a batch: its id (unique per sender), its UTC day, what it adds. */
export interface UsageEntry {
  id: string;
  day: string;
  delta: UsageDelta;
}

const MIGRATIONS = [
  `CREATE TABLE usage (day TEXT NOT NULL, metric TEXT NOT NULL, value INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (day, metric));
   CREATE TABLE tenants (tenant TEXT PRIMARY KEY, first_seen_at INTEGER NOT NULL)`,
  // v2: ids of the batch entries applied (dedup of retried batches).
  `CREATE TABLE applied (id TEXT PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID;
   CREATE INDEX applied_by_at ON applied (at)`,
];

export class UsageMeter extends DurableObject<Bindings> {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    this.#sql = openMigrated(ctx, MIGRATIONS);
  }

  /** Adds `delta` to the counters of the UTC day of `atMs` (default now). */
  add(delta: UsageDelta, atMs?: number): void {
    this.#addDay(dayOf(atMs ?? Date.now()), delta);
  }

  #addDay(day: string, delta: UsageDelta): void {
    for (const [metric, value] of cleanDelta(delta)) {
      this.#sql.exec(
        "INSERT INTO usage (day, metric, value) VALUES (?, ?, ?) ON CONFLICT (day, metric) DO UPDATE SET value = value + excluded.value",
        day,
        metric,
        value,
      );
    }
  }

  /**
   * Applies a batch of `tenant`'s usage: every entry whose id this shard has not applied yet.
   * The first batch a shard sees tells the tenant index about the tenant (before anything is
   * counted, so a failure there is retried with the batch). Returns how many entries counted.
   */
  async apply(tenant: string, entries: UsageEntry[]): Promise<number> {
    if (this.#sql.exec("SELECT 1 FROM tenants WHERE tenant = ?", tenant).toArray().length === 0) {
      await this.env.USAGE_METER.getByName(TENANT_INDEX).remember(tenant);
      this.remember(tenant);
    }
    const now = Date.now();
    let counted = 0;
    for (const e of entries) {
      if (this.#sql.exec("INSERT OR IGNORE INTO applied (id, at) VALUES (?, ?)", e.id, now).rowsWritten === 0) continue;
      this.#addDay(e.day, e.delta);
      counted++;
    }
    this.#sql.exec("DELETE FROM applied WHERE at < ?", now - APPLIED_KEEP_MS);
    return counted;
  }

  /** The counters between two UTC days (inclusive; null = unbounded). */
  report(tenant: string, from: string | null = null, to: string | null = null): UsageReport {
    const rows = this.#sql
      .exec<{ day: string; metric: string; value: number }>(
        "SELECT day, metric, value FROM usage WHERE (? IS NULL OR day >= ?) AND (? IS NULL OR day <= ?) ORDER BY day",
        from,
        from,
        to,
        to,
      )
      .toArray();
    const zero = () => Object.fromEntries(METRICS.map((m) => [m, 0])) as Record<Metric, number>;
    const totals = zero();
    const days = new Map<string, Record<Metric, number>>();
    for (const r of rows) {
      if (!(METRICS as readonly string[]).includes(r.metric)) continue;
      const d = days.get(r.day) ?? zero();
      d[r.metric as Metric] += r.value;
      totals[r.metric as Metric] += r.value;
      days.set(r.day, d);
    }
    return { tenant, from, to, totals, days: [...days].map(([day, d]) => ({ day, ...d })) };
  }

  /** On the index instance: remembers a tenant (idempotent). */
  remember(tenant: string): void {
    this.#sql.exec(
      "INSERT INTO tenants (tenant, first_seen_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
      tenant,
      Date.now(),
    );
  }

  /** On the index instance: every tenant with usage, sorted. */
  tenants(): string[] {
    return this.#sql
      .exec<{ tenant: string }>("SELECT tenant FROM tenants ORDER BY tenant")
      .toArray()
      .map((r) => r.tenant);
  }
}
