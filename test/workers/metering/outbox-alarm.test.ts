/**
 * The usage outbox and the tracker's alarm (src/metering/outbox.ts `flushDue`): an alarm run while
 * the outbox's timer is pending leaves the stored file's row to that timer, so the files of one
 * response that settle in different alarm runs still go to the meter in one batch; the timer then
 * sends it, and the tenant's totals count the file once.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { tenantUsage } from "../../../src/metering/shards";
import type { ContainerTracker } from "../../../src/tracker/container-tracker";
import { env, sim, tracker } from "../support/tracker";

const T = "default";

const outboxRows = (cid: string) =>
  runInDurableObject(tracker(cid), (_inst: ContainerTracker, state) => {
    const sql = state.storage.sql;
    if (!sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'usage_outbox'").toArray().length)
      return 0;
    return sql.exec<{ n: number }>("SELECT count(*) AS n FROM usage_outbox").one().n;
  });

describe("usage outbox under the tracker's alarm", () => {
  it("an alarm run while the timer is pending leaves the row to it; the timer sends it once", async () => {
    const before = (await tenantUsage(env, T)).totals;
    const ct = await sim.container([{ path: "/mnt/data/out.csv", size: 300 }]);
    const t = tracker(ct.id);
    await t.track({
      tenant: T,
      containerId: ct.id,
      responseId: "resp_outbox",
      responseCreatedAt: ct.files[0]!.created_at - 1,
      refs: [],
    });
    const [entry] = await t.waitForStored("resp_outbox", 30_000);
    expect(entry!.state).toBe("stored");
    // Stored just now: its row waits for the timer (FLUSH_DELAY_MS, 1 s).
    expect(await outboxRows(ct.id)).toBe(1);
    // An alarm run meanwhile (a sweep, another file's copy) does not send it on its own.
    await runInDurableObject(t, (inst: ContainerTracker) => inst.alarm());
    expect(await outboxRows(ct.id)).toBe(1);
    // The timer does, once.
    for (let i = 0; i < 50 && (await outboxRows(ct.id)) > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await outboxRows(ct.id)).toBe(0);
    const after = (await tenantUsage(env, T)).totals;
    expect(after.files_stored - before.files_stored).toBe(1);
    expect(after.bytes_stored - before.bytes_stored).toBe(300);
  });
});
