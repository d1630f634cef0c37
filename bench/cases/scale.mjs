// @ts-check
/**
 * @module bench/cases/scale
 * Issue 19's load case: many tenants and one popular widget key at rising request rates, on a
 * second unsandbox in multi-tenant mode (started for this case, same bundle). Tenants and keys are
 * made through the admin API (what `npm run tenants` calls). At each rate, requests arrive on a
 * fixed schedule for `seconds` (open loop: a slow answer does not slow the arrivals), alternating
 * between a tenant's secret key (round robin over the tenants) and the widget key (round robin
 * over a few visitor sessions); each writes one file.
 *
 * Per rate it reports the Durable Object calls per request (bench/lib/do-calls.mjs), by class and
 * for each shared object: the directory, the meter shards, the rate counters and the item sets,
 * each as calls per request to the busiest instance. A design without a shared bottleneck keeps
 * these flat as the rate rises. The window counted is from the first request to 1.5 s after the
 * last answer (the trackers' meter batches are sent about 1 s after `stored`); a tracker's later
 * sweeps may fall into the next rate's window (they call upstream and their own tracker only).
 * Then every file the simulator wrote must be `stored`.
 */
import { directive, getJson, sleep, waitSettled } from "../lib/context.mjs";
import { countDurableObjectCalls, perClass, tallyMinus } from "../lib/do-calls.mjs";
import { connectInspector } from "../lib/isolate-heap.mjs";
import { percentile, round } from "../lib/stats.mjs";

const ORIGIN = "https://shop.bench.example";
const SHARED = /** @type {const} */ ({
  TenantDirectory: () => true,
  UsageMeter: () => true,
  RateCounter: () => true,
  OwnershipLedger_item_set: (/** @type {string} */ name) => name.startsWith("items:"),
});

