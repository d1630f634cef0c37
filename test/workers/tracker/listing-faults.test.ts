// Failures that don't become load (issue 19): a rate-limit storm on the container listing longer
// than the sweep window. The listing honours Retry-After and failed listings do not spend the
// window, so the linked file is found and stored once the storm ends. Time is the tracker's
// aged clock (test/workers/tracker/sim.ts), so 30 s of 429s take no 30 s of real time.
import { describe, expect, it } from "vitest";
import { query, sim, tracker, unaged } from "../support/tracker";
import { alarmAt, register } from "../support/lifecycle";

/** The response's next sweep, on the test's clock (null once its window closed). */
async function nextSweepAt(cid: string, responseId: string): Promise<number | null> {
  const [r] = await query<{ sweep_next_at: number | null }>(
    cid,
    "SELECT sweep_next_at FROM responses WHERE response_id = ?",
    responseId,
  );
  return r?.sweep_next_at == null ? null : unaged(cid, r.sweep_next_at);
}

describe("listing faults", () => {
  it("30 s of 429s on the listing (Retry-After: 5) end with the linked file stored, not missing", async () => {
    const ct = await sim.container([{ path: "/mnt/data/storm.csv", size: 3_000 }]);
    const f = ct.files[0]!;
    const fault = await sim.fault({
      container_id: ct.id,
      kind: "status",
      status: 429,
      on: "list",
      times: 7,
      retry_after: 5,
    });
    await register(ct.id, "resp_storm", f.created_at, [{ path: f.path, cited: "link" }], { sweep: true });
    // Each listing runs when the tracker scheduled it, on the aged clock.
    let skew = 0;
    const dues: number[] = [];
    for (let i = 0; i < 60; i++) {
      const due = await nextSweepAt(ct.id, "resp_storm");
      if (due === null) break;
      dues.push(due);
      skew = Math.max(skew, due - Date.now() + 1);
      await alarmAt(ct.id, skew);
    }
    expect((await sim.faultState(fault.id)).hits).toBe(7);
    // Seven failed listings, each retried no sooner than Retry-After: more than 30 s of 429s.
    expect(skew).toBeGreaterThan(30_000);
    // After each failed listing the next came no sooner than Retry-After.
    const gaps = dues.slice(1, 7).map((d, i) => d - dues[i]!);
    expect(gaps).toHaveLength(6);
    for (const g of gaps) expect(g).toBeGreaterThanOrEqual(5_000);
    const m = await tracker(ct.id).waitForStored("resp_storm", 20_000);
    expect(m).toMatchObject([{ file_id: f.id, path: f.path, state: "stored" }]);
  });
});
