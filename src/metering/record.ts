/**
 * @module metering/record
 * The request path's usage (`meter(env, tenant, delta)`, from the request log line):
 * added to this isolate's pending counters and sent to this isolate's shard (./shards.ts) in one
 * batch per tenant per flush, at most one flush per `flushMs` (the env's `USAGE_FLUSH_MS`, default
 * FLUSH_MS = 20 s). The request never waits for it.
 *
 * A batch opens with the first count after the last flush and is sent `flushMs` later with
 * everything counted meanwhile. Only the request that opened it hands the flush to `waitUntil`
 * (https://developers.cloudflare.com/workers/runtime-apis/context/#waituntil): that keeps this
 * isolate's request context, and so the timer and the send, alive until the batch is out, for
 * up to 30 s after that request's answer (the same page: promises still pending after that are
 * cancelled). The requests that join an open batch have nothing to wait for: their counts ride in
 * it. So a popular download makes no Durable Object call of its own: an isolate sends one batch
 * per `flushMs` however many requests it served (O(isolates / flushMs) writes per tenant, spread
 * over the tenant's shards), and the bound on `flushMs` is that 30 s, less the send and its
 * retries (MAX_FLUSH_MS).
 *
 * Exact totals from at-least-once sends: a batch keeps the entry ids it was made with until a
 * shard acknowledged it, and the shard counts each id once (./meter.ts). A send that fails is
 * tried again (SEND_ATTEMPTS within that flush, then with every later flush of the isolate); a
 * flush whose request context was cancelled mid-send leaves its batch unacknowledged, and the next
 * flush sends it again. An open batch whose flush never ran (its context cancelled before the
 * timer) is noticed by the next count and flushed by that request instead.
 *
 * `flushUsage` sends what this isolate holds at once: the usage report calls it first, so the
 * isolate that answers it reports its own counts; the other isolates' counts are at most
 * `flushMs` behind (the opening request's timer still runs, finds its batch sent and ends its
 * `waitUntil`). It never throws: metering must not fail a request.
 */
import { loadConfig, type Bindings } from "../config";
import { errorFields, logEvent } from "../log";
import { meterFor } from "./meter-stub";
import type { UsageEntry } from "./meter";
import { isolateSource, shardName, shardOf } from "./shards";
import { cleanDelta, dayOf, type UsageDelta } from "./usage";

export { meterFor } from "./meter-stub";

/** The default: at most one batch per tenant per isolate this often; what arrives meanwhile joins it. */
export const FLUSH_MS = 20_000;
/**
 * The longest interval allowed: the opening request's `waitUntil` lasts at most 30 s after its
 * answer, and the send (SEND_ATTEMPTS, with their backoff) must fit in what is left.
 */
export const MAX_FLUSH_MS = 25_000;
const SEND_ATTEMPTS = 3;
/** A batch whose send began this long ago and never ended (its context was cancelled) is sent again. */
const STALE_SEND_MS = 35_000;
/** An open batch not flushed this long after it was due lost its timer (its context was cancelled). */
const OPEN_GRACE_MS = 5_000;

interface Batch {
  tenant: string;
  entries: UsageEntry[];
  /** When a send of it began (0: not being sent). */
  sendingSince: number;
}

interface OpenBatch {
  openedAt: number;
  flushMs: number;
}

/** What one isolate holds for one meter namespace (tests call the Worker with several envs). */
interface Pending {
  counts: Map<string, Map<string, UsageDelta>>;
  /** Batches made and not yet acknowledged by their shard. */
  unacked: Batch[];
  open: OpenBatch | null;
}

const pendingBy = new WeakMap<object, Pending>();

function pendingOf(env: Pick<Bindings, "USAGE_METER">): Pending {
  let p = pendingBy.get(env.USAGE_METER);
  if (!p) pendingBy.set(env.USAGE_METER, (p = { counts: new Map(), unacked: [], open: null }));
  return p;
}

/**
 * Adds `delta` to `tenant`'s counters for today. Returns the flush the caller must hand to
 * `waitUntil` when this count opened a batch, or undefined when it joined one (or counted
 * nothing): the caller then hands nothing to `waitUntil`, which costs a call into the runtime per
 * request even for a settled promise.
 */
export function meter(
  env: Pick<Bindings, "USAGE_METER">,
  tenant: string,
  delta: UsageDelta,
  atMs = Date.now(),
): Promise<void> | undefined {
  const clean = cleanDelta(delta);
  if (clean.length === 0) return undefined;
  const p = pendingOf(env);
  const days = p.counts.get(tenant) ?? new Map<string, UsageDelta>();
  const day = dayOf(atMs);
  const sum = days.get(day) ?? {};
  for (const [m, v] of clean) sum[m] = (sum[m] ?? 0) + v;
  days.set(day, sum);
  p.counts.set(tenant, days);
  const now = Date.now();
  if (p.open && now <= p.open.openedAt + p.open.flushMs + OPEN_GRACE_MS) return undefined;
  // No batch open (or one whose flush never ran): this request opens one and carries its flush.
  if (p.open) return flush(env, p);
  const wait = Math.max(0, Math.min(flushIntervalOf(env), MAX_FLUSH_MS));
  const batch: OpenBatch = { openedAt: now, flushMs: wait };
  p.open = batch;
  // Everything here stays in this request's context: the timer is never cleared from another
  // (a `clearTimeout` there would clear one of that context's own timers) and the promise this
  // request waits on is settled here (workerd refuses to settle it from another request's
  // context). When `flushUsage` took the batch first, the timer finds it gone and just ends.
  return new Promise<void>((settle) => {
    setTimeout(() => {
      void (p.open === batch ? flush(env, p) : Promise.resolve()).finally(settle);
    }, wait);
  });
}

/** The env's `USAGE_FLUSH_MS` (its configuration is parsed, and cached, by the request that meters). */
function flushIntervalOf(env: object): number {
  try {
    return loadConfig(env).USAGE_FLUSH_MS;
  } catch {
    return FLUSH_MS;
  }
}

/** Sends every count this isolate holds for `env`'s meter now (and any batch not yet acknowledged). */
export function flushUsage(env: Pick<Bindings, "USAGE_METER">): Promise<void> {
  return flush(env, pendingOf(env));
}

async function flush(env: Pick<Bindings, "USAGE_METER">, p: Pending): Promise<void> {
  p.open = null;
  const batchId = crypto.randomUUID();
  for (const [tenant, days] of p.counts) {
    p.unacked.push({
      tenant,
      entries: [...days].map(([day, delta]) => ({ id: `${batchId}/${day}`, day, delta })),
      sendingSince: 0,
    });
  }
  p.counts.clear();
  const now = Date.now();
  const due = p.unacked.filter((b) => b.sendingSince === 0 || now - b.sendingSince > STALE_SEND_MS);
  await Promise.all(due.map((b) => send(env, b, p)));
}

async function send(env: Pick<Bindings, "USAGE_METER">, batch: Batch, p: Pending): Promise<void> {
  batch.sendingSince = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      await meterFor(env, shardName(batch.tenant, shardOf(isolateSource()))).apply(batch.tenant, batch.entries);
      p.unacked = p.unacked.filter((b) => b !== batch);
      return;
    } catch (err) {
      logEvent("error", "metering_error", { tenant: batch.tenant, attempt, ...errorFields(err) });
      if (attempt >= SEND_ATTEMPTS) {
        batch.sendingSince = 0; // the next flush sends it again, with the same ids
        return;
      }
      await new Promise((r) => setTimeout(r, 100 * 4 ** attempt));
    }
  }
}
