/**
 * @module metering/meter
 * UsageMeter: one Durable Object per tenant (`getByName(tenant)`) holding that tenant's daily
 * counters, plus one instance named `TENANT_INDEX` that remembers which tenants have any usage,
 * so the admin report can list them in every mode (single-tenant has no tenant directory).
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

const MIGRATIONS = [
  `CREATE TABLE usage (day TEXT NOT NULL, metric TEXT NOT NULL, value INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (day, metric));
   CREATE TABLE tenants (tenant TEXT PRIMARY KEY, first_seen_at INTEGER NOT NULL)`,
];

export class UsageMeter extends DurableObject<Bindings> {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    this.#sql = openMigrated(ctx, MIGRATIONS);
  }

  /** Adds `delta` to the counters of the UTC day of `atMs` (default now). */
  add(delta: UsageDelta, atMs?: number): void {
    const day = dayOf(atMs ?? Date.now());
    for (const [metric, value] of cleanDelta(delta)) {
      this.#sql.exec(
        "INSERT INTO usage (day, metric, value) VALUES (?, ?, ?) ON CONFLICT (day, metric) DO UPDATE SET value = value + excluded.value",
        day, metric, value,
      );
    }
  }

  /** The counters between two UTC days (inclusive; null = unbounded). */
  report(tenant: string, from: string | null = null, to: string | null = null): UsageReport {
    const rows = this.#sql
      .exec<{ day: string; metric: string; value: number }>(
        "SELECT day, metric, value FROM usage WHERE (? IS NULL OR day >= ?) AND (? IS NULL OR day <= ?) ORDER BY day",
        from, from, to, to,
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
    this.#sql.exec("INSERT INTO tenants (tenant, first_seen_at) VALUES (?, ?) ON CONFLICT DO NOTHING", tenant, Date.now());
  }

  /** On the index instance: every tenant with usage, sorted. */
  tenants(): string[] {
    return this.#sql.exec<{ tenant: string }>("SELECT tenant FROM tenants ORDER BY tenant").toArray().map((r) => r.tenant);
  }
}
