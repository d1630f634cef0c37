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
import { download } from "../lib/download.mjs";
import { median, percentile, round } from "../lib/stats.mjs";

/** Issue 20's targets: throughput at least this share of the writer's; no DO call after the first few. */
export const DOWNLOAD_TARGETS = { throughput_ratio_min: 0.8, do_calls_after_first: 0 };

/**
 * `requests` GETs of `url` with `concurrency` in flight; every answer must be 200 with `bytes`.
 * @param {string} url
 * @param {number} requests
 * @param {number} concurrency
 * @param {number} bytes
 */
async function hammer(url, requests, concurrency, bytes) {
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
    rps: round(requests / (wallMs / 1000), 1),
    latency_ms: { p50: round(percentile(ms, 50), 2), p95: round(percentile(ms, 95), 2) },
    failed: bad,
    first_failure: firstBad,
  };
}

/**
 * @param {import("../lib/context.mjs").BenchContext} ctx
 * @param {{ requests: number, concurrency: number, rounds: number, sizeKiB: number, first: number, counted?: number }} o
 */
export async function downloadsCase(
  ctx,
  { requests, concurrency, rounds, sizeKiB, first, counted: countedRequests = requests },
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
      first_requests: first,
      first_calls: perClass(firstTally),
      first_methods: firstTally.methods,
      round_requests: countedRequests,
      round_calls: perClass(roundTally),
      round_methods: roundTally.methods,
      round_calls_total: roundCalls,
      round_calls_per_request: round(roundCalls / countedRequests, 3),
      self_calls_left_out: roundTally.internal,
      round: countedRound,
    };
  } finally {
    await counter.stop();
  }
  for (let r = 0; r < rounds; r++) {
    floor.push(await hammer(floorUrl, requests, concurrency, bytes.byteLength));
    through.push(await hammer(file.url, requests, concurrency, bytes.byteLength));
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
    latency_ms: {
      through: { p50: median(through.map((x) => x.latency_ms.p50)), p95: median(through.map((x) => x.latency_ms.p95)) },
      floor: { p50: median(floor.map((x) => x.latency_ms.p50)), p95: median(floor.map((x) => x.latency_ms.p95)) },
    },
    failed: through.reduce((n, x) => n + x.failed, 0) + floor.reduce((n, x) => n + x.failed, 0),
    durable_object_calls: counted,
    rounds_detail: { through, floor },
  };
  ctx.log(
    `downloads: ${result.through_rps} req/s through unsandbox vs ${result.floor_rps} from R2 (${result.throughput_ratio}×); Durable Object calls after the first ${first}: ${counted.round_calls_total} in ${countedRequests} requests (${JSON.stringify(counted.round_calls)})`,
  );
  return result;
}
