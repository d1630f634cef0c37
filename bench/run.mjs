// @ts-check
/**
 * `npm run bench`: unsandbox against the physical ceiling, in one run (issues 11, 19 and 20).
 *
 * Starts the simulator, unsandbox (pointed at it), the bench-only R2 writer and the anchor (a bare
 * pass-through Worker, bench/anchor) as separate `wrangler dev` processes on loopback, with ports
 * of their own and a temp persist dir, each running a frozen bundle (bench/lib/snapshot.mjs). Then
 * runs the cases, each after a warm-up: added latency, copy throughput against the ceiling with
 * memory, streaming, load, unsandbox's own cost over the anchor, concurrent streams against the
 * anchor, one popular download against R2, and the scale case (many tenants and a popular widget
 * key at rising rates, in a second unsandbox in multi-tenant mode). Prints a Markdown table of
 * medians and ratios and saves everything as JSON under bench/results/.
 *
 * `npm run bench -- --quick` runs small sizes and few runs (a smoke test while developing); only a
 * full run rewrites bench/results/latest.md, the table the README quotes.
 * `--only=owncost,downloads` runs some cases (names: latency, copy, streaming, load, owncost,
 * concurrent, downloads, scale); `--set=downloads.requests=200,concurrent.concurrency=10` changes
 * one figure of the plan; `--ports=9700-9799` keeps every process's ports inside a range.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, platform, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { concurrentCase } from "./cases/concurrent.mjs";
import { copyCase } from "./cases/copy.mjs";
import { downloadsCase } from "./cases/downloads.mjs";
import { latencyCase } from "./cases/latency.mjs";
import { loadCase } from "./cases/load.mjs";
import { ownCostCase } from "./cases/own-cost.mjs";
import { scaleCase } from "./cases/scale.mjs";
import { streamingCase } from "./cases/streaming.mjs";
import { startAnchor, startCopier, startR2Writer, startSimProcess, startUnsandboxProcess } from "./lib/processes.mjs";
import { connectInspector } from "./lib/isolate-heap.mjs";
import { markdownReport } from "./lib/report.mjs";
import { checkoutHead, snapshotSim, snapshotUnsandbox } from "./lib/snapshot.mjs";

const RESULTS = fileURLToPath(new URL("./results/", import.meta.url));
const quick = process.argv.includes("--quick");
// `--head`: bundle the committed sources (HEAD), not the working tree with others' unsaved edits.
const fromHead = process.argv.includes("--head");
const only = process.argv
  .find((a) => a.startsWith("--only="))
  ?.slice("--only=".length)
  .split(",");
const wanted = (/** @type {string} */ name) => !only || only.includes(name);

const plan = quick
  ? {
      latency: { warmup: 3, runs: 10 },
      copy: { sizesMiB: [16, 64], runs: 2, warmup: 1 },
      streaming: { warmup: 1, runs: 5, holdbackRuns: 2 },
      load: { concurrency: 10, runs: 1, warmup: 1 },
      owncost: { warmup: 3, runs: 10 },
      concurrent: { concurrency: 10, rounds: 1, turns: 1, warmup: 1, profile: 0 },
      downloads: { requests: 200, concurrency: 10, rounds: 1, sizeKiB: 256, first: 5, counted: 200, profile: 0 },
      scale: { tenants: 5, rates: [5, 10], seconds: 2, sessions: 3 },
    }
  : {
      latency: { warmup: 5, runs: 40 },
      copy: { sizesMiB: [16, 64, 256, 1024], runs: 5, warmup: 1 },
      streaming: { warmup: 2, runs: 15, holdbackRuns: 5 },
      load: { concurrency: 50, runs: 3, warmup: 1 },
      owncost: { warmup: 5, runs: 40 },
      concurrent: { concurrency: 50, rounds: 2, turns: 2, warmup: 1, profile: 0 },
      downloads: { requests: 2000, concurrency: 50, rounds: 2, sizeKiB: 256, first: 5, counted: 2000, profile: 0 },
      scale: { tenants: 20, rates: [10, 25, 50, 100], seconds: 3, sessions: 10 },
    };

