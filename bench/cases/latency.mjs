// @ts-check
/**
 * @module bench/cases/latency
 * Case 1, added latency: a response with no files (no tool, the simulator's `no-tool` answer),
 * straight to the simulator and through unsandbox, alternating so both see the same machine load.
 */
import { postJson } from "../lib/context.mjs";
import { percentile, round } from "../lib/stats.mjs";

const BODY = { model: "gpt-5", input: "What is 2 + 2?" };

/**
 * @param {import("../lib/context.mjs").BenchContext} ctx
 * @param {{ warmup: number, runs: number }} o
 */
export async function latencyCase(ctx, { warmup, runs }) {
  /** @type {number[]} */ const direct = [];
  /** @type {number[]} */ const through = [];
  // For reference, a request to unsandbox that never goes upstream: /healthz checks the settings
  // and makes one cheap read per binding (src/routes/health.ts).
  /** @type {number[]} */ const floor = [];
  for (let i = 0; i < warmup + runs; i++) {
    const d = await postJson(`${ctx.sim.baseURL}/responses`, ctx.sim.apiKey, BODY);
    const t = await postJson(`${ctx.unsandbox.baseURL}/responses`, ctx.unsandbox.apiKey, BODY);
    if (d.status !== 200 || t.status !== 200)
      throw new Error(`latency: direct ${d.status}, through ${t.status}: ${JSON.stringify(t.json).slice(0, 300)}`);
    const h0 = performance.now();
    await (await fetch(`${ctx.unsandbox.origin}/healthz`)).text();
    const h = performance.now() - h0;
    if (i >= warmup) {
      direct.push(d.ms);
      through.push(t.ms);
      floor.push(h);
    }
  }
  const p = (/** @type {number[]} */ xs, /** @type {number} */ q) => round(percentile(xs, q), 2);
  const result = {
    runs,
    direct_ms: { p50: p(direct, 50), p95: p(direct, 95) },
    through_ms: { p50: p(through, 50), p95: p(through, 95) },
    added_ms: {
      p50: round(percentile(through, 50) - percentile(direct, 50), 2),
      p95: round(percentile(through, 95) - percentile(direct, 95), 2),
    },
    healthz_ms: { p50: p(floor, 50), p95: p(floor, 95) },
    ratio: {
      p50: round(percentile(through, 50) / percentile(direct, 50), 2),
      p95: round(percentile(through, 95) / percentile(direct, 95), 2),
    },
    samples: { direct: direct.map((x) => round(x, 2)), through: through.map((x) => round(x, 2)) },
  };
  ctx.log(
    `latency: direct p50 ${result.direct_ms.p50} ms, through p50 ${result.through_ms.p50} ms (+${result.added_ms.p50} ms)`,
  );
  return result;
}
