// @ts-check
/**
 * @module scripts/lib/wrangler-dev
 * Runs `wrangler dev` as a child process that can be stopped for sure. Used by `npm start` and by
 * the Node-side tests (test/node/support).
 *
 * Why this shape: wrangler starts workerd and esbuild as its own children. Killing an `npx`
 * wrapper leaves them running (observed), so the binary in node_modules/.bin is started directly,
 * in a process group of its own (`detached`,
 * https://nodejs.org/api/child_process.html#optionsdetached), and stopped by signalling the
 * whole group.
 */
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file lives in scripts/lib/). */
export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Environment that keeps an offline `wrangler dev` quiet (no Request.cf fetch, no telemetry). */
export const QUIET_WRANGLER_ENV = { CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };

/**
 * @typedef {object} DevProcess
 * @property {import("node:child_process").ChildProcess} child
 * @property {number} pid                      the wrangler process, leader of its process group
 * @property {() => string} output             everything it printed so far (stdout and stderr)
 * @property {Promise<number | null>} exited   resolves with the exit code once it has stopped
 * @property {(graceMs?: number) => Promise<void>} stop  SIGTERM to the group, SIGKILL after graceMs
 * @property {() => void} killNow              SIGKILL to the group, synchronously (for `exit` handlers)
 */

/**
 * Starts `node_modules/.bin/wrangler dev <args>` in its own process group.
 * @param {string[]} args arguments after `wrangler dev`
 * @param {{ env?: NodeJS.ProcessEnv, cwd?: string, onOutput?: (chunk: string) => void }} [options]
 * @returns {DevProcess}
 */
export function startWranglerDev(args, options = {}) {
  const cwd = options.cwd ?? REPO_ROOT;
  const bin = join(REPO_ROOT, "node_modules", ".bin");
  // wrangler's shebang is `env node`, and wrangler needs Node 22: the project's own node sits in
  // node_modules/.bin, which npm scripts put first on PATH; do the same for direct callers.
  /** @type {NodeJS.ProcessEnv} */
  const env = { ...process.env, ...options.env, ...QUIET_WRANGLER_ENV };
  env.PATH = [bin, env.PATH ?? ""].join(delimiter);
  const child = spawn(join(bin, "wrangler"), ["dev", ...args], {
    cwd,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const collect = (/** @type {Buffer} */ chunk) => {
    const text = chunk.toString("utf8");
    output += text;
    if (output.length > 1_000_000) output = output.slice(-500_000);
    options.onOutput?.(text);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  /** @type {Promise<number | null>} */
  const exited = new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    child.once("exit", (code) => resolve(code));
    child.once("error", (err) => {
      output += String(err);
      resolve(-1);
    });
  });
  const pid = child.pid ?? -1;
  let stopped = false;
  const signalGroup = (/** @type {NodeJS.Signals} */ signal) => {
    if (pid <= 0) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // ESRCH: the group is already gone.
    }
  };
  return {
    child,
    pid,
    output: () => output,
    exited,
    async stop(graceMs = 5000) {
      if (stopped) return;
      stopped = true;
      signalGroup("SIGTERM");
      const timer = setTimeout(() => signalGroup("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
      // wrangler may exit before workerd does: make sure nothing of the group is left.
      signalGroup("SIGKILL");
    },
    killNow() {
      stopped = true;
      signalGroup("SIGKILL");
    },
  };
}

/**
 * Resolves once `url` answers any HTTP response (with its status and body); rejects if the
 * process exits first or the deadline passes (with the process's output, which says why).
 * @param {string} url
 * @param {DevProcess} proc
 * @param {number} [timeoutMs]
 * @returns {Promise<{ status: number, body: string }>}
 */
export async function waitUntilAnswering(url, proc, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void proc.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`wrangler dev exited before ${url} answered:\n${proc.output()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      return { status: res.status, body: await res.text() };
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms:\n${proc.output()}`);
}

/**
 * `count` distinct TCP ports that were free a moment ago on 127.0.0.1 (the OS picks them; all are
 * held open together, so none is handed out twice).
 * @param {number} count
 * @returns {Promise<number[]>}
 */
export async function freePorts(count) {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise((resolve, reject) => {
          const server = createServer();
          server.unref();
          server.once("error", reject);
          server.listen(0, "127.0.0.1", () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => {
    const address = /** @type {import("node:net").Server} */ (server).address();
    return typeof address === "object" && address ? address.port : 0;
  });
  await Promise.all(
    servers.map((server) => new Promise((r) => /** @type {import("node:net").Server} */ (server).close(r))),
  );
  return ports;
}

/**
 * A TCP port that was free a moment ago on 127.0.0.1.
 * @returns {Promise<number>}
 */
export async function freePort() {
  const [port] = await freePorts(1);
  return /** @type {number} */ (port);
}

/**
 * Whether something already listens on 127.0.0.1:`port` (e.g. a developer's own `npm start`).
 * @param {number} port
 * @returns {Promise<boolean>}
 */
export function portInUse(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(true));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(false)));
  });
}
