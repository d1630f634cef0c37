// Sweep budget, retention and self-clearing on the tracker's injected clock (issue 8).
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ContainerTracker } from "../../../src/tracker/container-tracker";
import { FINAL_SWEEP_LEAD_MS, SWEEP_WINDOW_MS } from "../../../src/tracker/policy";
import { env, query, sim, tablesOf, tracker, until } from "../support/tracker";
import { alarmAt, fetchWorker, link, register, T } from "../support/lifecycle";

const MIN = 60_000;
const DAY = 24 * 60 * MIN;

describe("bounded sweeps", () => {
  it("sweeps after the response, once more shortly after, a final time before the computed expiry, then never reads again", async () => {
    const ct = await sim.container([{ path: "/mnt/data/first.csv", size: 3_000 }]);
    const [first] = ct.files;
    await register(ct.id, "resp_budget", ct.created_at, [], { sweep: true });
    await until(async () => (await tracker(ct.id).manifest("resp_budget", T)).some((e) => e.state === "stored"));
    // The late-registration window closes.
    await alarmAt(ct.id, SWEEP_WINDOW_MS + 1_000);
    expect(
      (await query<{ sweep_next_at: number | null }>(ct.id, "SELECT sweep_next_at FROM responses"))[0]!.sweep_next_at,
    ).toBeNull();
    // Written after the window closed: only the final sweep can find it.
    const second = await sim.addFile(ct.id, { path: "/mnt/data/second.txt", size: 900 });
    const before = await sim.counters();
    await alarmAt(ct.id, 5 * MIN); // nothing is due between the window and the final sweep
    expect((await sim.counters()).container_reads[ct.id]).toBe(before.container_reads[ct.id]);
    // The final sweep: 20 min (expires_after) after the last client activity, minus the lead.
    await alarmAt(ct.id, 20 * MIN - FINAL_SWEEP_LEAD_MS + 1_000);
    await until(async () => {
      await alarmAt(ct.id, 20 * MIN - FINAL_SWEEP_LEAD_MS + 2_000);
      return (await tracker(ct.id).manifest("resp_budget", T)).every((e) => e.state === "stored");
    });
    const m = await tracker(ct.id).manifest("resp_budget", T);
    expect(m.map((e) => [e.file_id, e.state])).toEqual([
      [first!.id, "stored"],
      [second.id, "stored"],
    ]);
    // The final sweep ran and the container is over: the tracker moved what outlives it to R2 and
    // emptied itself, keeping only the deletions it owes (docs/storage.md, "What outlives the objects").
    expect(await tablesOf(ct.id)).toEqual(["ended"]);
    // From here on: no container reads at all, whatever the clock does.
    const after = await sim.counters();
    for (const skew of [19 * MIN, 21 * MIN, 2 * 60 * MIN, 2 * DAY]) await alarmAt(ct.id, skew);
    await tracker(ct.id).manifest("resp_budget", T);
    const end = await sim.counters();
    expect(end.container_reads[ct.id]).toBe(after.container_reads[ct.id]);
    expect(end.list_calls[ct.id]).toBe(after.list_calls[ct.id]);
    expect(end.content_fetches[first!.id]).toBe(1);
    expect(end.content_fetches[second.id]).toBe(1);
  });
});

describe("retention", () => {
  it("deletes the object after the retention time, keeps a tombstone, and the link answers 410 'deleted by retention'", async () => {
    const ct = await sim.container([{ path: "/mnt/data/keep.csv", size: 2_000 }]);
    const [f] = ct.files;
    await register(ct.id, "resp_ret", f!.created_at, [{ fileId: f!.id, cited: "annotation" }]);
    await tracker(ct.id).waitForStored("resp_ret", 30_000);
    const key = `t/${T}/c/${ct.id}/f/${f!.id}/v1`;
    const url = await link({ responseId: "resp_ret", path: f!.path, containerId: ct.id });
    expect((await fetchWorker(url)).status).toBe(200);
    // 29 days: still kept.
    await alarmAt(ct.id, 29 * DAY);
    expect(await env.FILES.head(key)).not.toBeNull();
    // 30 days (the default) and a minute: gone from R2, the row stays as a tombstone.
    await alarmAt(ct.id, 30 * DAY + MIN);
    expect(await env.FILES.head(key)).toBeNull();
    // The container was over long before: the tombstone is the response's manifest (and the link's
    // pin) in R2, rewritten as deleted when the tracker deleted the bytes.
    const [row] = await tracker(ct.id).manifest("resp_ret", T);
    expect(row!.state).toBe("deleted");
    // The date is the day retention ran on the tracker's clock (here: today, after 30 days were let
    // pass by aging its rows; that the date is the clock's, 30 days on, is checked in src/tracker/policy.test.ts).
    const day = /^deleted by retention on (\d{4}-\d\d-\d\d)$/.exec(row!.reason ?? "")?.[1];
    expect(Math.abs(Date.parse(day!) - Date.now())).toBeLessThan(DAY);
    const res = await fetchWorker(url);
    expect(res.status).toBe(410);
    expect(await res.json()).toMatchObject({
      error: { code: "file_deleted", message: `This file was deleted by retention on ${day}.` },
    });
    // Its link never expires, so the tombstone is kept (in R2, as the link's pin): the tracker holds
    // nothing any more, and the link still answers 410 with the same reason, not an unknown 404.
    await alarmAt(ct.id, 400 * DAY);
    expect(await tablesOf(ct.id)).toEqual([]);
    const later = await fetchWorker(url);
    expect(later.status).toBe(410);
    expect(await later.json()).toMatchObject({
      error: { code: "file_deleted", message: `This file was deleted by retention on ${day}.` },
    });
  });

  it("clears itself (deleteAll) once every link that could reach it has expired", async () => {
    const ct = await sim.container([{ path: "/mnt/data/short.csv", size: 2_000 }]);
    const [f] = ct.files;
    const linksExpireAt = Math.floor(Date.now() / 1000) + 3600;
    await register(ct.id, "resp_short", f!.created_at, [{ fileId: f!.id, cited: "annotation" }], { linksExpireAt });
    await tracker(ct.id).waitForStored("resp_short", 30_000);
    const key = `t/${T}/c/${ct.id}/f/${f!.id}/v1`;
    expect(await env.FILES.head(key)).not.toBeNull();
    // Before the links expire: the object stays (the container is over by now, so the tracker
    // keeps only what it owes: this object's deletion and the response's records in R2).
    await alarmAt(ct.id, 30 * MIN);
    expect(await env.FILES.head(key)).not.toBeNull();
    expect(await tablesOf(ct.id)).toEqual(["ended"]);
    // After: the object, the response's pins and manifests, and every row are gone, and no alarm is left.
    await alarmAt(ct.id, 3600_000 + MIN);
    expect(await env.FILES.head(key)).toBeNull();
    expect((await env.FILES.list({ prefix: `t/${T}/r/resp_short/` })).objects).toEqual([]);
    expect(await tablesOf(ct.id)).toEqual([]);
    expect(
      await runInDurableObject(tracker(ct.id), (_i: ContainerTracker, state) => state.storage.getAlarm()),
    ).toBeNull();
    expect(await tracker(ct.id).lookup({ tenant: T, fileId: f!.id, version: 1 })).toBeNull();
  });
});
