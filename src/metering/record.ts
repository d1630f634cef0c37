/**
 * @module metering/record
 * The request path's usage (`meter(env, tenant, delta)`, from the request log line): added to this
 * isolate's pending counters and sent as one batch per tenant at most once per FLUSH_MS, to this
 * isolate's shard (./shards.ts). The caller hands the returned promise to `waitUntil`
 * (https://developers.cloudflare.com/workers/runtime-apis/context/#waituntil), so the answer never
 * waits for it and the isolate lives until the batch that carries its counts is sent.
 *
 * A batch that fails is sent again with the same entry ids (the shard counts each id once), up
 * to SEND_ATTEMPTS times within that `waitUntil`, then with the next flush of the isolate. It
 * never throws: metering must not fail a request.
 */
import type { Bindings } from "../config";
import { errorFields, logEvent } from "../log";
import { meterFor } from "./meter-stub";
import type { UsageEntry } from "./meter";
import { isolateSource, shardName, shardOf } from "./shards";
import { cleanDelta, dayOf, type UsageDelta } from "./usage";

export { meterFor } from "./meter-stub";

/** At most one batch per tenant per isolate this often; what arrives meanwhile joins the next. */
export const FLUSH_MS = 250;
const SEND_ATTEMPTS = 3;

interface Batch {
  tenant: string;
  entries: UsageEntry[];
}

/** What one isolate holds for one meter namespace (tests call the Worker with several envs). */
interface Pending {
  counts: Map<string, Map<string, UsageDelta>>;
  failed: Batch[];
  next: Promise<void> | null;
  lastFlush: number;
}

const pendingBy = new WeakMap<object, Pending>();

/** Adds `delta` to `tenant`'s counters for today; resolves once a flush carried it (or gave up for now). */
export function meter(
  env: Pick<Bindings, "USAGE_METER">,
  tenant: string,
  delta: UsageDelta,
  atMs = Date.now(),
): Promise<void> {
  const clean = cleanDelta(delta);
  if (clean.length === 0) return Promise.resolve();
  let p = pendingBy.get(env.USAGE_METER);
  if (!p) pendingBy.set(env.USAGE_METER, (p = { counts: new Map(), failed: [], next: null, lastFlush: 0 }));
  const days = p.counts.get(tenant) ?? new Map<string, UsageDelta>();
  const day = dayOf(atMs);
  const sum = days.get(day) ?? {};
  for (const [m, v] of clean) sum[m] = (sum[m] ?? 0) + v;
  days.set(day, sum);
  p.counts.set(tenant, days);
  if (p.next) return p.next;
  const pending = p;
  const wait = Math.max(0, pending.lastFlush + FLUSH_MS - Date.now());
  pending.next = new Promise<void>((r) => setTimeout(r, wait)).then(() => flush(env, pending));
  return pending.next;
}

async function flush(env: Pick<Bindings, "USAGE_METER">, p: Pending): Promise<void> {
  p.next = null;
  p.lastFlush = Date.now();
  const batchId = crypto.randomUUID();
  const batches: Batch[] = [...p.failed.splice(0)];
  for (const [tenant, days] of p.counts) {
    batches.push({ tenant, entries: [...days].map(([day, delta]) => ({ id: `${batchId}/${day}`, day, delta })) });
  }
  p.counts.clear();
  await Promise.all(batches.map((b) => send(env, b, p)));
}

async function send(env: Pick<Bindings, "USAGE_METER">, batch: Batch, p: Pending): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await meterFor(env, shardName(batch.tenant, shardOf(isolateSource()))).apply(batch.tenant, batch.entries);
      return;
    } catch (err) {
      logEvent("error", "metering_error", { tenant: batch.tenant, attempt, ...errorFields(err) });
      if (attempt >= SEND_ATTEMPTS) {
        p.failed.push(batch);
        return;
      }
      await new Promise((r) => setTimeout(r, 100 * 4 ** attempt));
    }
  }
}
