/**
 * Call budgets in multi-tenant mode (issue 19; docs/architecture.md "Call budgets"): a 3-file
 * create by a tenant's secret key, counted like test/workers/budgets/budgets.test.ts, with the
 * Durable Objects themselves in multi-tenant mode (this project's bindings).
 */
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { MULTI_TENANT_ADMIN_SECRET } from "../../test-keys";
import { containersInAnswer, installCounters, measure } from "../budgets/counting";

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

describe("call budgets, multi-tenant", () => {
  beforeAll(() => installCounters());

  it("a 3-file create", async () => {
    const id = `bud${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    await admin("POST", "/admin/tenants", { id, name: id });
    const { key } = await admin<{ key: string }>("POST", `/admin/tenants/${id}/keys`, { kind: "secret" });
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
  });
});
