// @ts-check
/**
 * @module bench/lib/processes
 * The processes a benchmark runs, each a `wrangler dev` on loopback with ports of its own and a
 * persist directory under a temp dir, started the way `npm start` starts them (scripts/lib), so a
 * developer's own `npm start` on 8787/8788 is never touched:
 * - the simulator (`sim/wrangler.toml`),
 * - unsandbox pointed at it (the settings `npm start` would pass, from `planStart`),
 * - the bench-only R2 writer (`bench/r2-writer/wrangler.toml`), for the R2 leg of the ceiling and
 *   for serving a download's bytes straight from R2,
 * - the anchor (`bench/anchor/wrangler.toml`), a bare pass-through Worker in front of the simulator,
 * - when a case asks, a second unsandbox in multi-tenant mode.
 * Ports come from bench/lib/ports.mjs (`--ports=` keeps them inside a range).
 */
import { copyFileSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { planStart, varArgs } from "../../scripts/lib/settings.mjs";
import { REPO_ROOT, startWranglerDev, waitUntilAnswering } from "../../scripts/lib/wrangler-dev.mjs";
import { takePorts } from "./ports.mjs";
import { findWorkerdPid } from "./proc-memory.mjs";

/**
 * @typedef {object} Running
 * @property {string} origin   `http://127.0.0.1:<port>`
 * @property {number} pid      the wrangler process (leader of its process group)
 * @property {() => number | null} workerdPid  its workerd child, once started
 * @property {() => string} output
 * @property {() => Promise<void>} stop
 * @property {number} inspectorPort  wrangler's devtools inspector (Chrome DevTools Protocol)
 */

/** The bearer key of the bench's simulator (any value works; the simulator checks it). */
export const BENCH_SIM_KEY = "sk-sim-bench";

/**
 * @param {string[]} args
 * @param {string} readyPath  a path that answers once the Worker is up
 * @param {number} port
 * @param {string} cwd  the working directory: wrangler dev writes its build under `<cwd>/.wrangler`
 *   and reloads the Worker when files it watches there change, so each process gets a directory
 *   of its own outside the shared working tree (where others' `npm install` or builds would
 *   reload it mid-run, dropping the simulator's in-memory state).
 * @returns {Promise<Running>}
 */
async function start(args, readyPath, port, cwd) {
  const inspectorPort = Number(args[args.indexOf("--inspector-port") + 1]);
  mkdirSync(cwd, { recursive: true });
  const proc = startWranglerDev(args, { cwd });
  const origin = `http://127.0.0.1:${port}`;
  try {
    await waitUntilAnswering(`${origin}${readyPath}`, proc, 150_000);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return {
    origin,
    pid: proc.pid,
    inspectorPort,
    workerdPid: () => findWorkerdPid(proc.pid),
    output: proc.output,
    stop: () => proc.stop(),
  };
}

/**
 * The simulated upstream as its own process.
 * @param {{ persistDir: string, apiKey?: string, config?: string }} o  `config`: a snapshot's
 *   wrangler config (bench/lib/snapshot.mjs); default: the live sources
 * @returns {Promise<Running & { apiKey: string, baseURL: string }>}
 */
export async function startSimProcess({
  persistDir,
  apiKey = BENCH_SIM_KEY,
  config = join(REPO_ROOT, "sim", "wrangler.toml"),
}) {
  const [port, inspector] = /** @type {[number, number]} */ (await takePorts(2));
  const running = await start(
    [
      "-c",
      resolve(config),
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(inspector),
      "--persist-to",
      resolve(persistDir, "sim"),
      "--var",
      `SIM_API_KEY:${apiKey}`,
    ],
    "/v1/models",
    port,
    join(persistDir, "cwd-sim"),
  );
  return { ...running, apiKey, baseURL: `${running.origin}/v1` };
}

/**
 * unsandbox, pointed at `sim`, with the local defaults `npm start` would fill in.
 * @param {{ persistDir: string, sim: { baseURL: string, apiKey: string }, config?: string, name?: string,
 *   vars?: Record<string, string> }} o  `vars`: settings beyond the defaults (e.g. multi-tenant mode);
 *   `name`: its persist and working directories (two instances side by side)
 * @returns {Promise<Running & { apiKey: string, baseURL: string }>}
 */
export async function startUnsandboxProcess({
  persistDir,
  sim,
  config = join(REPO_ROOT, "wrangler.toml"),
  name = "unsandbox",
  vars = {},
}) {
  const [port, inspector] = /** @type {[number, number]} */ (await takePorts(2));
  // planStart from an empty environment: the same defaults npm start uses, on our own port; the
  // simulator's URL and key are set explicitly because its port is ours too.
  const plan = planStart({ PORT: String(port), OPENAI_API_KEY: sim.apiKey, OPENAI_BASE_URL: sim.baseURL, ...vars }, {});
  const running = await start(
    [
      "-c",
      resolve(config),
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(inspector),
      "--persist-to",
      resolve(persistDir, name),
      ...varArgs(plan.vars),
    ],
    "/healthz",
    port,
    join(persistDir, `cwd-${name}`),
  );
  return { ...running, apiKey: /** @type {string} */ (plan.vars.UNSANDBOX_API_KEY), baseURL: `${running.origin}/v1` };
}

/**
 * The bench-only Worker that writes generated bytes to its own local R2 bucket.
 * @param {{ persistDir: string }} o
 * @returns {Promise<Running>}
 */
export function startR2Writer({ persistDir }) {
  return startBenchWorker("r2-writer", persistDir, "/health", []);
}

/**
 * The anchor: a bare pass-through Worker to the simulator (bench/anchor/index.mjs), started with
 * the same `wrangler dev` flags as unsandbox, so the two differ only by what the Worker does.
 * @param {{ persistDir: string, sim: { baseURL: string, apiKey: string } }} o
 * @returns {Promise<Running>}
 */
export function startAnchor({ persistDir, sim }) {
  return startBenchWorker("anchor", persistDir, "/", upstreamVars(sim));
}

/**
 * The `--var`s that point a bench Worker at the simulator with its key.
 * @param {{ baseURL: string, apiKey: string }} sim
 */
const upstreamVars = (sim) => ["--var", `UPSTREAM_BASE_URL:${sim.baseURL}`, "--var", `UPSTREAM_API_KEY:${sim.apiKey}`];

/**
 * The copy floor: the anchor plus the least work that stores a turn's container files in R2
 * (bench/copier/index.mjs), started like the anchor.
 * @param {{ persistDir: string, sim: { baseURL: string, apiKey: string } }} o
 * @returns {Promise<Running>}
 */
export function startCopier({ persistDir, sim }) {
  return startBenchWorker("copier", persistDir, "/stats", upstreamVars(sim));
}

/**
 * A bench-only Worker of two files under `bench/<name>/` (wrangler.toml, index.mjs), run from a
 * copy, for the same reason the other Workers run from snapshots.
 * @param {string} name
 * @param {string} persistDir
 * @param {string} readyPath
 * @param {string[]} extra
 * @returns {Promise<Running>}
 */
async function startBenchWorker(name, persistDir, readyPath, extra) {
  const [port, inspector] = /** @type {[number, number]} */ (await takePorts(2));
  const copy = join(persistDir, `snapshot-${name}`);
  mkdirSync(copy, { recursive: true });
  for (const file of ["wrangler.toml", "index.mjs"])
    copyFileSync(join(REPO_ROOT, "bench", name, file), join(copy, file));
  return start(
    [
      "-c",
      join(copy, "wrangler.toml"),
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(inspector),
      "--persist-to",
      resolve(persistDir, name),
      ...extra,
    ],
    readyPath,
    port,
    join(persistDir, `cwd-${name}`),
  );
}
