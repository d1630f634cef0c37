// Bundles the simulated upstream into one ES module for the test runner's auxiliary worker
// (auxiliary workers cannot read a wrangler config, so they get plain JavaScript).
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

export async function buildSim(outfile = fileURLToPath(new URL("../test/.build/sim.mjs", import.meta.url))) {
  await build({
    entryPoints: [fileURLToPath(new URL("../sim/src/index.ts", import.meta.url))],
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
