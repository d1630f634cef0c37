/**
 * Counting what a request costs, for the call-budget tests: every Durable Object RPC by class and
 * method, every R2 operation, and the simulated upstream's own counters. The tests share one
 * isolate with the Worker and its Durable Objects (the workers pool), so wrapping the binding
 * classes' prototypes counts the calls the Worker makes and those the objects make (a tracker's
 * copies into R2, its meter and directory calls) alike, without a line of production code.
 * Counting is on only inside `counted(…)`, so a test's own checks cost nothing.
 */
import { env as workersEnv } from "cloudflare:workers";
import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import app from "../../../src/index";
import type { ContainerTracker } from "../../../src/tracker/container-tracker";
import { age, query, tracker } from "../support/tracker";

/** Binding name → Durable Object class. */
export const CLASSES: Record<string, string> = {
  USAGE_METER: "UsageMeter",
  CONTAINER_TRACKER: "ContainerTracker",
  RESPONSE_INDEX: "ResponseIndex",
  TENANT_DIRECTORY: "TenantDirectory",
  OWNERSHIP_LEDGER: "OwnershipLedger",
  RATE_COUNTER: "RateCounter",
};

const R2_OPS = ["put", "get", "head", "delete", "list", "createMultipartUpload", "resumeMultipartUpload"] as const;

export interface Tally {
  /** RPC calls per Durable Object class. */
  objects: Record<string, number>;
  /** The same per `Class.method`. */
  methods: Record<string, number>;
  /** R2 operations per method. */
  r2: Record<string, number>;
  /** SQL statements run by every Durable Object (`statements`), once `installSqlCounter` ran. */
  sql: Record<string, number>;
}

const empty = (): Tally => ({ objects: {}, methods: {}, r2: {}, sql: {} });
let tally = empty();
let depth = 0;
let installed = false;

const bump = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);

/** Wraps the namespace and bucket prototypes once per isolate. */
export function installCounters(env: Record<string, unknown> = workersEnv as unknown as Record<string, unknown>): void {
  if (installed) return;
  installed = true;
  const nsProto = Object.getPrototypeOf(env.CONTAINER_TRACKER) as {
    getByName: (this: unknown, name: string, ...rest: unknown[]) => object;
  };
  const getByName = nsProto.getByName;
  nsProto.getByName = function (this: unknown, name: string, ...rest: unknown[]) {
    const stub = getByName.call(this, name, ...rest);
    if (depth === 0) return stub;
    const binding = Object.keys(CLASSES).find((b) => env[b] === this);
    const cls = binding ? CLASSES[binding]! : "unknown";
    return new Proxy(stub, {
      get(target, prop) {
        const value = Reflect.get(target, prop) as unknown;
        if (typeof prop !== "string" || prop === "then" || typeof value !== "function") return value;
        return (...args: unknown[]) => {
          if (depth > 0) {
            bump(tally.objects, cls);
            bump(tally.methods, `${cls}.${prop}`);
          }
          return Reflect.apply(value as (...a: unknown[]) => unknown, target, args);
        };
      },
    });
  };
  const r2Proto = Object.getPrototypeOf(env.FILES) as Record<string, (...a: unknown[]) => unknown>;
  for (const op of R2_OPS) {
    const original = r2Proto[op]!;
    r2Proto[op] = function (this: unknown, ...args: unknown[]) {
      if (depth > 0) bump(tally.r2, op);
      return Reflect.apply(original, this, args);
    };
  }
}

/**
 * Counts the SQL statements of every Durable Object too: they share one `SqlStorage` prototype
 * (reached through a scratch tracker), whose `exec` is wrapped once per isolate. An object's read
 * memo (src/durable/read-memo.ts) wraps its own `exec` over this one, so a remembered read is not
 * counted: these are the statements SQLite runs.
 */
export async function installSqlCounter(): Promise<void> {
  if (sqlInstalled) return;
  sqlInstalled = true;
  const proto = await runInDurableObject(
    (
      workersEnv as unknown as { CONTAINER_TRACKER: DurableObjectNamespace<ContainerTracker> }
    ).CONTAINER_TRACKER.getByName("cntr_sql_counter"),
    (_inst: ContainerTracker, state) =>
      Object.getPrototypeOf(state.storage.sql) as { exec: (...a: unknown[]) => unknown },
  );
  const exec = proto.exec;
  proto.exec = function (this: unknown, ...args: unknown[]) {
    if (depth > 0) bump(tally.sql, "statements");
    return Reflect.apply(exec, this, args);
  };
}
let sqlInstalled = false;

/** Runs `fn` with counting on (nested calls count once) and returns what it counted. */
export async function counted<T>(fn: () => Promise<T>): Promise<{ result: T; tally: Tally }> {
  if (depth === 0) tally = empty();
  depth++;
  try {
    const result = await fn();
    return { result, tally: structuredClone(tally) };
  } finally {
    depth--;
  }
}

