// Per-tenant limits (issue 8), from the tenant record created through the admin API. Moved here
// from test/workers/lifecycle/limits.test.ts: only a multi-tenant deployment has tenant records,
// and its trackers (whose bindings are this project's) read them from the directory.
import { describe, expect, it } from "vitest";
import { makeTenant } from "../support/tenants";
import { env, sim, tracker } from "../support/tracker";
import { DEFAULT_LIMITS, effectiveLimits } from "../../../src/storage/limits";
import { fetchWorker, link, register } from "../support/lifecycle";

describe("multi-tenant: per-tenant limits", () => {
  it("a response with more files than allowed stores up to the limit and marks the rest skipped", async () => {
    const tenant = await makeTenant({ limits: { files_per_response: 2 } });
    const ct = await sim.container([
      { path: "/mnt/data/a.csv", size: 500 },
      { path: "/mnt/data/b.csv", size: 500 },
      { path: "/mnt/data/c.csv", size: 500 },
      { path: "/mnt/data/d.csv", size: 500 },
    ]);
    const [a, b, c, d] = ct.files;
    // d is cited explicitly, so it is among the kept ones; the sweep finds the rest.
    await register(ct.id, "resp_many", ct.created_at, [{ fileId: d!.id, cited: "annotation" }], {
      sweep: true,
      tenant: tenant.id,
    });
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
    const res = await fetchWorker(
      await link({ tenant: tenant.id, responseId: "resp_many", path: skipped[0]!.path, containerId: ct.id }),
    );
    expect(res.status).toBe(410);
    expect(await res.json()).toMatchObject({
      error: { code: "file_skipped", message: expect.stringContaining("files_per_response") },
    });
  });

  it("a file larger than bytes_per_file is skipped without storing any of it", async () => {
    const tenant = await makeTenant({ limits: { bytes_per_file: 3_000 } });
    const ct = await sim.container([
      { path: "/mnt/data/big.bin", size: 5_000 },
      { path: "/mnt/data/small.bin", size: 1_000 },
    ]);
    const [big, small] = ct.files;
    await register(
      ct.id,
      "resp_big",
      ct.created_at,
      [big!, small!].map((f) => ({ fileId: f.id, cited: "annotation" as const })),
      { tenant: tenant.id },
    );
    const m = await tracker(ct.id).waitForStored("resp_big", 30_000);
    const byId = Object.fromEntries(m.map((e) => [e.file_id, e]));
    expect(byId[small!.id]).toMatchObject({ state: "stored", bytes: 1_000 });
    expect(byId[big!.id]).toMatchObject({ state: "skipped", sha256: null });
    expect(byId[big!.id]!.reason).toContain("bytes_per_file (3000 bytes)");
    expect(await env.FILES.head(`t/${tenant.id}/c/${ct.id}/f/${big!.id}/v1`)).toBeNull();
  });

  it("a tenant's blocked_extensions add to the deployment's (which it cannot unblock)", async () => {
    const tenant = await makeTenant({ limits: { blocked_extensions: [".CSV"] } });
    const ct = await sim.container([
      { path: "/mnt/data/report.csv", size: 500 },
      { path: "/mnt/data/tool.exe", size: 500 },
      { path: "/mnt/data/chart.png", size: 500 },
    ]);
    await register(ct.id, "resp_tenant_blocked", ct.created_at, [], { sweep: true, tenant: tenant.id });
    const m = await tracker(ct.id).waitForStored("resp_tenant_blocked", 30_000);
    const byPath = Object.fromEntries(m.map((e) => [e.path, e]));
    expect(byPath["/mnt/data/chart.png"]!.state).toBe("stored");
    expect(byPath["/mnt/data/report.csv"]).toMatchObject({
      state: "skipped",
      reason: "blocked: .csv files are not stored (blocked_extensions)",
    });
    expect(byPath["/mnt/data/tool.exe"]).toMatchObject({
      state: "skipped",
      reason: "blocked: .exe files are not stored (blocked_extensions)",
    });
    expect(
      effectiveLimits({ ...DEFAULT_LIMITS, blockedExtensions: ["exe"] }, { blocked_extensions: ["exe", ".Scr"] })
        .blockedExtensions,
    ).toEqual(["exe", "scr"]);
  });
});
