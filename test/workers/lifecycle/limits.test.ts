// Limits against runaway answers (issue 8): beyond a limit a file is `skipped` with the reason.
// Per-tenant values come from the tenant record (created through the admin API), handed to the
// tracker with the request as the pipeline does (the tracker asks the directory for nothing).
import { describe, expect, it } from "vitest";
import { makeTenant } from "../tenants/support";
import { env, sim, tracker } from "../tracker/sim";
import { DEFAULT_LIMITS, deploymentLimits, effectiveLimits } from "../../../src/storage/limits";
import { fetchWorker, link, register } from "./helpers";

describe("limits", () => {
  it("a response with more files than allowed stores up to the limit and marks the rest skipped", async () => {
    const limits = { files_per_response: 2 };
    const tenant = await makeTenant({ limits });
    const ct = await sim.container([
      { path: "/mnt/data/a.csv", size: 500 },
      { path: "/mnt/data/b.csv", size: 500 },
      { path: "/mnt/data/c.csv", size: 500 },
      { path: "/mnt/data/d.csv", size: 500 },
    ]);
    const [a, b, c, d] = ct.files;
    // d is cited explicitly, so it is among the kept ones; the sweep finds the rest.
    await register(ct.id, "resp_many", ct.created_at, [{ fileId: d!.id, cited: "annotation" }], { sweep: true, tenant: tenant.id, tenantLimits: limits });
    const m = await tracker(ct.id).waitForStored("resp_many", 30_000);
    const byId = Object.fromEntries(m.map((e) => [e.file_id, e]));
    expect(m).toHaveLength(4);
    expect(m.filter((e) => e.state === "stored")).toHaveLength(2);
    expect(byId[d!.id]!.state).toBe("stored");
    const skipped = m.filter((e) => e.state === "skipped");
    expect(skipped).toHaveLength(2);
    for (const e of skipped) expect(e.reason).toBe("limit: the response already has 2 files (files_per_response)");
    expect([a, b, c].map((f) => byId[f!.id]!.state).sort()).toEqual(["skipped", "skipped", "stored"]);
    for (const e of skipped) expect(await env.FILES.head(`t/${tenant.id}/c/${ct.id}/f/${e.file_id}/v1`)).toBeNull();
    // A skipped file's link says why, instead of pretending it never existed.
    const res = await fetchWorker(await link({ tenant: tenant.id, responseId: "resp_many", path: skipped[0]!.path, containerId: ct.id }));
    expect(res.status).toBe(410);
    expect(await res.json()).toMatchObject({ error: { code: "file_skipped", message: expect.stringContaining("files_per_response") } });
  });

  it("a file larger than bytes_per_file is skipped without storing any of it", async () => {
    const limits = { bytes_per_file: 3_000 };
    const tenant = await makeTenant({ limits });
    const ct = await sim.container([
      { path: "/mnt/data/big.bin", size: 5_000 },
      { path: "/mnt/data/small.bin", size: 1_000 },
    ]);
    const [big, small] = ct.files;
    await register(ct.id, "resp_big", ct.created_at, [big!, small!].map((f) => ({ fileId: f.id, cited: "annotation" as const })), { tenant: tenant.id, tenantLimits: limits });
    const m = await tracker(ct.id).waitForStored("resp_big", 30_000);
    const byId = Object.fromEntries(m.map((e) => [e.file_id, e]));
    expect(byId[small!.id]).toMatchObject({ state: "stored", bytes: 1_000 });
    expect(byId[big!.id]).toMatchObject({ state: "skipped", sha256: null });
    expect(byId[big!.id]!.reason).toContain("bytes_per_file (3000 bytes)");
    expect(await env.FILES.head(`t/${tenant.id}/c/${ct.id}/f/${big!.id}/v1`)).toBeNull();
  });

  it("tenant overrides win over the deployment's defaults, which fall back to the documented ones", () => {
    expect(deploymentLimits({})).toEqual(DEFAULT_LIMITS);
    expect(deploymentLimits({ UNSANDBOX_MAX_FILES_PER_RESPONSE: "7", UNSANDBOX_RETENTION_DAYS: "2", UNSANDBOX_MAX_FILE_BYTES: "nope" })).toEqual({
      ...DEFAULT_LIMITS,
      filesPerResponse: 7,
      retentionMs: 2 * 24 * 3600_000,
    });
    expect(effectiveLimits(DEFAULT_LIMITS, { bytes_per_tenant: 10, retention_days: 1 })).toEqual({ ...DEFAULT_LIMITS, bytesPerTenant: 10, retentionMs: 24 * 3600_000 });
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
    expect(deploymentLimits({ UNSANDBOX_BLOCKED_EXTENSIONS: " exe, .Dll ," }).blockedExtensions).toEqual(["exe", "dll"]);
  });

  it("a tenant's blocked_extensions add to the deployment's (which it cannot unblock)", async () => {
    const limits = { blocked_extensions: [".CSV"] };
    const tenant = await makeTenant({ limits });
    const ct = await sim.container([
      { path: "/mnt/data/report.csv", size: 500 },
      { path: "/mnt/data/tool.exe", size: 500 },
      { path: "/mnt/data/chart.png", size: 500 },
    ]);
    await register(ct.id, "resp_tenant_blocked", ct.created_at, [], { sweep: true, tenant: tenant.id, tenantLimits: limits });
    const m = await tracker(ct.id).waitForStored("resp_tenant_blocked", 30_000);
    const byPath = Object.fromEntries(m.map((e) => [e.path, e]));
    expect(byPath["/mnt/data/chart.png"]!.state).toBe("stored");
    expect(byPath["/mnt/data/report.csv"]).toMatchObject({ state: "skipped", reason: "blocked: .csv files are not stored (blocked_extensions)" });
    expect(byPath["/mnt/data/tool.exe"]).toMatchObject({ state: "skipped", reason: "blocked: .exe files are not stored (blocked_extensions)" });
    expect(effectiveLimits({ ...DEFAULT_LIMITS, blockedExtensions: ["exe"] }, { blocked_extensions: ["exe", ".Scr"] }).blockedExtensions).toEqual(["exe", "scr"]);
  });
});