// Developing: `--sizes=16,256` and `--runs=1` narrow the copy case (the run then counts as partial).
const sizesArg = process.argv.find((a) => a.startsWith("--sizes="))?.slice("--sizes=".length);
const runsArg = process.argv.find((a) => a.startsWith("--runs="))?.slice("--runs=".length);
if (sizesArg) plan.copy.sizesMiB = sizesArg.split(",").map(Number);
if (runsArg) plan.copy = { ...plan.copy, runs: Number(runsArg) };
// `--set=case.key=value,…`: one figure of the plan (a number, or `a/b/c` where the plan holds a list).
const setArg = process.argv.find((a) => a.startsWith("--set="))?.slice("--set=".length);
for (const pair of setArg ? setArg.split(",") : []) {
  const [path, value] = pair.split("=");
  const [name, key] = String(path).split(".");
  const entry = /** @type {Record<string, unknown> | undefined} */ (/** @type {any} */ (plan)[String(name)]);
  if (!entry || !key || !(key in entry) || value === undefined) throw new Error(`--set: no plan figure ${path}`);
  entry[key] = Array.isArray(entry[key]) ? value.split("/").map(Number) : Number(value);
}
const partial = quick || Boolean(only || sizesArg || runsArg || setArg);

/** The multi-tenant instance's settings (local only, never deployed). */
const BENCH_ADMIN_SECRET = "bench-admin-secret-0123456789abcdef0123";
const BENCH_TENANT_KEYS = "b1:bench-tenant-key-encryption-0123456789abcdef";

