/**
 * Failures that don't become load (issue 19), in multi-tenant mode (this project's bindings, which
 * the trackers read too): a tenant revoked while its tracker still has a copy to retry. The
 * tracker reads the tenant's record again after TENANT_REFRESH_MS (aged, not waited: see
 * test/workers/tracker/sim.ts), finds it revoked and ends: the copy is `lost`, no alarm is left,
 * and further alarm runs make no upstream read. Before, every run threw on the key lookup and
 * re-armed the alarm at once, forever.
 */
import { env, exports } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ContainerTracker } from "../../../src/tracker/container-tracker";
import { SETTLE_QUIET_MS, TENANT_REFRESH_MS } from "../../../src/tracker/policy";
import { MULTI_TENANT_ADMIN_SECRET } from "../../test-keys";
import { alarmAt, job, register } from "../support/lifecycle";
import { sim, tracker, until } from "../support/tracker";

async function admin(method: string, path: string, json?: unknown): Promise<void> {
  const res = await exports.default.fetch(
    new Request(`https://unsandbox.test${path}`, {
      method,
      headers: { authorization: `Bearer ${MULTI_TENANT_ADMIN_SECRET}`, "content-type": "application/json" },
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
    }),
  );
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
}

const alarmTime = (cid: string) =>
  runInDurableObject(tracker(cid), (_i: ContainerTracker, state) => state.storage.getAlarm());

describe("multi-tenant: tracker faults", () => {
  it("a revoked tenant's tracker ends within one refresh: its copy lost, no alarm left, no more reads", async () => {
    const id = `rev${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    await admin("POST", "/admin/tenants", { id, name: id });
    const ct = await sim.container([{ path: "/mnt/data/rev.csv", size: 3_000 }]);
    const f = ct.files[0]!;
    await sim.fault({ file_id: f.id, kind: "status", status: 503, times: 10_000 });
    await register(ct.id, "resp_rev", f.created_at, [{ fileId: f.id, cited: "annotation" }], { tenant: id });
    await until(async () => ((await job(ct.id))?.attempts ?? 0) >= 1);
    await admin("POST", `/admin/tenants/${id}/revoke`);

    // Once the tenant's record is due for a refresh, one alarm run ends the container.
    await alarmAt(ct.id, TENANT_REFRESH_MS + 1_000);
    const [entry] = await tracker(ct.id).manifest("resp_rev");
    expect(entry).toMatchObject({ file_id: f.id, state: "lost", reason: expect.stringContaining("revoked") });
    expect(await job(ct.id)).toBeUndefined();
    // No retry is left: the one alarm is the move of what outlives the container to R2, within a
    // quiet minute (docs/storage.md, "What outlives the objects"), after which none is (below).
    expect((await alarmTime(ct.id)) ?? 0).toBeLessThanOrEqual(Date.now() + SETTLE_QUIET_MS);

    // A minute later, and an hour later: alarm runs (if anything ran one) read nothing upstream.
    const fetches = (await sim.counters()).content_fetches[f.id] ?? 0;
    const reads = (await sim.counters()).container_reads[ct.id] ?? 0;
    for (const skew of [2 * TENANT_REFRESH_MS, 3600_000]) await alarmAt(ct.id, skew);
    expect((await sim.counters()).content_fetches[f.id] ?? 0).toBe(fetches);
    expect((await sim.counters()).container_reads[ct.id] ?? 0).toBe(reads);
    expect(await alarmTime(ct.id)).toBeNull();
  });
});

/**
 * Makes every `TenantDirectory` call fail like an overloaded object while `fn` runs (the binding
 * class's prototype is wrapped: the test shares the isolate with the trackers). Returns how many
 * directory calls were tried meanwhile.
 */
async function withDirectoryOverloaded<T>(fn: () => Promise<T>): Promise<{ result: T; tried: number }> {
  const e = env as unknown as Record<string, unknown>;
  const proto = Object.getPrototypeOf(e.TENANT_DIRECTORY) as { getByName: (this: unknown, name: string) => unknown };
  const getByName = proto.getByName;
  let tried = 0;
  const failing = new Proxy(
    {},
    {
      get: (_t, prop) =>
        prop === "then"
          ? undefined
          : () => (
              tried++, Promise.reject(Object.assign(new Error("Durable Object is overloaded."), { overloaded: true }))
            ),
    },
  );
  proto.getByName = function (this: unknown, name: string) {
    return this === e.TENANT_DIRECTORY ? failing : getByName.call(this, name);
  };
  try {
    return { result: await fn(), tried };
  } finally {
    proto.getByName = getByName;
  }
}

describe("multi-tenant: a directory that cannot answer", () => {
  it("keeps the tenant's last good limits and key, and its refresh backs off instead of spinning", async () => {
    const id = `ovl${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    await admin("POST", "/admin/tenants", { id, name: id, limits: { bytes_per_file: 2_000 } });
    const ct = await sim.container([{ path: "/mnt/data/big.csv", size: 3_000 }]);
    const f = ct.files[0]!;
    await sim.fault({ file_id: f.id, kind: "status", status: 503, times: 1 });
    await register(ct.id, "resp_ovl", f.created_at, [{ fileId: f.id, cited: "annotation" }], { tenant: id });
    await until(async () => ((await job(ct.id))?.attempts ?? 0) >= 1);

    const { tried } = await withDirectoryOverloaded(async () => {
      // The tenant's record is due for a refresh, which fails: the copy still runs, with the
      // tenant's own limit (the deployment's 1 GiB would have stored it), not the defaults.
      await alarmAt(ct.id, TENANT_REFRESH_MS + 1_000);
      // Alarms right after: no new directory call until the refresh's backoff has passed.
      for (let i = 0; i < 5; i++) await runInDurableObject(tracker(ct.id), (inst: ContainerTracker) => inst.alarm());
    });
    expect(tried).toBe(1);
    const [entry] = await tracker(ct.id).manifest("resp_ovl");
    expect(entry).toMatchObject({
      file_id: f.id,
      state: "skipped",
      reason: expect.stringContaining("bytes_per_file (2000 bytes)"),
    });
  });
});
