// Fault tests (issue 8, "What it must show"): the simulator's faults and the tracker's injected
// clock, each asserting final states and what a download answers.
import { describe, expect, it } from "vitest";
import { env, sha256Hex, sim, tablesOf, tracker, until, query } from "../support/tracker";
import { alarmAt, fetchWorker, job, link, register, T, trackerNow } from "../support/lifecycle";

/**
 * Platform alarm retries: six, with backoff from 2 s (https://developers.cloudflare.com/durable-objects/api/alarms/):
 * 2+4+…+64 s.
 */
const PLATFORM_RETRY_SPAN_MS = 2_000 + 4_000 + 8_000 + 16_000 + 32_000 + 64_000;

/** Runs due copy attempts on the injected clock until the container has no job left; returns the final skew. */
async function driveJobs(cid: string, skew = 0): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const j = await job(cid);
    if (!j) return skew;
    if (j.attempts === 0 && j.next_attempt_at <= (await trackerNow(cid))) {
      await alarmAt(cid, skew);
      continue;
    }
    skew = Math.max(skew, j.next_attempt_at - Date.now() + 1);
    await alarmAt(cid, skew);
  }
  throw new Error("jobs did not settle");
}

describe("copy faults", () => {
  it("500 seven times then OK, over more time than the platform's alarm retries cover, ends stored", async () => {
    const ct = await sim.container([{ path: "/mnt/data/flaky.csv", size: 9000 }]);
    const f = ct.files[0]!;
    const fault = await sim.fault({ file_id: f.id, kind: "status", status: 500, times: 7 });
    await register(ct.id, "resp_flaky", f.created_at, [{ fileId: f.id, cited: "annotation" }]);
    const skew = await driveJobs(ct.id);
    expect((await sim.faultState(fault.id)).hits).toBe(7);
    expect((await sim.counters()).content_fetches[f.id]).toBe(1); // the simulator counts served bodies
    // The retries spread over more (injected) time than the platform's own six retries would.
    expect(skew).toBeGreaterThan(PLATFORM_RETRY_SPAN_MS);
    const [entry] = await tracker(ct.id).manifest("resp_flaky");
    expect(entry).toMatchObject({ state: "stored", sha256: (await sim.truth(f.id)).sha256 });
    const res = await fetchWorker(await link({ responseId: "resp_flaky", path: f.path, containerId: ct.id }));
    expect(res.status).toBe(200);
    expect(await sha256Hex(await res.arrayBuffer())).toBe((await sim.truth(f.id)).sha256);
  });

  it("a cut body never becomes a visible object, and the retry stores the whole file", async () => {
    const ct = await sim.container([{ path: "/mnt/data/cut.bin", size: 200_000 }]);
    const f = ct.files[0]!;
    await sim.fault({ file_id: f.id, kind: "cut", at_byte: 70_000, times: 1 });
    await register(ct.id, "resp_cut", f.created_at, [{ fileId: f.id, cited: "annotation" }]);
    const failed = await until(async () => ((await job(ct.id))?.attempts === 1 ? job(ct.id) : null));
    expect(failed!.last_error).toBeTruthy();
    const key = `t/${T}/c/${ct.id}/f/${f.id}/v1`;
    expect(await env.FILES.head(key)).toBeNull();
    expect((await env.FILES.list({ prefix: `t/${T}/c/${ct.id}/` })).objects).toEqual([]);
    // A download meanwhile waits for the retry (the platform alarm runs it in real time) or says
    // "not ready"; it never serves a partial body.
    const during = await fetchWorker(await link({ responseId: "resp_cut", path: f.path, containerId: ct.id }));
    expect([200, 503]).toContain(during.status);
    if (during.status === 200) expect(await sha256Hex(await during.arrayBuffer())).toBe((await sim.truth(f.id)).sha256);
    else await during.body?.cancel();
    await driveJobs(ct.id);
    const head = await env.FILES.head(key);
    expect(head?.size).toBe(200_000);
    expect((await tracker(ct.id).manifest("resp_cut"))[0]).toMatchObject({
      state: "stored",
      bytes: 200_000,
      sha256: (await sim.truth(f.id)).sha256,
    });
  });

  it("a container expiring while a copy waits ends lost, and the link answers a 410 page", async () => {
    const ct = await sim.container([{ path: "/mnt/data/late.pdf", size: 4000 }]);
    const f = ct.files[0]!;
    await sim.fault({ file_id: f.id, kind: "status", status: 503, times: 1 });
    await register(ct.id, "resp_exp", f.created_at, [{ fileId: f.id, cited: "annotation" }]);
    await until(async () => (await job(ct.id))?.attempts === 1);
    await sim.expire(ct.id);
    await driveJobs(ct.id);
    // One more attempt, answered "Container is expired.": no loop and no status polling after it.
    const reads = (await sim.counters()).container_reads[ct.id];
    for (const skew of [60_000, 3600_000]) await alarmAt(ct.id, skew);
    expect((await sim.counters()).container_reads[ct.id]).toBe(reads);
    const [entry] = await tracker(ct.id).manifest("resp_exp", T);
    expect(entry).toMatchObject({ state: "lost", sha256: null });
    expect(entry!.reason).toMatch(/expired/);
    const res = await fetchWorker(await link({ responseId: "resp_exp", path: f.path, containerId: ct.id }), {
      headers: { accept: "text/html" },
    });
    expect(res.status).toBe(410);
    expect(res.headers.get("content-type")).toContain("text/html");
    const page = await res.text();
    expect(page).toContain("This file was lost");
    expect(page).toContain("expired");
    expect(await env.FILES.head(`t/${T}/c/${ct.id}/f/${f.id}/v1`)).toBeNull();
  });

  it("a file registered late is found by the second sweep", async () => {
    const ct = await sim.container([]);
    const f = await sim.addFile(ct.id, { path: "/mnt/data/slow.txt", size: 700, visible_after_ms: 1_200 });
    const first = await register(ct.id, "resp_slow", ct.created_at, [], { sweep: true });
    expect(first).toEqual([]); // the first listing does not show it yet
    await until(async () => (await tracker(ct.id).manifest("resp_slow")).some((e) => e.state === "stored"));
    const m = await tracker(ct.id).manifest("resp_slow");
    expect(m).toMatchObject([
      { file_id: f.id, state: "stored", cited: ["listing"], sha256: (await sim.truth(f.id)).sha256 },
    ]);
    expect((await sim.counters()).list_calls[ct.id]).toBeGreaterThanOrEqual(2);
  });

  it("a 404 on the listing route itself (no Containers API) is unavailable at once, with no retry loop", async () => {
    const ct = await sim.container([{ path: "/mnt/data/x.csv", size: 100 }]);
    await sim.fault({ container_id: ct.id, kind: "status", status: 404, on: "list", times: 1000 });
    const m = await register(ct.id, "resp_noapi", ct.created_at, [{ path: "/mnt/data/x.csv", cited: "link" }], {
      sweep: true,
    });
    expect(m).toMatchObject([{ path: "/mnt/data/x.csv", state: "unavailable" }]);
    expect(m[0]!.reason).toMatch(/Containers API/);
    const lists = (await sim.counters()).list_calls[ct.id];
    for (const skew of [5_000, 60_000, 30 * 60_000]) await alarmAt(ct.id, skew);
    expect((await sim.counters()).list_calls[ct.id]).toBe(lists);
    // The container is over: the tracker emptied itself (no job left, nor a table to hold one), and
    // the response's manifest, now in R2 next to the bytes, still says the container was unavailable.
    expect(await tablesOf(ct.id)).not.toContain("files");
    expect(await tracker(ct.id).manifest("resp_noapi", T)).toMatchObject([
      { path: "/mnt/data/x.csv", state: "unavailable", reason: expect.stringMatching(/Containers API/) },
    ]);
  });
});

