/**
 * @module metering/shards
 * A tenant's usage lives in METER_SHARDS UsageMeter objects, not one: writers pick a shard (an
 * isolate its own, a tracker by its container), readers sum them. One Durable Object takes a few
 * hundred writes a second (https://developers.cloudflare.com/durable-objects/platform/limits/);
 * with batched writes (./record.ts, ./outbox.ts) and shards, a tenant's meter takes
 * O(isolates and trackers / flush interval / METER_SHARDS) writes per object, not one per file.
 *
 * Shard 0 is named after the tenant alone, as the single meter was, so counts from before the
 * split are still summed. Tenant ids never contain `:` (tenants/schema.ts), so `<tenant>:s<n>`
 * names nothing else.
 */
import type { Bindings } from "../config";
import { LookupCache } from "../durable/lookup-cache";
import { fnv1a } from "../encoding/fnv1a";
import { meterFor } from "./meter-stub";
import { METRICS, type Metric, type UsageReport } from "./usage";

export const METER_SHARDS = 8;

/**
 * How old the byte total a copy checks against `bytes_per_tenant` may be: a tenant can exceed
 * its limit by at most what it stores in this long (plus the flush delay of ./outbox.ts).
 */
export const USAGE_READ_MS = 10_000;

/** The object name of one shard of a tenant's meter. */
export function shardName(tenant: string, shard: number): string {
  return shard === 0 ? tenant : `${tenant}:s${shard}`;
}

/** Pure: the shard a writer named `source` always writes to (FNV-1a), so a retried batch meets its own dedup record. */
export function shardOf(source: string): number {
  return fnv1a(source) % METER_SHARDS;
}

let isolateSource_: string | undefined;

/**
 * This isolate's name as a writer (a random one: isolates spread over the shards). Made on first
 * use, because the Workers runtime refuses random values in global scope
 * (https://developers.cloudflare.com/workers/runtime-apis/handlers/).
 */
export function isolateSource(): string {
  isolateSource_ ??= `isolate:${crypto.randomUUID()}`;
  return isolateSource_;
}

/** Pure: one report from the reports of every shard. */
export function sumReports(tenant: string, from: string | null, to: string | null, parts: UsageReport[]): UsageReport {
  const zero = () => Object.fromEntries(METRICS.map((m) => [m, 0])) as Record<Metric, number>;
  const totals = zero();
  const days = new Map<string, Record<Metric, number>>();
  for (const part of parts) {
    for (const m of METRICS) totals[m] += part.totals[m];
    for (const d of part.days) {
      const sum = days.get(d.day) ?? zero();
      for (const m of METRICS) sum[m] += d[m];
      days.set(d.day, sum);
    }
  }
  const sorted = [...days].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { tenant, from, to, totals, days: sorted.map(([day, d]) => ({ day, ...d })) };
}

/** A tenant's usage: every shard read (METER_SHARDS calls in parallel) and summed. */
export async function tenantUsage(
  env: Pick<Bindings, "USAGE_METER">,
  tenant: string,
  from: string | null = null,
  to: string | null = null,
): Promise<UsageReport> {
  const parts = await Promise.all(
    Array.from({ length: METER_SHARDS }, (_, i) => meterFor(env, shardName(tenant, i)).report(tenant, from, to)),
  );
  return sumReports(tenant, from, to, parts);
}

const storedBytes = new LookupCache<number>({
  freshMs: USAGE_READ_MS,
  staleIfErrorMs: 30 * USAGE_READ_MS,
  maxEntries: 10_000,
});

/**
 * The bytes a tenant has stored, as metered, read at most once per USAGE_READ_MS per isolate
 * (single-flight within `caller`; the last good total while the meter fails). `caller`: the
 * Durable Object asking (a tracker's copy), which shares a call under way with no other object
 * (src/durable/lookup-cache.ts).
 */
export function tenantBytesStored(
  env: Pick<Bindings, "USAGE_METER">,
  tenant: string,
  caller?: object,
): Promise<number> {
  return storedBytes.get(tenant, async () => (await tenantUsage(env, tenant)).totals.bytes_stored, Date.now(), caller);
}
