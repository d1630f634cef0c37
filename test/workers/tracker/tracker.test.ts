import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ContainerTracker } from "../../../src/tracker/container-tracker";
import { age, env, query, sim, tablesOf, tracker, until } from "../support/tracker";

const T = "default";

describe("ContainerTracker", () => {
  it("copies a file two responses cite exactly once, with the simulator's sha256", async () => {
    const ct = await sim.container([{ path: "/mnt/data/report.csv", size: 70_000 }]);
    const f = ct.files[0]!;
    const t = tracker(ct.id);
    const ref = { fileId: f.id, cited: "annotation" as const };
    await Promise.all([
      t.track({
        tenant: T,
        containerId: ct.id,
        responseId: "resp_a1",
        responseCreatedAt: f.created_at,
        refs: [ref],
        sweep: false,
      }),
      t.track({
        tenant: T,
        containerId: ct.id,
        responseId: "resp_a2",
        responseCreatedAt: f.created_at,
        refs: [ref],
        sweep: false,
      }),
    ]);
    const [m1, m2] = await Promise.all([t.waitForStored("resp_a1", 30_000), t.waitForStored("resp_a2", 30_000)]);
    const truth = await sim.truth(f.id);
    for (const m of [m1, m2]) {
      expect(m).toHaveLength(1);
      expect(m[0]).toMatchObject({
        file_id: f.id,
        version: 1,
        state: "stored",
        bytes: truth.bytes,
        sha256: truth.sha256,
        cited: ["annotation"],
        filename: "report.csv",
        content_type: "text/csv; charset=utf-8",
      });
    }
    expect((await sim.counters()).content_fetches[f.id]).toBe(1);
    const obj = await env.FILES.head(`t/default/c/${ct.id}/f/${f.id}/v1`);
    expect(obj?.size).toBe(truth.bytes);
    expect(obj?.customMetadata).toMatchObject({
      tenant: T,
      container: ct.id,
      file: f.id,
      version: "1",
      path: "/mnt/data/report.csv",
    });
  });

  it("sweeps the listing: assistant output after the response, not user files or junk", async () => {
    const ct = await sim.container([
      { path: "/mnt/data/input.csv", size: 100, source: "user" },
      { path: "/mnt/data/out.json", size: 200 },
      { path: "/mnt/data/.scratch", size: 10 },
      { path: "/mnt/data/__pycache__/x.pyc", size: 10 },
    ]);
    const t = tracker(ct.id);
    await t.track({
      tenant: T,
      containerId: ct.id,
      responseId: "resp_sweep",
      responseCreatedAt: ct.created_at,
      refs: [],
    });
    const m = await t.waitForStored("resp_sweep", 30_000);
    expect(m.map((e) => [e.path, e.state, e.cited])).toEqual([["/mnt/data/out.json", "stored", ["listing"]]]);
    // The listing track() made counts as the first sweep (the next is due a second later): every
    // listing the simulator served is one counted sweep, none made twice in a row.
    await until(async () => {
      const [row] = await query<{ sweep_attempts: number }>(ct.id, "SELECT sweep_attempts FROM responses");
      return (await sim.counters()).list_calls[ct.id] === row?.sweep_attempts;
    });
    // The container's state as the API reports it was recorded too (in the `_schema` row: src/tracker/schema.ts).
    const [row] = await query<{ id: string; status: string; last_active_at: number; expires_after_minutes: number }>(
      ct.id,
      "SELECT container_id AS id, status, last_active_at, expires_after_minutes FROM _schema",
    );
    expect(row).toMatchObject({ id: ct.id, status: "running", expires_after_minutes: 20 });
    expect(row!.last_active_at).toBeGreaterThanOrEqual(ct.created_at);
  });

  it("one listing serves a turn's window sweep and the next turn's watch sweep due within a second; a window sweep is never moved", async () => {
    const run = async (second: "open" | "track") => {
      const ct = await sim.container([{ path: "/mnt/data/out.csv", size: 50 }]);
      const t = tracker(ct.id);
      const created = ct.files[0]!.created_at - 1;
      await t.track({ tenant: T, containerId: ct.id, responseId: "resp_1", responseCreatedAt: created, refs: [] });
      if (second === "open") await t.open({ tenant: T, containerId: ct.id, responseId: "resp_2" });
      else await t.track({ tenant: T, containerId: ct.id, responseId: "resp_2", responseCreatedAt: created, refs: [] });
      // resp_1's sweep due now, resp_2's 0.5 s later; then one alarm run, on the instance.
      return runInDurableObject(t, async (inst: ContainerTracker, state) => {
        const now = Date.now();
        state.storage.sql.exec("UPDATE responses SET sweep_next_at = ? WHERE response_id = 'resp_1'", now - 1);
        state.storage.sql.exec("UPDATE responses SET sweep_next_at = ? WHERE response_id = 'resp_2'", now + 500);
        const attempts = () =>
          Object.fromEntries(
            state.storage.sql
              .exec<{ response_id: string; sweep_attempts: number }>(
                "SELECT response_id, sweep_attempts FROM responses",
              )
              .toArray()
              .map((r) => [r.response_id, r.sweep_attempts]),
          );
        const before = { lists: (await sim.counters()).list_calls[ct.id] ?? 0, attempts: attempts() };
        await inst.alarm();
        return {
          lists: ((await sim.counters()).list_calls[ct.id] ?? 0) - before.lists,
          resp1: attempts().resp_1! - before.attempts.resp_1!,
          resp2: attempts().resp_2! - before.attempts.resp_2!,
        };
      });
    };
    // The next turn still streaming (its watch): served by the same listing, a little early.
    expect(await run("open")).toEqual({ lists: 1, resp1: 1, resp2: 1 });
    // The next turn tracked (its late-registration window): left to its own time.
    expect(await run("track")).toEqual({ lists: 1, resp1: 1, resp2: 0 });
  });

  it("does not list a later response's files as an earlier one's, even inside its sweep window", async () => {
    const ct = await sim.container([{ path: "/mnt/data/first.csv", size: 300 }]);
    const first = ct.files[0]!;
    const t = tracker(ct.id);
    await t.track({
      tenant: T,
      containerId: ct.id,
      responseId: "resp_turn1",
      responseCreatedAt: first.created_at - 1,
      refs: [],
    });
    // The next turn starts a second later and writes a file nobody cites, while turn 1's window is open.
    await new Promise((r) => setTimeout(r, 1100));
    const second = await sim.addFile(ct.id, { path: "/mnt/data/second.csv", size: 400 });
    expect(second.created_at).toBeGreaterThan(first.created_at);
    await t.track({
      tenant: T,
      containerId: ct.id,
      responseId: "resp_turn2",
      responseCreatedAt: second.created_at,
      refs: [],
    });
    const m2 = await t.waitForStored("resp_turn2", 30_000);
    expect(m2.map((e) => e.path)).toContain("/mnt/data/second.csv");
    // Turn 1 sweeps again (its window is still open) and sees the new file in the listing.
    const swept = Date.now();
    await until(async () => {
      const [row] = await query<{ swept_at: number }>(
        ct.id,
        "SELECT swept_at FROM responses WHERE response_id = 'resp_turn1'",
      );
      return (row?.swept_at ?? 0) > swept;
    });
    const m1 = await t.waitForStored("resp_turn1", 30_000);
    expect(m1.map((e) => [e.path, e.state])).toEqual([["/mnt/data/first.csv", "stored"]]);
  });

  it("resolves a linked path once the file registers late, and marks the rest missing when the window closes", async () => {
    const ct = await sim.container([]);
    const t = tracker(ct.id);
    await sim.addFile(ct.id, { path: "/mnt/data/late.txt", size: 1234, visible_after_ms: 1500 });
    const first = await t.track({
      tenant: T,
      containerId: ct.id,
      responseId: "resp_late",
      responseCreatedAt: ct.created_at,
      refs: [
        { path: "/mnt/data/late.txt", cited: "link" },
        { path: "/mnt/data/never.txt", cited: "link" },
      ],
    });
    expect(first.map((e) => [e.path, e.state])).toEqual([
      ["/mnt/data/late.txt", "pending"],
      ["/mnt/data/never.txt", "pending"],
    ]);
    expect(await t.resolvePath({ tenant: T, responseId: "resp_late", path: "/mnt/data/never.txt" })).toEqual({
      kind: "pending",
    });
    await until(async () =>
      (await t.manifest("resp_late")).some((e) => e.path === "/mnt/data/late.txt" && e.state === "stored"),
    );
    // Close the sweep window by letting ten minutes pass for the tracker instead of waiting for them.
    await age(ct.id, 10 * 60_000);
    await runDurableObjectAlarm(t);
    const m = await t.manifest("resp_late");
    expect(m.map((e) => [e.path, e.state, e.file_id === null])).toEqual([
      ["/mnt/data/late.txt", "stored", false],
      ["/mnt/data/never.txt", "missing", true],
    ]);
    expect(await t.resolvePath({ tenant: T, responseId: "resp_late", path: "/mnt/data/never.txt" })).toEqual({
      kind: "missing",
    });
    expect(await t.resolvePath({ tenant: "other", responseId: "resp_late", path: "/mnt/data/late.txt" })).toEqual({
      kind: "unknown",
    });
  });

  it("backs off after a 429 with Retry-After, on the injected clock, and never stores the error body", async () => {
    const ct = await sim.container([{ path: "/mnt/data/r.bin", size: 5000 }]);
    const f = ct.files[0]!;
    await sim.fault({ file_id: f.id, kind: "status", status: 429, retry_after: 300, times: 1 });
    const t = tracker(ct.id);
    await t.track({
      tenant: T,
      containerId: ct.id,
      responseId: "resp_429",
      responseCreatedAt: f.created_at,
      refs: [{ fileId: f.id, cited: "item" }],
      sweep: false,
    });
    const [job] = await until(async () => {
      const rows = await query<{ attempts: number; next_attempt_at: number; last_error: string }>(
        ct.id,
        "SELECT attempts, next_attempt_at, last_error FROM jobs",
      );
      return rows[0]?.attempts === 1 ? rows : null;
    });
    expect(job!.last_error).toContain("429");
    // Retry-After (300 s) is honoured: the next attempt is no sooner (jitter only ever adds).
    expect(job!.next_attempt_at - Date.now()).toBeGreaterThan(299_000 - 5_000);
    expect(await env.FILES.head(`t/default/c/${ct.id}/f/${f.id}/v1`)).toBeNull();
    const fetches = (await sim.counters()).content_fetches[f.id];
    // Not due yet: an alarm run does nothing.
    await runInDurableObject(t, (inst: ContainerTracker) => inst.alarm());
    expect((await sim.counters()).content_fetches[f.id]).toBe(fetches);
    expect((await t.manifest("resp_429"))[0]!.state).toBe("copying");
    // Five minutes later for the tracker it is due, and succeeds.
    await age(ct.id, 300_000 + 1000);
    await runInDurableObject(t, (inst: ContainerTracker) => inst.alarm());
    const m = await t.manifest("resp_429");
    expect(m[0]).toMatchObject({ state: "stored", sha256: (await sim.truth(f.id)).sha256 });
  });

  it("marks files lost when the container expired before their copy", async () => {
    const ct = await sim.container([{ path: "/mnt/data/gone.csv", size: 5000 }]);
    const f = ct.files[0]!;
    await sim.fault({ file_id: f.id, kind: "status", status: 500, retry_after: 3600, times: 1 });
    const t = tracker(ct.id);
    await t.track({
      tenant: T,
      containerId: ct.id,
      responseId: "resp_lost",
      responseCreatedAt: f.created_at,
      refs: [{ fileId: f.id, cited: "annotation" }],
      sweep: false,
    });
    await until(async () => (await query<{ attempts: number }>(ct.id, "SELECT attempts FROM jobs"))[0]?.attempts === 1);
    await sim.expire(ct.id);
    await age(ct.id, 2 * 3600_000);
    await runInDurableObject(t, (inst: ContainerTracker) => inst.alarm());
    // The container is over: the tracker emptied itself (no job, nor a table to hold one) and the
    // manifest is read from R2.
    const m = await t.manifest("resp_lost", T);
    expect(m[0]).toMatchObject({ state: "lost", sha256: null });
    expect(m[0]!.reason).toMatch(/expired/);
    expect(await tablesOf(ct.id)).not.toContain("files");
  });

  it("refuses another tenant's container", async () => {
    const ct = await sim.container([]);
    const t = tracker(ct.id);
    await t.open({ tenant: T, containerId: ct.id, responseId: "resp_own" });
    // Called on the instance: an error thrown across RPC is also reported as unhandled by the pool.
    await expect(
      runInDurableObject(t, (inst: ContainerTracker) =>
        inst.open({ tenant: "intruder", containerId: ct.id, responseId: "resp_x" }),
      ),
    ).rejects.toThrow(/another tenant/);
    expect(await t.manifest("resp_x")).toEqual([]);
  });

  it("stores an inline figure as a cited, stored file", async () => {
    const ct = await sim.container([]);
    const t = tracker(ct.id);
    await t.open({ tenant: T, containerId: ct.id, responseId: "resp_fig" });
    const bytes = new Uint8Array([137, 80, 78, 71, 1, 2, 3]);
    const e = await t.storeInline({
      tenant: T,
      responseId: "resp_fig",
      filename: "figure-1.png",
      contentType: "image/png",
      bytes,
    });
    expect(e).toMatchObject({ state: "stored", bytes: 7, cited: ["figure"], path: "/mnt/data/figure-1.png" });
    const obj = await env.FILES.get(`t/default/r/resp_fig/i/${e.sha256}`);
    expect(new Uint8Array(await obj!.arrayBuffer())).toEqual(bytes);
  });
});