/**
 * @param {{ origin: string, adminSecret: string }} mt
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 */
async function admin(mt, method, path, body) {
  const res = await fetch(`${mt.origin}${path}`, {
    method,
    headers: { authorization: `Bearer ${mt.adminSecret}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`scale: ${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/**
 * Per shared object: calls per request (all its instances) and to the busiest instance. Pure.
 * @param {import("../lib/do-calls.mjs").Tally} tally
 * @param {number} requests
 */
export function sharedObjects(tally, requests) {
  /** @type {Record<string, { calls_per_request: number, instances: number, busiest: string | null, busiest_calls_per_request: number }>} */
  const out = {};
  for (const [group, match] of Object.entries(SHARED)) {
    const cls = /** @type {string} */ (group.split("_")[0]);
    const hits = Object.entries(tally.objects).filter(([k]) => {
      const [c, ...rest] = k.split(":");
      return c === cls && match(rest.join(":"));
    });
    const total = hits.reduce((n, [, v]) => n + v, 0);
    const busiest = hits.sort((a, b) => b[1] - a[1])[0];
    out[group] = {
      calls_per_request: round(total / requests, 3),
      instances: hits.length,
      busiest: busiest ? busiest[0].slice(cls.length + 1) : null,
      busiest_calls_per_request: round((busiest?.[1] ?? 0) / requests, 3),
    };
  }
  return out;
}

/**
 * @param {import("../lib/context.mjs").BenchContext} ctx
 * @param {{ tenants: number, rates: number[], seconds: number, sessions: number }} o
 */
export async function scaleCase(ctx, { tenants, rates, seconds, sessions }) {
  const mt = await ctx.startMultiTenant();
  ctx.log(`scale: multi-tenant unsandbox ${mt.origin}; creating ${tenants} tenants and a widget key`);
  const run = Date.now().toString(36);
  /** @type {{ tenant: string, key: string }[]} */
  const secret = [];
  for (let i = 0; i < tenants; i++) {
    const id = `t${i}-${run}`;
    await admin(mt, "POST", "/admin/tenants", { id, name: `bench ${i}`, limits: { requests_per_minute: 1_000_000 } });
    const { key } = await admin(mt, "POST", `/admin/tenants/${id}/keys`, {
      kind: "secret",
      limits: { requests_per_minute: 1_000_000 },
    });
    secret.push({ tenant: id, key });
  }
  const shop = `shop-${run}`;
  await admin(mt, "POST", "/admin/tenants", {
    id: shop,
    name: "popular shop",
    limits: { requests_per_minute: 1_000_000 },
  });
  const { key: pk } = await admin(mt, "POST", `/admin/tenants/${shop}/keys`, {
    kind: "publishable",
    limits: { requests_per_minute: 1_000_000 },
    widget: {
      allowed_origins: [ORIGIN],
      daily_cap: 10_000_000,
      per_ip_per_minute: 100_000,
      per_ip_daily_cap: 10_000_000,
    },
  });
  /** @type {Record<string, string>[]} */
  const visitors = [];
  for (let i = 0; i < sessions; i++) {
    const res = await fetch(`${mt.origin}/widget/session`, {
      method: "POST",
      headers: { authorization: `Bearer ${pk}`, origin: ORIGIN },
    });
    if (!res.ok) throw new Error(`scale: widget session answered ${res.status}: ${await res.text()}`);
    const { session } = /** @type {{ session: string }} */ (await res.json());
    visitors.push({ authorization: `Bearer ${pk}`, origin: ORIGIN, "x-unsandbox-session": session });
  }

  /**
   * One create: even numbers by a tenant's secret key, odd ones by the widget key.
   * @param {number} i
   */
  const create = async (i) => {
    const widget = i % 2 === 1;
    const headers = widget
      ? /** @type {Record<string, string>} */ (visitors[Math.floor(i / 2) % visitors.length])
      : { authorization: `Bearer ${secret[Math.floor(i / 2) % secret.length]?.key}` };
    const input = directive("Write one file.", "scenario=one-file; files=result.csv");
    const body = widget
      ? { model: "gpt-5", input }
      : { model: "gpt-5", input, tools: [{ type: "code_interpreter", container: { type: "auto" } }] };
    const started = performance.now();
    const res = await fetch(`${mt.baseURL}/responses`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    const ms = performance.now() - started;
    /** @type {string | null} */
    let id = null;
    try {
      id = JSON.parse(text).id ?? null;
    } catch {}
    return { status: res.status, ms, id, headers, widget, error: res.ok ? null : text.slice(0, 200) };
  };

  const inspector = await connectInspector(mt.inspectorPort);
  const counter = await countDurableObjectCalls(inspector);
  /** @type {any[]} */
  const steps = [];
  try {
    // Warm-up: each kind once (compiles the paths, fills the isolate's key caches).
    for (const i of [0, 1]) {
      const w = await create(i);
      if (w.status !== 200) throw new Error(`scale: warm-up create answered ${w.status}: ${w.error}`);
    }
    let seq = 2;
    for (const rate of rates) {
      const n = Math.max(2, Math.round(rate * seconds));
      const before = await counter.read();
      const started = performance.now();
      const answers = await Promise.all(
        Array.from({ length: n }, async (_, k) => {
          await sleep(Math.max(0, started + (k * 1000) / rate - performance.now()));
          return create(seq + k);
        }),
      );
      seq += n;
      const answeredMs = performance.now() - started;
      await sleep(1500);
      const tally = tallyMinus(await counter.read(), before);
      /** @type {Record<string, number>} */
      const statuses = {};
      for (const a of answers) statuses[a.status] = (statuses[a.status] ?? 0) + 1;
      // Files: what the simulator wrote against what the manifests say (not counted above).
      let written = 0;
      let stored = 0;
      /** @type {Record<string, number>} */
      const otherStates = {};
      for (const a of answers) {
        if (a.status !== 200 || !a.id) continue;
        const truth = await getJson(`${ctx.sim.origin}/__sim/responses/${a.id}`);
        written += truth.written.length;
        const settled = await waitSettled(ctx, a.id, {
          baseURL: mt.baseURL,
          headers: a.headers,
          everyMs: 250,
          timeoutMs: 60_000,
          expect: truth.written.length,
        });
        for (const f of settled.files) {
          if (f.state === "stored") stored++;
          else otherStates[f.state] = (otherStates[f.state] ?? 0) + 1;
        }
      }
      const classes = perClass(tally);
      const ms = answers.map((a) => a.ms);
      const step = {
        rate,
        requests: n,
        widget_requests: answers.filter((a) => a.widget).length,
        statuses,
        first_error: answers.find((a) => a.error)?.error ?? null,
        answered_in_s: round(answeredMs / 1000, 2),
        achieved_rps: round(n / (answeredMs / 1000), 1),
        latency_ms: { p50: round(percentile(ms, 50)), p95: round(percentile(ms, 95)) },
        calls_per_request: Object.fromEntries(Object.entries(classes).map(([k, v]) => [k, round(v / n, 2)])),
        shared: sharedObjects(tally, n),
        methods: tally.methods,
        self_calls_left_out: tally.internal,
        files_written: written,
        files_stored: stored,
        other_states: otherStates,
      };
      steps.push(step);
      const sh = /** @type {Record<string, { calls_per_request: number, busiest_calls_per_request: number }>} */ (
        /** @type {unknown} */ (step.shared)
      );
      ctx.log(
        `scale ${rate} req/s: ${n} requests (${JSON.stringify(statuses)}), p95 ${step.latency_ms.p95} ms; per request: directory ${sh.TenantDirectory?.calls_per_request}, meter ${sh.UsageMeter?.calls_per_request} (busiest shard ${sh.UsageMeter?.busiest_calls_per_request}), rate counters ${sh.RateCounter?.calls_per_request} (busiest ${sh.RateCounter?.busiest_calls_per_request}), item set ${sh.OwnershipLedger_item_set?.calls_per_request}; files ${stored}/${written}`,
      );
    }
  } finally {
    await counter.stop();
    inspector.close();
  }
  return { tenants, widget_sessions: sessions, seconds_per_rate: seconds, rates, steps };
}
