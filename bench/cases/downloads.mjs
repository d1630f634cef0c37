// @ts-check
/**
 * @module bench/cases/downloads
 * Issue 20, "downloads": one popular link. A file is made through unsandbox and stored; its bytes
 * are also put into the R2 writer's own local bucket (bench/r2-writer, `PUT /object`), the floor:
 * the same bytes served by a Worker that does one R2 `get` and nothing else. Then `requests`
 * downloads of the one URL at `concurrency`, through unsandbox and from the writer, rounds
 * alternating; throughput is requests per second over each round's wall time.
 *
 * Durable Object calls are counted (bench/lib/do-calls.mjs) over the first few downloads, one by
 * one, and over a counted round after them (`counted` requests, by default as many as a round):
 * after the first few, a warm download should make none. The timed rounds run without the
 * counting breakpoints, so their figures carry no cost of the counting itself (each counted call
 * sends a message to the inspector, which slows a download that makes calls several times over).
 */
import { directive, postJson, TOOLS, waitSettled } from "../lib/context.mjs";
import { countDurableObjectCalls, perClass, tallyMinus } from "../lib/do-calls.mjs";
import { profileWhile } from "../lib/cpu-profile.mjs";
import { download } from "../lib/download.mjs";
import { cpuSeconds, treeCpuSeconds } from "../lib/proc-memory.mjs";
import { median, percentile, round } from "../lib/stats.mjs";

/** Issue 20's targets: throughput at least this share of the writer's; no DO call after the first few. */
export const DOWNLOAD_TARGETS = { throughput_ratio_min: 0.8, do_calls_after_first: 0 };

/**
 * How long no object may have been called before counting starts (the tracker's sweep window has
 * gaps of up to 8 s: src/tracker/policy.ts), and the most to wait for it.
 */
const QUIET_MS = 9_000;
const QUIET_MAX_MS = 40_000;

/**
 * Calls during the counted round that no download makes, by method: the isolate's usage batches
 * (`UsageMeter.apply`: one per isolate per `USAGE_FLUSH_MS`, 20 s by default, carrying every
 * request's usage; the trackers' usage outbox sends through the same method after their copies)
 * and the trackers' own alarms (the sweep window after the create, which runs on its own
 * schedule). Everything else is a call on a download's path.
 */
export const BACKGROUND_METHODS = /** @type {const} */ ({
  "UsageMeter.apply": "usage_batches",
  // A shard's first batch for a tenant tells the tenant index (src/metering/meter.ts).
  "UsageMeter.remember": "usage_batches",
  "ContainerTracker.alarm": "tracker_alarms",
});

/**
 * A round's calls by method, split into the request path's and the background's. Pure.
 * @param {Record<string, number>} methods
 */
export function splitRoundCalls(methods) {
  /** @type {Record<string, number>} */
  const requestPath = {};
  const background = { usage_batches: 0, tracker_alarms: 0 };
  for (const [m, n] of Object.entries(methods)) {
    const kind = /** @type {Record<string, "usage_batches" | "tracker_alarms">} */ (BACKGROUND_METHODS)[m];
    if (kind) background[kind] += n;
    else requestPath[m] = n;
  }
  return {
    request_path: requestPath,
    request_path_total: Object.values(requestPath).reduce((a, b) => a + b, 0),
    ...background,
  };
}

/**
 * `requests` GETs of `url` with `concurrency` in flight; every answer must be 200 with `bytes`.
 * @param {string} url
 * @param {number} requests
 * @param {number} concurrency
 * @param {number} bytes
 */