describe("ContainerTracker claims", () => {
  it("resolves a linked path to the file the same response cites by id, without waiting for the listing", async () => {
    const ct = await sim.container([]);
    // Listed only in a minute: the claim can only resolve through the citation.
    const f = await sim.addFile(ct.id, { path: "/mnt/data/cited.csv", size: 300, visible_after_ms: 60_000 });
    const t = tracker(ct.id);
    const m = await t.track({
      tenant: T,
      containerId: ct.id,
      responseId: "resp_claim",
      responseCreatedAt: f.created_at,
      refs: [
        { fileId: f.id, filename: "cited.csv", cited: "annotation" },
        { path: "/mnt/data/cited.csv", cited: "link" },
      ],
    });
    expect(m.map((e) => [e.file_id, e.path])).toEqual([[f.id, "/mnt/data/cited.csv"]]);
    expect(await t.resolvePath({ tenant: T, responseId: "resp_claim", path: "/mnt/data/cited.csv" })).toEqual({
      kind: "file",
      containerId: ct.id,
      fileId: f.id,
      version: 1,
    });
  });
});

describe("ContainerTracker with many files", () => {
  it("copies 30 swept files, each fetched once", { timeout: 60_000 }, async () => {
    const ct = await sim.container(
      Array.from({ length: 30 }, (_, i) => ({ path: `/mnt/data/part-${i}.json`, size: 1000 + i })),
    );
    const t = tracker(ct.id);
    await t.track({
      tenant: T,
      containerId: ct.id,
      responseId: "resp_many",
      responseCreatedAt: ct.created_at,
      refs: [],
    });
    const m = await t.waitForStored("resp_many", 50_000);
    expect(m).toHaveLength(30);
    expect(m.every((e) => e.state === "stored")).toBe(true);
    const fetches = (await sim.counters()).content_fetches;
    expect(ct.files.map((f) => fetches[f.id])).toEqual(ct.files.map(() => 1));
    for (const f of ct.files.slice(0, 3))
      expect(m.find((e) => e.file_id === f.id)?.sha256).toBe((await sim.truth(f.id)).sha256);
  });
});
