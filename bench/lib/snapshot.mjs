// @ts-check
/**
 * @module bench/lib/snapshot
 * Freezes the Workers a benchmark runs: each is bundled once into a temp dir and `wrangler dev`
 * runs that bundle, with a copy of its wrangler config pointing at it.
 *
 * Why: `wrangler dev` watches its sources and reloads the Worker when one changes. Several
 * engineers edit this working tree at once, and a reload in the middle of a run would drop the
 * simulator's in-memory containers and interrupt the copies being measured (a figure would then
 * measure someone's save, not unsandbox). A bundle in a temp dir is never edited, so nothing reloads.
 */
import { execSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildSim } from "../../scripts/build-sim.mjs";
import { QUIET_WRANGLER_ENV, REPO_ROOT } from "../../scripts/lib/wrangler-dev.mjs";

/**
 * The committed Worker sources (HEAD) extracted into `dir`, with the repo's node_modules linked
 * in: a run that measures what is committed, not a colleague's unsaved work in the shared tree.
 * @param {string} dir
 * @returns {{ root: string, commit: string }}
 */
export function checkoutHead(dir) {
  mkdirSync(dir, { recursive: true });
  const commit = execSync("git rev-parse HEAD", { cwd: REPO_ROOT, encoding: "utf8" }).trim();
  execSync(
    `git archive ${commit} src sim wrangler.toml tsconfig.json package.json | tar -x -C ${JSON.stringify(dir)}`,
    { cwd: REPO_ROOT, stdio: ["ignore", "ignore", "inherit"] },
  );
  symlinkSync(join(REPO_ROOT, "node_modules"), join(dir, "node_modules"));
  return { root: dir, commit };
}

/**
 * A wrangler config's text with `main` pointing at `mainPath` (everything else as it is).
 * @param {string} toml
 * @param {string} mainPath
 */
export function withMain(toml, mainPath) {
  if (!/^main\s*=.*$/m.test(toml)) throw new Error("the wrangler config has no top-level `main` line");
  return toml.replace(/^main\s*=.*$/m, `main = ${JSON.stringify(mainPath)}`);
}

/**
 * Bundles the simulator into `dir` and returns the config to run it with.
 * @param {string} dir
 * @param {string} [root] the sources' root (default: the working tree)
 * @returns {Promise<string>} the wrangler config path
 */
export async function snapshotSim(dir, root = REPO_ROOT) {
  mkdirSync(dir, { recursive: true });
  const bundle = join(dir, "sim.mjs");
  // The same bundle the tests run, from `root`.
  await buildSim(bundle, root);
  const config = join(dir, "sim.toml");
  writeFileSync(config, withMain(readFileSync(join(root, "sim", "wrangler.toml"), "utf8"), bundle));
  return config;
}

/**
 * Bundles unsandbox the way a deploy would (`wrangler deploy --dry-run --outdir`) and returns the
 * config to run it with.
 * @param {string} dir
 * @param {string} [root] the sources' root (default: the working tree)
 * @returns {string} the wrangler config path
 */
export function snapshotUnsandbox(dir, root = REPO_ROOT) {
  mkdirSync(dir, { recursive: true });
  const toml = readFileSync(join(root, "wrangler.toml"), "utf8");
  const out = spawnSync(join(REPO_ROOT, "node_modules", ".bin", "wrangler"), ["deploy", "--dry-run", "--outdir", dir], {
    cwd: root,
    env: {
      ...process.env,
      ...QUIET_WRANGLER_ENV,
      PATH: `${join(REPO_ROOT, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
    },
    encoding: "utf8",
  });
  if (out.status !== 0) throw new Error(`bundling unsandbox failed:\n${out.stdout}\n${out.stderr}`);
  const config = join(dir, "wrangler.toml");
  writeFileSync(config, withMain(toml, join(dir, "index.js")));
  return config;
}
