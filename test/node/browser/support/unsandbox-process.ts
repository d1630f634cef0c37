/**
 * @module test/node/browser/support/unsandbox-process
 * unsandbox and its simulated upstream started the way `npm start` starts them
 * (scripts/start.mjs), on ports of their own with a temporary persist directory, so the test can
 * run beside a developer's instance. UNSANDBOX_DEV_VARS points at a file that does not exist,
 * so a developer's .dev.vars (maybe with a real key) never reaches it.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { READY_LINE } from "../../../../scripts/lib/banner.mjs";
import { readDevVars } from "../../../../scripts/lib/dev-vars.mjs";
import { settingNames } from "../../../../scripts/lib/settings.mjs";
import { freePorts, REPO_ROOT } from "../../../../scripts/lib/wrangler-dev.mjs";

export interface Unsandbox {
  origin: string;
  simOrigin: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts `node scripts/start.mjs`; resolves once its banner is printed.
 * @param settings the Worker's settings, given unsandbox's own origin (e.g. for allowed origins)
 * @param ports unsandbox's and the simulator's ports (default: two free ones)
 */
export async function startUnsandbox(
  settings: (origin: string) => Record<string, string>,
  ports?: readonly [port: number, simPort: number],
): Promise<Unsandbox> {
  const [port, simPort] = ports ?? (await freePorts(2));
  const persist = mkdtempSync(join(tmpdir(), "unsandbox-browser-"));
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of settingNames(readDevVars(join(REPO_ROOT, ".dev.vars.example")))) delete env[name];
  Object.assign(env, settings(`http://127.0.0.1:${port}`), {
    PORT: String(port),
    SIM_PORT: String(simPort),
    UNSANDBOX_PERSIST_DIR: persist,
    UNSANDBOX_DEV_VARS: join(persist, "no.dev.vars"),
    PATH: [join(REPO_ROOT, "node_modules", ".bin"), process.env.PATH ?? ""].join(delimiter),
  });
  // Its own process group; start.mjs stops its wrangler children (their own groups) on SIGTERM.
  const child = spawn("node", ["scripts/start.mjs"], {
    cwd: REPO_ROOT,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const stop = async () => {
    if (!gone && child.pid) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {}
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {}
      }, 15_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(persist, { recursive: true, force: true });
  };
  for (let i = 0; i < 720 && !output.includes("Ctrl-C stops everything."); i++) {
    if (gone) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  if (!output.includes(READY_LINE)) {
    await stop();
    throw new Error(`npm start did not become ready:\n${output}`);
  }
  return { origin: `http://127.0.0.1:${port}`, simOrigin: `http://127.0.0.1:${simPort}`, output: () => output, stop };
}
