// @ts-check
/**
 * @module bench/lib/cpu-profile
 * A CPU profile of the unsandbox isolate while `work` runs, through its devtools inspector
 * (`Profiler.start`/`Profiler.stop`, Chrome DevTools Protocol), summed by function: where the
 * isolate's JavaScript time went. It sees the Worker and its Durable Objects (one isolate under
 * `wrangler dev`), not local R2 or the runtime's native work outside JavaScript calls, which show
 * as `(program)` and `(idle)` at best. Used by `--set=downloads.profile=1`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * @typedef {object} ProfileLine
 * @property {string} fn      function name and `file:line`
 * @property {number} self_ms  time sampled in the function itself
 * @property {number} share    of all sampled non-idle time
 */

/**
 * Runs `work` under the sampling profiler and returns the functions with the most self time.
 * @template T
 * @param {import("./isolate-heap.mjs").Inspector} inspector
 * @param {() => Promise<T>} work
 * @param {number} [top]
 * @param {string} [label]  names the kept profile (`BENCH_CPUPROFILE=<dir>`: `<dir>/<label>.cpuprofile`)
 * @returns {Promise<{ result: T, busy_ms: number, idle_ms: number, top: ProfileLine[], inclusive: { fn: string, total_ms: number, share: number }[], byFile: Record<string, number> }>}
 */
export async function profileWhile(inspector, work, top = 25, label = "profile") {
  await inspector.send("Profiler.enable");
  if (process.env.BENCH_CPUPROFILE) await inspector.send("Debugger.enable");
  await inspector.send("Profiler.setSamplingInterval", { interval: 200 });
  await inspector.send("Profiler.start");
  let result;
  /** @type {any} */
  let profile;
  try {
    result = await work();
  } finally {
    profile = (await inspector.send("Profiler.stop")).profile;
    await inspector.send("Profiler.disable");
    // Developing: `BENCH_CPUPROFILE=<dir>` keeps the raw profile (it opens in Chrome DevTools) and
    // the bundle it ran, whose line numbers it names.
    const keep = process.env.BENCH_CPUPROFILE ? join(process.env.BENCH_CPUPROFILE, `${label}.cpuprofile`) : null;
    if (keep) {
      mkdirSync(dirname(keep), { recursive: true });
      writeFileSync(keep, JSON.stringify(profile));
      const ids = new Set(
        profile.nodes
          .filter((/** @type {any} */ n) => n.callFrame.url === "index.js")
          .map((/** @type {any} */ n) => n.callFrame.scriptId),
      );
      for (const scriptId of ids) {
        const { scriptSource } = await inspector.send("Debugger.getScriptSource", { scriptId }).catch(() => ({}));
        if (scriptSource) writeFileSync(`${keep}.${scriptId}.js`, scriptSource);
      }
    }
  }
  /** @type {Map<number, any>} */
  const nodes = new Map(profile.nodes.map((/** @type {any} */ n) => [n.id, n]));
  /** @type {Map<number, number>} */
  const hits = new Map();
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    hits.set(id, (hits.get(id) ?? 0) + (deltas[i + 1] ?? deltas[i] ?? 0));
  }
  /** @type {Map<number, number>} */
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  /** Inclusive time per function name (each name once per sample, wherever it is on the stack). */
  /** @type {Map<string, number>} */
  const inclusive = new Map();
  for (const [id, us] of hits) {
    /** @type {Set<string>} */
    const seen = new Set();
    for (let at = /** @type {number | undefined} */ (id); at !== undefined; at = parent.get(at)) {
      const name = nodes.get(at)?.callFrame?.functionName;
      if (name && !seen.has(name)) seen.add(name);
    }
    if (seen.has("(idle)")) continue;
    for (const name of seen) inclusive.set(name, (inclusive.get(name) ?? 0) + us);
  }
  /** @type {Map<string, number>} */
  const byFn = new Map();
  /** @type {Record<string, number>} */
  const byFile = {};
  let idle = 0;
  let busy = 0;
  for (const [id, us] of hits) {
    const f = nodes.get(id)?.callFrame ?? {};
    const name = f.functionName || "(anonymous)";
    if (name === "(idle)") {
      idle += us;
      continue;
    }
    busy += us;
    const file =
      String(f.url ?? "")
        .split("/")
        .pop() || "(native)";
    const key = `${name} ${file}:${(f.lineNumber ?? 0) + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
    byFile[file] = Math.round(((byFile[file] ?? 0) + us / 1000) * 10) / 10;
  }
  const lines = [...byFn]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, us]) => ({ fn, self_ms: Math.round(us / 100) / 10, share: Math.round((us / busy) * 1000) / 1000 }));
  const total = [...inclusive]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top * 2)
    .map(([fn, us]) => ({ fn, total_ms: Math.round(us / 100) / 10, share: Math.round((us / busy) * 1000) / 1000 }));
  return {
    result: /** @type {T} */ (result),
    busy_ms: Math.round(busy / 1000),
    idle_ms: Math.round(idle / 1000),
    top: lines,
    inclusive: total,
    byFile,
  };
}