async function hammer(
  url,
  requests,
  concurrency,
  bytes,
  pids = /** @type {{ workerd: number | null, tree: number } | null} */ (null),
) {
  const cpu0 = pids?.workerd ? cpuSeconds(pids.workerd) : 0;
  const tree0 = pids ? treeCpuSeconds(pids.tree) : 0;
  let left = requests;
  /** @type {number[]} */
  const ms = [];
  let bad = 0;
  /** @type {string | null} */
  let firstBad = null;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left > 0) {
        left--;
        const got = await download(url);
        ms.push(got.ms);
        if (got.status !== 200 || got.bytes !== bytes) {
          bad++;
          firstBad ??= `${got.status} ${got.bytes} bytes ${got.errorBody ?? ""}`;
        }
      }
    }),
  );
  const wallMs = performance.now() - started;
  return {
    wall_ms: round(wallMs),
    // The serving workerd's CPU per download (it runs the Worker and its local R2): steadier than
    // throughput on a shared machine, since other load slows both sides without adding to this.
    cpu_ms_per_request: pids?.workerd ? round(((cpuSeconds(pids.workerd) - cpu0) * 1000) / requests, 3) : null,
    // The same for the whole `wrangler dev` (its Node process receives every console line).
    tree_cpu_ms_per_request: pids ? round(((treeCpuSeconds(pids.tree) - tree0) * 1000) / requests, 3) : null,
    rps: round(requests / (wallMs / 1000), 1),
    latency_ms: { p50: round(percentile(ms, 50), 2), p95: round(percentile(ms, 95), 2) },
    failed: bad,
    first_failure: firstBad,
  };
}

/**
 * @param {import("../lib/context.mjs").BenchContext} ctx
 * @param {{ requests: number, concurrency: number, rounds: number, sizeKiB: number, first: number, counted?: number, profile?: number }} o
 */
