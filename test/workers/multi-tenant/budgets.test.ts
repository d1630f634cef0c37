/**
 * Call budgets in multi-tenant mode (issue 19; docs/architecture.md "Call budgets"): a 3-file
 * create by a tenant's secret key, counted like test/workers/budgets/budgets.test.ts, with the
 * Durable Objects themselves in multi-tenant mode (this project's bindings).
 */
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { MULTI_TENANT_ADMIN_SECRET } from "../../test-keys";
import { containersInAnswer, installCounters, measure, type Measured } from "../budgets/counting";

async function admin<T>(method: string, path: string, json?: unknown): Promise<T> {
  const res = await exports.default.fetch(
    new Request(`https://unsandbox.test${path}`, {
      method,
      headers: { authorization: `Bearer ${MULTI_TENANT_ADMIN_SECRET}`, "content-type": "application/json" },
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
    }),
  );
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<T>;
}

async function tenantKey(): Promise<string> {
  const id = `bud${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  await admin("POST", "/admin/tenants", { id, name: id });
  return (await admin<{ key: string }>("POST", `/admin/tenants/${id}/keys`, { kind: "secret" })).key;
}

const both = (m: Measured, cls: string) => (m.hot.tally.objects[cls] ?? 0) + (m.off.tally.objects[cls] ?? 0);

describe("call budgets, multi-tenant", () => {
  beforeAll(() => installCounters());

  it("a create with no files: owners in R2, no per-response object", async () => {
    const key = await tenantKey();
    const m = await measure(
      new Request("https://unsandbox.test/v1/responses", {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-5", input: "2+2?\nsim: scenario=no-tool" }),
      }),
    );
    console.log("BUDGET multi create0", JSON.stringify({ hot: m.hot, off: m.off }));
    expect(m.status).toBe(200);
    // The response's owner is one R2 put (src/tenants/owner-records.ts); its one output item one
    // item-set write; no index (nothing to keep), no tracker. Was: OwnershipLedger 2 (the
    // response's own object, created, and the tenant's item set), ResponseIndex 1 (created).
    expect(both(m, "ResponseIndex")).toBe(0);
    expect(both(m, "ContainerTracker")).toBe(0);
    expect(both(m, "OwnershipLedger")).toBeLessThanOrEqual(1);
    expect((m.hot.tally.r2.put ?? 0) + (m.off.tally.r2.put ?? 0)).toBe(1);
    expect(m.hot.tally.r2.head ?? 0).toBe(0);
  });

  it("a 3-file create", async () => {
    const key = await tenantKey();
    const m = await measure(
      new Request("https://unsandbox.test/v1/responses", {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "x-unsandbox-wait-ms": "20000" },
        body: JSON.stringify({
          model: "gpt-5",
          input: "Three files.\nsim: scenario=several-files",
          tools: [{ type: "code_interpreter", container: { type: "auto" } }],
        }),
      }),
      containersInAnswer,
    );
    console.log("BUDGET multi create3", JSON.stringify({ hot: m.hot, off: m.off }));
    expect(m.status).toBe(200);
    expect(
      (JSON.parse(m.text) as { unsandbox: { files: { state: string }[] } }).unsandbox.files.map((f) => f.state),
    ).toEqual(["stored", "stored", "stored"]);
    const directory = (m.hot.tally.objects.TenantDirectory ?? 0) + (m.off.tally.objects.TenantDirectory ?? 0);
    // The key lookup only (cached per isolate for 2 s): the new tracker is handed the tenant's
    // limits and sealed key with the request (`tenantForLaterWork`) and reads the directory only
    // to refresh them, once a minute (src/tracker/tenant-view.ts).
    expect(directory).toBeLessThanOrEqual(1);
    expect(m.hot.tally.methods["TenantDirectory.lookupKey"] ?? 0).toBeLessThanOrEqual(1);
    // The trackers' sweeps after the answer read the tenant's record no more.
    expect(m.off.tally.objects.TenantDirectory ?? 0).toBe(0);
    // Owners: the response and its container are 2 R2 puts beside the 3 files' (no object each);
    // the answer's output items one write per item-set shard they fall in (at most 4). Was:
    // OwnershipLedger 3, two of them creating an object.
    expect((m.hot.tally.r2.put ?? 0) + (m.off.tally.r2.put ?? 0)).toBeLessThanOrEqual(5);
    expect(both(m, "OwnershipLedger")).toBeLessThanOrEqual(4);
    expect(m.hot.tally.methods["OwnershipLedger.recordItems"] ?? 0).toBe(both(m, "OwnershipLedger"));
  });
});
