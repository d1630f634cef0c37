/**
 * What the simulator's process holds while it streams a 1 GiB file: this test downloads one from
 * the simulator running as its own `wrangler dev` process and prints the VmRSS of the workerd that
 * runs it, before and at its peak, and the isolate's own growth (V8 heap + ArrayBuffer storage).
 * The figures are for reading, not asserted (they depend on the machine). The test asserts only
 * that every byte arrived intact, against the sha256 the simulator reports for the file.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { download } from "../../bench/lib/download.mjs";
import { startSimProcess } from "../../bench/lib/processes.mjs";
import { snapshotSim } from "../../bench/lib/snapshot.mjs";
import { connectInspector, watchHeap } from "../../bench/lib/isolate-heap.mjs";
import { mib, watchMemory } from "../../bench/lib/proc-memory.mjs";

const GIB = 1024 ** 3;
const onLinux = process.platform === "linux";

describe.skipIf(!onLinux)("simulator memory while streaming 1 GiB", () => {
  const persistDir = mkdtempSync(join(tmpdir(), "unsandbox-sim-memory-"));
  let sim: Awaited<ReturnType<typeof startSimProcess>>;
  beforeAll(async () => {
    // A frozen bundle: an edit to sim/src by someone else must not reload it mid-download.
    sim = await startSimProcess({ persistDir, config: await snapshotSim(join(persistDir, "snapshot")) });
  });
  afterAll(async () => {
    await sim?.stop();
    rmSync(persistDir, { recursive: true, force: true });
  });

  it("sends every byte of a 1 GiB file, with the sha256 it reports, and prints its workerd RSS", async () => {
    const created = await fetch(`${sim.origin}/__sim/containers`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "sim-memory", files: [{ path: "big.bin", size: GIB }] }),
    });
    expect(created.status).toBe(200);
    const container = (await created.json()) as { id: string; files: { id: string; size: number }[] };
    const file = container.files[0]!;
    expect(file.size).toBe(GIB);

    const workerd = sim.workerdPid();
    expect(workerd, "the simulator's workerd process").not.toBeNull();
    // Also the isolate's own memory (V8 heap + ArrayBuffer storage), through the devtools
    // inspector: it tells the simulator's JavaScript apart from workerd's native stream buffers.
    const inspector = await connectInspector(sim.inspectorPort);
    const heap = await watchHeap(inspector);
    const window = watchMemory(workerd!);
    const got = await download(`${sim.baseURL}/containers/${container.id}/files/${file.id}/content`, {
      headers: { authorization: `Bearer ${sim.apiKey}` },
      hash: true,
    });
    const memory = window.stop();
    const isolate = await heap.stop();
    inspector.close();
    // Written past the console (vitest.config.ts keeps passing tests' console output silent):
    // this figure is the point of the test.
    process.stdout.write(
      `\nsimulator workerd (pid ${workerd}) while streaming 1 GiB: RSS before ${mib(memory.before)} MiB, ` +
        `peak ${mib(memory.peak)} MiB, growth ${mib(memory.growth)} MiB ` +
        `(${memory.samples} samples${memory.kernelPeak ? " + kernel VmHWM" : ""}); ` +
        `isolate heap before ${mib(isolate.before)} MiB, growth ${mib(isolate.growth)} MiB; ` +
        `${(GIB / 1048576 / (got.ms / 1000)).toFixed(0)} MiB/s\n`,
    );

    expect(got.status, sim.output().slice(-2000)).toBe(200);
    expect(got.bytes).toBe(GIB);
    const truth = (await (await fetch(`${sim.origin}/__sim/files/${file.id}`)).json()) as {
      bytes: number;
      sha256: string;
    };
    expect(truth.bytes).toBe(GIB);
    expect(got.sha256).toBe(truth.sha256);
  });
});
