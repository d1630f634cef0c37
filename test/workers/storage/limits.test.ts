// Limits against runaway answers (issue 8): beyond a limit a file is `skipped` with the reason.
// Per-tenant values come from the tenant record, in multi-tenant mode only (single-tenant and
// pass-through deployments have no tenant records: their limits are the deployment's, and the
// trackers never ask the directory): test/workers/multi-tenant/limits.test.ts.
import { describe, expect, it } from "vitest";
import { env, sim, tracker } from "../support/tracker";
import { DEFAULT_LIMITS, deploymentLimits, effectiveLimits } from "../../../src/storage/limits";
import { fetchWorker, link, register } from "../support/lifecycle";

describe("limits", () => {
  it("tenant overrides win over the deployment's defaults, which fall back to the documented ones", () => {
    expect(deploymentLimits({})).toEqual(DEFAULT_LIMITS);
    expect(
      deploymentLimits({
        UNSANDBOX_MAX_FILES_PER_RESPONSE: "7",
        UNSANDBOX_RETENTION_DAYS: "2",
        UNSANDBOX_MAX_FILE_BYTES: "nope",
      }),
    ).toEqual({
      ...DEFAULT_LIMITS,
      filesPerResponse: 7,
      retentionMs: 2 * 24 * 3600_000,
    });
    expect(effectiveLimits(DEFAULT_LIMITS, { bytes_per_tenant: 10, retention_days: 1 })).toEqual({
      ...DEFAULT_LIMITS,
      bytesPerTenant: 10,
      retentionMs: 24 * 3600_000,
    });
  });
  it("files with a blocked extension (UNSANDBOX_BLOCKED_EXTENSIONS) are skipped, never copied", async () => {
    const ct = await sim.container([
      { path: "/mnt/data/tool.EXE", size: 500 },
      { path: "/mnt/data/screensaver.scr", size: 500 },
      { path: "/mnt/data/report.csv", size: 500 },
    ]);
    await register(ct.id, "resp_blocked", ct.created_at, [], { sweep: true });
    const m = await tracker(ct.id).waitForStored("resp_blocked", 30_000);
    const byPath = Object.fromEntries(m.map((e) => [e.path, e]));
    expect(byPath["/mnt/data/report.csv"]!.state).toBe("stored");
    for (const p of ["/mnt/data/tool.EXE", "/mnt/data/screensaver.scr"]) {
      expect(byPath[p]).toMatchObject({ state: "skipped", reason: expect.stringContaining("blocked_extensions") });
    }
    expect(deploymentLimits({ UNSANDBOX_BLOCKED_EXTENSIONS: " exe, .Dll ," }).blockedExtensions).toEqual([
      "exe",
      "dll",
    ]);
  });
});
