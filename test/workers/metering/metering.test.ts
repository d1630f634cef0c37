/**
 * Usage metering per tenant (metering/record.ts, metering/meter.ts) and the admin report
 * (routes/metering.ts), through the real Worker, Durable Objects, R2 and the simulated upstream.
 */
import { FLUSH_MS } from "../support/flush";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN_SECRET, call, client, usage } from "../support/worker";

describe("metering per tenant", () => {
  it("counts model requests, files and bytes stored, bytes served and container reads", async () => {
    // Earlier tests' requests are metered in batches at most FLUSH_MS apart: let them land first.
    await new Promise((r) => setTimeout(r, 2 * FLUSH_MS));
    const before = (await usage()).totals;
    const sdk = client();
    const r = (await sdk.responses.create({
      model: "gpt-5",
      input: "One file.\nsim: scenario=one-file; files=m.csv; quirks=-late_listing",
      tools: [{ type: "code_interpreter", container: { type: "auto" } }],
    })) as any;
    const file = r.unsandbox.files.find((f: any) => f.state === "stored");
    expect(file).toBeDefined();
    const dl = await call(file.url);
    const served = (await dl.arrayBuffer()).byteLength;
    expect(dl.status).toBe(200);
    await sdk.containers.files.list(file.container_id);

    // Stored files are metered after they are stored, from the tracker's outbox (src/metering/outbox.ts):
    // the totals arrive within the outbox's flush delay.
    let after = (await usage()).totals;
    for (let i = 0; i < 50 && after.files_stored === before.files_stored; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = (await usage()).totals;
    }
    expect(after.model_requests - before.model_requests).toBe(1);
    expect(after.files_stored - before.files_stored).toBeGreaterThanOrEqual(1);
    expect(after.bytes_stored - before.bytes_stored).toBeGreaterThanOrEqual(file.bytes);
    expect(after.bytes_served - before.bytes_served).toBe(served);
    expect(after.container_reads - before.container_reads).toBe(1);
  });

  it("the admin report lists tenants and refuses a wrong secret; 404 without ADMIN_SECRET", async () => {
    await client().models.list();
    const list = await call("/admin/usage", { headers: { authorization: `Bearer ${ADMIN_SECRET}` } });
    expect(list.status).toBe(200);
    const body = (await list.json()) as any;
    expect(body.object).toBe("list");
    expect(body.data.map((d: any) => d.tenant)).toContain("default");
    expect((await call("/admin/usage", { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    expect(
      (await call("/admin/usage/default?from=yesterday", { headers: { authorization: `Bearer ${ADMIN_SECRET}` } }))
        .status,
    ).toBe(400);
    expect((await call("/admin/usage", { headers: { authorization: `Bearer ${ADMIN_SECRET}` } }, env)).status).toBe(
      404,
    );
  });
});
