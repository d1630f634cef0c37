// Runs once in Node before each workerd project starts: bundle the simulator for `sim`. Two
// projects may build at once, so each builds to a file of its own and renames it into place
// (a rename is atomic: a reader sees one whole bundle or the other, never a half-written one).
import { renameSync } from "node:fs";
import { fileURLToPath } from "node:url";
// @ts-expect-error plain ESM script without types
import { buildSim } from "../scripts/build-sim.mjs";
import type { TestProject } from "vitest/node";
import { loadRealTraffic } from "./real-traffic";

export default async function setup(project: TestProject) {
  // Recorded real traffic, read in place from beside the clone (test/workers/replay/real-traffic.test.ts).
  project.provide("realTraffic", loadRealTraffic(fileURLToPath(new URL("../../shared/real-traffic", import.meta.url))));
  const target = fileURLToPath(new URL("./.build/sim.mjs", import.meta.url));
  const own = `${target}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await buildSim(own);
  renameSync(own, target);
}
