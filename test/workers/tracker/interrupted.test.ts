// A copy interrupted by the end of its tracker instance (the process died, or the object was
// evicted) resumes within seconds once a new instance starts, not when the heartbeat alarm
// (30 s ahead) comes round.
import { abortAllDurableObjects } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { INTERRUPTED_STEP } from "../../../src/tracker/policy";
import { env, query, sim, tracker, until } from "../support/tracker";

const T = "default";

describe("a copy interrupted mid-step", () => {
  it("resumes within seconds of the new instance starting", { timeout: 60_000 }, async () => {
    const size = 2_000_000;
    const ct = await sim.container([{ path: "/mnt/data/interrupted.bin", size }]);
    const f = ct.files[0]!;
    const pause = await sim.fault({ file_id: f.id, kind: "pause", at_byte: size / 2 });
    let t = tracker(ct.id);
    await t.track({
      tenant: T,
      containerId: ct.id,
      responseId: "resp_crash",
      responseCreatedAt: f.created_at,
      refs: [{ fileId: f.id, cited: "annotation" }],
      sweep: false,
    });
    await until(async () => (await sim.faultState(pause.id)).paused, 50);
    expect((await t.manifest("resp_crash"))[0]!.state).toBe("copying");
    // The instance dies mid-copy: its memory and the in-flight step go, SQLite and the alarm
    // (re-armed 30 s ahead by the heartbeat) stay.
    await abortAllDurableObjects();
    await sim.release(pause.id);
    t = tracker(ct.id); // a stub to the aborted instance stays broken
    const restarted = Date.now();
    // The first call starts the new instance: the interrupted step counts as one failed attempt
    // and is due again after the first backoff (1–2 s), not at the heartbeat.
    const [job] = await query<{ attempts: number; next_attempt_at: number; last_error: string; runner: string | null }>(
      ct.id,
      "SELECT attempts, next_attempt_at, last_error, runner FROM jobs",
    );
    expect(job).toMatchObject({ attempts: 1, last_error: INTERRUPTED_STEP, runner: null });
    expect(job!.next_attempt_at - restarted).toBeLessThanOrEqual(2_500);
    // A client waiting on the manifest sees the file stored within seconds.
    const m = await t.waitForStored("resp_crash", 15_000);
    const took = Date.now() - restarted;
    expect(m[0]).toMatchObject({ state: "stored", bytes: size, sha256: (await sim.truth(f.id)).sha256 });
    expect(took).toBeLessThan(8_000);
    expect((await env.FILES.head(`t/default/c/${ct.id}/f/${f.id}/v1`))?.size).toBe(size);
    expect((await sim.counters()).content_fetches[f.id]).toBe(2);
    expect(await query(ct.id, "SELECT * FROM jobs")).toEqual([]);
  });
});