/** Counting on for work that is not one awaited function (a Durable Object alarm run from a test). */
export function countingOn<T>(fn: () => Promise<T>): Promise<T> {
  depth++;
  return fn().finally(() => depth--);
}

/** The current tally (while counting), for phases of one request. */
export const current = (): Tally => structuredClone(tally);

/** `b − a`, per key, leaving out zeros. */
export function minus(b: Tally, a: Tally): Tally {
  const diff = (x: Record<string, number>, y: Record<string, number>) =>
    Object.fromEntries(
      Object.entries(x)
        .map(([k, v]) => [k, v - (y[k] ?? 0)])
        .filter(([, v]) => v !== 0),
    );
  return {
    objects: diff(b.objects, a.objects),
    methods: diff(b.methods, a.methods),
    r2: diff(b.r2, a.r2),
    sql: diff(b.sql, a.sql),
  };
}

export interface UpstreamCounts {
  responses: number;
  listings: number;
  containerReads: number;
  contentFetches: number;
}

/** The simulator's own counters, summed over every container and file. */
export async function upstreamCounts(): Promise<UpstreamCounts> {
  const c = (await (await fetch("https://api.openai.com/__sim/counters")).json()) as {
    responses_created: number;
    list_calls: Record<string, number>;
    container_reads: Record<string, number>;
    content_fetches: Record<string, number>;
  };
  const sum = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);
  return {
    responses: c.responses_created,
    listings: sum(c.list_calls),
    containerReads: sum(c.container_reads),
    contentFetches: sum(c.content_fetches),
  };
}

export function upstreamMinus(b: UpstreamCounts, a: UpstreamCounts): UpstreamCounts {
  return {
    responses: b.responses - a.responses,
    listings: b.listings - a.listings,
    containerReads: b.containerReads - a.containerReads,
    contentFetches: b.contentFetches - a.contentFetches,
  };
}

/** Runs `fn` with counting off (a test's own look at the objects). */
export async function paused<T>(fn: () => Promise<T>): Promise<T> {
  const saved = depth;
  depth = 0;
  try {
    return await fn();
  } finally {
    depth = saved;
  }
}

export interface Phase {
  tally: Tally;
  upstream: UpstreamCounts;
}
export interface Measured {
  status: number;
  text: string;
  hot: Phase;
  off: Phase;
}

/**
 * Waits (counting on) until the tracker's usage outbox has sent its rows: its timer sends the
 * stored files' batch FLUSH_DELAY_MS after the first of them (src/metering/outbox.ts), not an
 * alarm run, so the batch is counted with the request whose files it meters.
 */
async function usageSent(cid: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const left = await paused(() =>
      runInDurableObject(tracker(cid), (_inst: ContainerTracker, state) => {
        const sql = state.storage.sql;
        if (!sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'usage_outbox'").toArray().length)
          return 0;
        return sql.exec<{ n: number }>("SELECT count(*) AS n FROM usage_outbox").one().n;
      }),
    );
    if (left === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`tracker ${cid} did not send its usage`);
}

/** Drives a tracker's alarm on the aged clock until it has no sweep or copy left to run, and its usage is sent. */
async function drain(cid: string): Promise<void> {
  for (let i = 0; i < 30; i++) {
    const due = await paused(async () => {
      const rows = await query<{ at: number | null }>(
        cid,
        "SELECT min(at) AS at FROM (SELECT min(sweep_next_at) AS at FROM responses UNION ALL SELECT min(next_attempt_at) FROM jobs)",
      );
      return rows[0]?.at ?? null;
    });
    if (due === null) return usageSent(cid);
    // The rows hold times on the tracker's clock: let time pass until the earliest is due.
    const stub = await paused(async () => {
      await age(cid, Math.max(0, due - Date.now() + 1));
      return tracker(cid);
    });
    await countingOn(() => runInDurableObject(stub, (inst: ContainerTracker) => inst.alarm()));
  }
  throw new Error(`tracker ${cid} did not settle`);
}

/** One request through the Worker's fetch handler, measured on and off the hot path. */
export async function measure(
  request: Request,
  containersOf: (text: string) => string[] = () => [],
  env?: object,
): Promise<Measured> {
  const up0 = await upstreamCounts();
  const { result } = await counted(async () => {
    const ctx = createExecutionContext();
    const res = await app.fetch(request, (env ?? workersEnv) as never, ctx);
    const text = await res.text();
    const hot: Phase = { tally: current(), upstream: upstreamMinus(await upstreamCounts(), up0) };
    await waitOnExecutionContext(ctx);
    for (const cid of containersOf(text)) await drain(cid);
    const all: Phase = { tally: current(), upstream: upstreamMinus(await upstreamCounts(), up0) };
    return {
      status: res.status,
      text,
      hot,
      off: { tally: minus(all.tally, hot.tally), upstream: upstreamMinus(all.upstream, hot.upstream) },
    };
  });
  return result;
}

export const containersInAnswer = (text: string): string[] => {
  const ids = new Set(text.match(/cntr_[0-9a-f]{48}/g) ?? []);
  return [...ids];
};
