// Large copies: few and big on purpose (2 cores). workerd enforces no memory limit locally, so
// streaming is proven by behaviour: a part must be committed while the upstream body is paused.
import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { PART_SIZE } from "../../../src/storage/copy";
import type { ContainerTracker } from "../../../src/tracker/container-tracker";
import { env, query, sim, tablesOf, tracker, until } from "../support/tracker";

const T = "default";
const MB = 1_000_000;

interface PartRow {
  part_number: number;
  etag: string;
  size: number;
  stored_at: number;
}
/** The parts stored so far (`parts` is made by the first one: src/tracker/job-store.ts). */
const parts = async (cid: string) =>
  (await tablesOf(cid)).includes("parts")
    ? query<PartRow>(cid, "SELECT part_number, etag, size, stored_at FROM parts ORDER BY part_number")
    : [];

describe("multipart copies", () => {
  it("streams: a 300 MB body paused halfway already has committed parts", { timeout: 240_000 }, async () => {
    const size = 300 * MB;
    const ct = await sim.container([{ path: "/mnt/data/big.bin", size }]);
    const f = ct.files[0]!;
    const pause = await sim.fault({ file_id: f.id, kind: "pause", at_byte: size / 2 });
    const t = tracker(ct.id);
    await t.track({
      tenant: T,
      containerId: ct.id,
      responseId: "resp_big",
      responseCreatedAt: f.created_at,
      refs: [{ fileId: f.id, cited: "annotation" }],
      sweep: false,
    });
    // A copy that buffered the whole body would never commit a part before the body ends.
    const committed = await until(
      async () => (await parts(ct.id)).length > 0 && (await sim.faultState(pause.id)).paused,
      200,
    );
    expect(committed).toBe(true);
    const before = await parts(ct.id);
    expect(before.every((p) => p.size === PART_SIZE)).toBe(true);
    await sim.release(pause.id);
    const m = await t.waitForStored("resp_big", 200_000);
    const truth = await sim.truth(f.id);
    expect(m[0]).toMatchObject({ state: "stored", bytes: size, sha256: truth.sha256 });
    expect((await env.FILES.head(`t/default/c/${ct.id}/f/${f.id}/v1`))?.size).toBe(size);
  });

  for (const honourRange of [true, false]) {
    it(`resumes after an eviction at part 3 (Range ${honourRange ? "honoured" : "ignored"})`, {
      timeout: 120_000,
    }, async () => {
      // Above the single-put limit, so multipart: 15 parts of 8 MiB (the last one shorter).
      const ct = await sim.container([{ path: "/mnt/data/resume.bin", size: 120 * MB }], { honour_range: honourRange });
      const f = ct.files[0]!;
      const k = 3;
      const pause = await sim.fault({ file_id: f.id, kind: "pause", at_byte: k * PART_SIZE + 1_000 });
      let t = tracker(ct.id);
      await t.track({
        tenant: T,
        containerId: ct.id,
        responseId: "resp_resume",
        responseCreatedAt: f.created_at,
        refs: [{ fileId: f.id, cited: "annotation" }],
        sweep: false,
      });
      await until(async () => (await parts(ct.id)).length === k && (await sim.faultState(pause.id)).paused, 100);
      const before = await parts(ct.id);
      // The object goes away mid-part, as it would after 70–140 s without an event. A graceful
      // `evictDurableObject` waits for the running alarm to drain, so the instance is aborted
      // instead: in-memory state and the in-flight copy die, SQLite and the scheduled alarm stay.
      await abortAllDurableObjects();
      t = tracker(ct.id); // a stub to the aborted instance stays broken
      await sim.release(pause.id);
      const ran = await runDurableObjectAlarm(t);
      expect(ran).toBe(true);
      const m = await t.waitForStored("resp_resume", 100_000);
      const truth = await sim.truth(f.id);
      expect(m[0]).toMatchObject({ state: "stored", bytes: 120 * MB, sha256: truth.sha256 });
      const after = await parts(ct.id);
      // Parts 1..k were not uploaded again: same etags, same timestamps.
      expect(after.slice(0, k)).toEqual(before);
      expect(after.length).toBe(Math.ceil((120 * MB) / PART_SIZE));
      const [job] = await runInDurableObject(t, (_i: ContainerTracker, s) =>
        s.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM jobs").toArray(),
      );
      expect(job!.n).toBe(0);
      expect((await sim.counters()).content_fetches[f.id]).toBe(2);
      // The resume started where the stored parts end. With Range honoured only that offset was
      // requested again, so at most the one interrupted part crossed the wire twice; with Range
      // ignored the stored bytes were read past, not appended.
      const [file] = await query<{ resumed_from: number; range_honoured: number }>(
        ct.id,
        "SELECT resumed_from, range_honoured FROM files",
      );
      expect(file).toEqual({ resumed_from: k * PART_SIZE, range_honoured: honourRange ? 1 : 0 });
    });
  }

  it("running the alarm twice after a copy changes nothing", async () => {
    const ct = await sim.container([{ path: "/mnt/data/small.csv", size: 10_000 }]);
    const f = ct.files[0]!;
    const t = tracker(ct.id);
    await t.track({
      tenant: T,
      containerId: ct.id,
      responseId: "resp_twice",
      responseCreatedAt: f.created_at,
      refs: [{ fileId: f.id, cited: "link" }],
      sweep: false,
    });
    await t.waitForStored("resp_twice", 30_000);
    const snapshot = async () => ({
      files: await query(ct.id, "SELECT * FROM files"),
      jobs: await query(ct.id, "SELECT * FROM jobs"),
      parts: await parts(ct.id),
      citations: await query(ct.id, "SELECT * FROM citations"),
      fetches: (await sim.counters()).content_fetches[f.id],
      object: (await env.FILES.head(`t/default/c/${ct.id}/f/${f.id}/v1`))?.etag,
    });
    const before = await snapshot();
    await runDurableObjectAlarm(t);
    await runInDurableObject(t, (inst: ContainerTracker) => inst.alarm());
    await runInDurableObject(t, (inst: ContainerTracker) => inst.alarm());
    expect(await snapshot()).toEqual(before);
    expect(before.fetches).toBe(1);
    // A single `put` needs no parts: the tracker has no such table.
    expect(await tablesOf(ct.id)).not.toContain("parts");
  });
});