describe("honest lost count", () => {
  it("every file that existed while its container lived is stored (lost: 0)", { timeout: 120_000 }, async () => {
    const faults: Record<string, unknown>[] = [
      { kind: "status", status: 500, times: 3 },
      { kind: "status", status: 429, retry_after: 30, times: 2 },
      { kind: "status", status: 502, times: 5 },
      { kind: "cut", at_byte: 1_000, times: 2 },
    ];
    const containers: { id: string; files: { id: string; path: string }[]; response: string }[] = [];
    for (let c = 0; c < 3; c++) {
      const ct = await sim.container([
        { path: `/mnt/data/c${c}_a.csv`, size: 6_000 },
        { path: `/mnt/data/c${c}_b.txt`, size: 3_000 },
      ]);
      const late = await sim.addFile(ct.id, {
        path: `/mnt/data/c${c}_late.json`,
        size: 2_500,
        visible_after_ms: 1_000,
      });
      const files = [...ct.files, late];
      files.forEach((f, i) => void sim.fault({ file_id: f.id, ...faults[(c + i) % faults.length] }));
      containers.push({ id: ct.id, files, response: `resp_chaos_${c}` });
    }
    await new Promise((r) => setTimeout(r, 50)); // the faults are registered (fire-and-forget above)
    for (const c of containers) {
      // One file cited by id, one only linked by path, the late one found by the sweeps.
      await register(c.id, c.response, Math.floor(Date.now() / 1000) - 60, [
        { fileId: c.files[0]!.id, cited: "annotation" },
        { path: c.files[1]!.path, cited: "link" },
      ]);
    }
    // Let the real-time sweeps see the late registrations, then drive the injected clock.
    await new Promise((r) => setTimeout(r, 2_500));
    let skew = 0;
    for (let round = 0; round < 60; round++) {
      const states = (await Promise.all(containers.map((c) => tracker(c.id).manifest(c.response)))).flat();
      if (states.length === 9 && states.every((e) => e.state !== "pending" && e.state !== "copying")) break;
      skew += 10_000;
      for (const c of containers) await alarmAt(c.id, skew);
    }
    let existed = 0;
    let stored = 0;
    for (const c of containers) {
      const m = await tracker(c.id).manifest(c.response);
      for (const f of c.files) {
        existed++;
        const e = m.find((x) => x.file_id === f.id);
        if (e?.state === "stored" && e.sha256 === (await sim.truth(f.id)).sha256) stored++;
      }
    }
    const lost = existed - stored;
    console.log(
      `lost: ${lost} (files that existed in the simulator while their container lived: ${existed}, stored with the right sha256: ${stored})`,
    );
    expect(existed).toBe(9);
    expect(lost).toBe(0);
  });
});
