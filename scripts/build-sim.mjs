// Bundles the simulated upstream into one ES module for the test runner's auxiliary worker
// (auxiliary workers cannot read a wrangler config, so they get plain JavaScript).
import { build } from "esbuild";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * @param {string} [outfile]
 * @param {string} [root] the sources' root (the benchmark bundles a snapshot of another commit)
 */
export async function buildSim(
  outfile = fileURLToPath(new URL("../test/.build/sim.mjs", import.meta.url)),
  root = fileURLToPath(new URL("..", import.meta.url)),
) {
  await build({
    entryPoints: [join(root, "sim", "src", "index.ts")],
    outfile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2024",
    external: ["cloudflare:*"],
    logLevel: "warning",
  });
  return outfile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildSim();