export async function downloadsCase(
  ctx,
  { requests, concurrency, rounds, sizeKiB, first, counted: countedRequests = requests, profile = 0 },
) {
  const answer = await postJson(`${ctx.unsandbox.baseURL}/responses`, ctx.unsandbox.apiKey, {
    model: "gpt-5",
    input: directive("Write one file.", `scenario=big; files=popular.bin; size=${sizeKiB}KiB`),
    tools: TOOLS,
  });
  if (answer.status !== 200) throw new Error(`downloads: create answered ${answer.status}`);
  const settled = await waitSettled(ctx, answer.json.id, { timeoutMs: 60_000 });
  const file = settled.files.find((f) => f.state === "stored");
  if (!file) throw new Error(`downloads: no stored file: ${JSON.stringify(settled.files).slice(0, 300)}`);
  const bytes = await (await fetch(file.url, { headers: { "accept-encoding": "identity" } })).arrayBuffer();
  const put = await fetch(`${ctx.r2writer.origin}/object?key=popular`, { method: "PUT", body: bytes });
  if (!put.ok) throw new Error(`downloads: R2 writer put answered ${put.status}`);
  const floorUrl = `${ctx.r2writer.origin}/object?key=popular`;

  // Counted: the first few, one at a time, then the first round.
  const counter = await countDurableObjectCalls(ctx.inspector);
  /** @type {any} */
  let counted;
  /** @type {any[]} */
  const through = [];
  /** @type {any[]} */
  const floor = [];
  try {
    // Counting starts once every object has been quiet for QUIET_MS: what the create set going
    // (the tracker's sweep window, re-listing the container 1, 3, 7 and 15 s after `track`; the
    // usage outbox after its copies; the isolate's usage batch the create opened, USAGE_FLUSH_MS
    // later) runs on its own schedule and is not the downloads'. At most QUIET_MAX_MS.
    const settledAt = performance.now();
    const total = (/** @type {import("../lib/do-calls.mjs").Tally} */ t) =>
      Object.values(t.methods).reduce((n, v) => n + v, 0) + Object.values(t.internal).reduce((n, v) => n + v, 0);
    let seen = total(await counter.read());
    let quietSince = performance.now();
    while (performance.now() - quietSince < QUIET_MS && performance.now() - settledAt < QUIET_MAX_MS) {
      await new Promise((r) => setTimeout(r, 250));
      const now = total(await counter.read());
      if (now !== seen) [seen, quietSince] = [now, performance.now()];
    }
    const waitedForQuietMs = Math.round(performance.now() - settledAt);
    const before = await counter.read();
    for (let i = 0; i < first; i++) {
      const got = await download(file.url);
      if (got.status !== 200) throw new Error(`downloads: first download answered ${got.status}`);
    }
    const afterFirst = await counter.read();
    const countedRound = await hammer(file.url, countedRequests, concurrency, bytes.byteLength);
    const afterRound = await counter.read();
    const firstTally = tallyMinus(afterFirst, before);
    const roundTally = tallyMinus(afterRound, afterFirst);
    const roundCalls = Object.values(perClass(roundTally)).reduce((a, b) => a + b, 0);
    counted = {
      waited_for_quiet_ms: waitedForQuietMs,
      first_requests: first,
      first_calls: perClass(firstTally),
      first_methods: firstTally.methods,
      round_requests: countedRequests,
      round_calls: perClass(roundTally),
      round_methods: roundTally.methods,
      round_calls_total: roundCalls,
      round_calls_per_request: round(roundCalls / countedRequests, 3),
      round_split: splitRoundCalls(roundTally.methods),
      self_calls_left_out: roundTally.internal,
      round: countedRound,
    };
  } finally {
    await counter.stop();
  }
  for (let r = 0; r < rounds; r++) {
    floor.push(
      await hammer(floorUrl, requests, concurrency, bytes.byteLength, {
        workerd: ctx.r2writer.workerdPid(),
        tree: ctx.r2writer.pid,
      }),
    );
    through.push(
      await hammer(file.url, requests, concurrency, bytes.byteLength, {
        workerd: ctx.unsandbox.workerdPid(),
        tree: ctx.unsandbox.pid,
      }),
    );
  }
  // `--set=downloads.profile=1`: one more round through unsandbox under the CPU profiler (not timed).
  const cpu = profile
    ? await profileWhile(ctx.inspector, () => hammer(file.url, requests, concurrency, bytes.byteLength))
    : null;
  if (cpu) {
    ctx.log(
      `downloads: CPU profile of ${requests} downloads: ${cpu.busy_ms} ms busy, ${cpu.idle_ms} ms idle in the isolate`,
    );
    for (const l of cpu.inclusive)
      ctx.log(`  total ${String(l.total_ms).padStart(8)} ms ${(l.share * 100).toFixed(1).padStart(5)}%  ${l.fn}`);
    for (const l of cpu.top)
      ctx.log(`  self  ${String(l.self_ms).padStart(8)} ms ${(l.share * 100).toFixed(1).padStart(5)}%  ${l.fn}`);
  }
  const throughRps = median(through.map((x) => x.rps));
  const floorRps = median(floor.map((x) => x.rps));
  const result = {
    requests,
    concurrency,
    rounds,
    bytes: bytes.byteLength,
    targets: DOWNLOAD_TARGETS,
    through_rps: round(throughRps, 1),
    floor_rps: round(floorRps, 1),
    throughput_ratio: round(throughRps / floorRps, 2),
    cpu_ms_per_request: {
      through: median(through.map((x) => x.cpu_ms_per_request ?? NaN)),
      floor: median(floor.map((x) => x.cpu_ms_per_request ?? NaN)),
      through_tree: median(through.map((x) => x.tree_cpu_ms_per_request ?? NaN)),
      floor_tree: median(floor.map((x) => x.tree_cpu_ms_per_request ?? NaN)),
    },
    latency_ms: {
      through: { p50: median(through.map((x) => x.latency_ms.p50)), p95: median(through.map((x) => x.latency_ms.p95)) },
      floor: { p50: median(floor.map((x) => x.latency_ms.p50)), p95: median(floor.map((x) => x.latency_ms.p95)) },
    },
    failed: through.reduce((n, x) => n + x.failed, 0) + floor.reduce((n, x) => n + x.failed, 0),
    durable_object_calls: counted,
    rounds_detail: { through, floor },
    ...(cpu
      ? { cpu_profile: { busy_ms: cpu.busy_ms, idle_ms: cpu.idle_ms, inclusive: cpu.inclusive, self: cpu.top } }
      : {}),
  };
  ctx.log(
    `downloads: ${result.through_rps} req/s through unsandbox vs ${result.floor_rps} from R2 (${result.throughput_ratio}×); CPU per download ${result.cpu_ms_per_request.through} ms vs ${result.cpu_ms_per_request.floor} ms in workerd, ${result.cpu_ms_per_request.through_tree} ms vs ${result.cpu_ms_per_request.floor_tree} ms in all of wrangler dev; Durable Object calls after the first ${first}: ${counted.round_calls_total} in ${countedRequests} requests in ${round(counted.round.wall_ms / 1000, 1)} s (${JSON.stringify(counted.round_calls)}): on the downloads' path ${counted.round_split.request_path_total}, usage batches ${counted.round_split.usage_batches}, tracker alarms ${counted.round_split.tracker_alarms}`,
  );
  return result;
}
