// Runs once in Node before the workerd project starts: bundle the simulator for `sim`.
// @ts-expect-error plain ESM script without types
import { buildSim } from "../scripts/build-sim.mjs";

export default async function setup() {
  await buildSim();
}