const t0 = performance.now();
/** The copy case's share of the 20 minutes (issue 11), measured from the start of the run. */
const COPY_BUDGET_MS = 16 * 60_000;
const log = (/** @type {string} */ line) =>
  process.stdout.write(`[bench ${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
const dir = mkdtempSync(join(tmpdir(), "unsandbox-bench-"));

/** @type {{ stop(): Promise<void> }[]} */
const running = [];
/** @type {Record<string, { output(): string }>} */
const named = {};
let cleaning = false;
async function cleanUp() {
  if (cleaning) return;
  cleaning = true;
  await Promise.all(running.map((p) => p.stop()));
  rmSync(dir, { recursive: true, force: true });
}
for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM"]))
  process.on(signal, () => void cleanUp().then(() => process.exit(130)));

try {
  // The bundles are made from the working tree as it is now: record which commit that was and
  // which Worker sources differed from it (others may have uncommitted edits in a shared tree).
  // (A copy without git, e.g. a tarball, records "unknown".)
  const git = (/** @type {string[]} */ args) => {
    try {
      return execFileSync("git", args, {
        cwd: fileURLToPath(new URL("..", import.meta.url)),
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }).trim();
    } catch {
      return args[0] === "rev-parse" ? "unknown" : "";
    }
  };
  const source = {
    commit: git(["rev-parse", "HEAD"]),
    from: fromHead ? "HEAD" : "working tree",
    uncommitted: fromHead
      ? []
      : git(["status", "--porcelain", "--", "src", "sim", "wrangler.toml"]).split("\n").filter(Boolean),
  };
  log(
    `bundling the simulator and unsandbox (${source.from}, commit ${source.commit.slice(0, 12)}, ${source.uncommitted.length} uncommitted Worker files) into ${dir}`,
  );
  const root = fromHead ? checkoutHead(join(dir, "head")).root : undefined;
  const simConfig = await snapshotSim(join(dir, "snapshot-sim"), root);
  const unsandboxConfig = snapshotUnsandbox(join(dir, "snapshot-unsandbox"), root);
  const withAnchor = wanted("owncost") || wanted("concurrent");
  log(`starting the simulator, unsandbox, the R2 writer${withAnchor ? " and the anchor" : ""} (wrangler dev each)`);
  const sim = await startSimProcess({ persistDir: dir, config: simConfig });
  running.push(sim);
  const [unsandbox, r2writer, anchor, copier] = await Promise.all([
    startUnsandboxProcess({ persistDir: dir, sim, config: unsandboxConfig }),
    startR2Writer({ persistDir: dir }),
    withAnchor ? startAnchor({ persistDir: dir, sim }) : undefined,
    wanted("concurrent") ? startCopier({ persistDir: dir, sim }) : undefined,
  ]);
  running.push(unsandbox, r2writer, ...(anchor ? [anchor] : []), ...(copier ? [copier] : []));
  Object.assign(named, { sim, unsandbox, r2writer, ...(anchor ? { anchor } : {}), ...(copier ? { copier } : {}) });
  log(
    `simulator ${sim.origin}, unsandbox ${unsandbox.origin} (workerd pid ${unsandbox.workerdPid()}), R2 writer ${r2writer.origin}${anchor ? `, anchor ${anchor.origin}` : ""}`,
  );
  // A Worker reloaded mid-run (a new workerd) would have lost its in-memory state: say so.
  const pids = { sim: sim.workerdPid(), unsandbox: unsandbox.workerdPid(), anchor: anchor?.workerdPid() };
  const inspector = await connectInspector(unsandbox.inspectorPort);
  running.push({ stop: async () => inspector.close() });
  /** A second unsandbox, in multi-tenant mode, for the scale case: started when that case runs. */
  const startMultiTenant = async () => {
    const p = await startUnsandboxProcess({
      persistDir: dir,
      sim,
      config: unsandboxConfig,
      name: "unsandbox-multi",
      vars: {
        UNSANDBOX_MODE: "multi-tenant",
        ADMIN_SECRET: BENCH_ADMIN_SECRET,
        TENANT_KEY_ENCRYPTION_KEYS: BENCH_TENANT_KEYS,
      },
    });
    running.push(p);
    named.multiTenant = p;
    return { ...p, adminSecret: BENCH_ADMIN_SECRET };
  };
  const ctx = { sim, unsandbox, r2writer, anchor, copier, inspector, log, startMultiTenant };

  /** @type {Record<string, unknown>} */
  const result = {
    command: ["npm run bench", ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : [])].join(" "),
    quick,
    plan,
    started_at: new Date().toISOString(),
    source,
    machine: {
      cpus: cpus().length,
      cpu_model: cpus()[0]?.model.trim() ?? "unknown",
      memory_gib: Math.round(totalmem() / 1024 ** 3),
      platform: `${platform()} ${release()}`,
      node: process.version,
      load_average_at_start: loadavg().map((x) => Math.round(x * 100) / 100),
      wrangler: execFileSync(
        join(fileURLToPath(new URL("../node_modules/.bin/", import.meta.url)), "wrangler"),
        ["--version"],
        { encoding: "utf8" },
      ).trim(),
    },
  };
  if (wanted("latency")) result.latency = await latencyCase(ctx, plan.latency);
  // Streaming and load take about a minute together: copies must leave them room within 20 minutes.
  if (wanted("copy")) result.copy = await copyCase(ctx, { ...plan.copy, deadline: t0 + COPY_BUDGET_MS });
  if (wanted("streaming")) result.streaming = await streamingCase(ctx, plan.streaming);
  if (wanted("load")) result.load = await loadCase(ctx, plan.load);
  if (wanted("owncost")) result.owncost = await ownCostCase(ctx, plan.owncost);
  if (wanted("concurrent")) result.concurrent = await concurrentCase(ctx, plan.concurrent);
  if (wanted("downloads")) result.downloads = await downloadsCase(ctx, plan.downloads);
  if (wanted("scale")) result.scale = await scaleCase(ctx, plan.scale);
  result.finished_at = new Date().toISOString();
  result.workers_never_reloaded =
    sim.workerdPid() === pids.sim &&
    unsandbox.workerdPid() === pids.unsandbox &&
    (!anchor || anchor.workerdPid() === pids.anchor);
  if (!result.workers_never_reloaded)
    log("warning: a Worker was reloaded during the run (its workerd changed); figures after that may be off");
  result.duration_s = Math.round((performance.now() - t0) / 1000);
  /** @type {any} */ (result.machine).load_average_at_end = loadavg().map((x) => Math.round(x * 100) / 100);

  const table = markdownReport(result);
  process.stdout.write(`\n${table}\n`);
  const stamp = String(result.started_at).replace(/[:.]/g, "-");
  const jsonPath = join(RESULTS, `${partial ? "partial-" : ""}${stamp}.json`);
  writeFileSync(jsonPath, `${JSON.stringify(result, null, 2)}\n`);
  if (!partial) writeFileSync(join(RESULTS, "latest.md"), `${table}\n`);
  log(`saved ${jsonPath}${partial ? "" : " and bench/results/latest.md"}`);
} catch (err) {
  process.exitCode = 1;
  console.error(`bench failed: ${err instanceof Error ? err.stack : String(err)}`);
  for (const [name, p] of Object.entries(named))
    console.error(`\n--- last output of ${name} ---\n${p.output().slice(-3000)}`);
} finally {
  await cleanUp();
}
