/**
 * Production readiness: /healthz, the request and copy_job log lines, and usage metering with the
 * admin report, all through the real Worker, Durable Objects, R2 and the simulated upstream.
 */
import { FLUSH_MS } from "../../../src/metering/record";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { unsandbox } from "../support/clients";
import { ADMIN_SECRET, call, client, linesOf, usage } from "./support";

afterEach(() => vi.restoreAllMocks());

describe("GET /healthz", () => {
  it("checks R2 and every Durable Object binding", async () => {
    const res = await call("/healthz");
    const body = (await res.json()) as any;
    expect(res.status).toBe(200);
    expect(body.ok).toBe(true);
    expect(Object.keys(body.checks).sort()).toEqual(
      ["container_tracker", "ownership_ledger", "r2", "rate_counter", "response_index", "tenant_directory", "usage_meter"],
    );
    for (const check of Object.values(body.checks) as any[]) expect(check.ok).toBe(true);
  });

  it("answers 503 naming the missing binding", async () => {
    const broken = { ...(env as object), FILES: undefined, RESPONSE_INDEX: undefined };
    const res = await call("/healthz", {}, broken);
    const body = (await res.json()) as any;
    expect(res.status).toBe(503);
    expect(body.ok).toBe(false);
    expect(body.checks.r2.ok).toBe(false);
    expect(body.checks.r2.error).toContain("FILES");
    expect(body.checks.response_index.error).toContain("RESPONSE_INDEX");
    expect(body.checks.container_tracker.ok).toBe(true);
  });
});

describe("one structured log line per request", () => {
  it("a model request: id, tenant, route, status, upstream latency and file counts", async () => {
    const log = vi.spyOn(console, "log");
    const { data, response } = await client()
      .responses.create({
        model: "gpt-5",
        input: "Make two files.\nsim: scenario=several-files; files=a.csv,b.txt; quirks=-late_listing",
        tools: [{ type: "code_interpreter", container: { type: "auto" } }],
      })
      .withResponse();
    const files = (data as any).unsandbox.files as any[];
    const stored = files.filter((f) => f.state === "stored");
    const lines = linesOf(log, "request").filter((l) => l.route === "/v1/responses");
    expect(lines).toHaveLength(1);
    const line = lines[0];
    expect(line.requestId).toBe(response.headers.get("x-unsandbox-request-id"));
    expect(line).toMatchObject({ level: "info", tenant: "default", method: "POST", status: 200, upstreamCalls: 1 });
    expect(line.upstreamMs).toBeGreaterThanOrEqual(0);
    expect(line.filesFound).toBe(files.length);
    expect(line.filesStored).toBe(stored.length);
    expect(stored.length).toBeGreaterThanOrEqual(2);
    expect(line.bytesCopied).toBe(stored.reduce((n, f) => n + f.bytes, 0));

    // Each stored file had a copy job whose line names it.
    const jobs = linesOf(log, "copy_job");
    for (const f of stored) {
      expect(jobs.find((j) => j.fileId === f.file_id && j.outcome === "stored")).toMatchObject({ tenant: "default", bytes: f.bytes, containerId: f.container_id });
    }
  });

  it("a streamed request: the line is written when the stream ends, with the harvest's counts", async () => {
    const log = vi.spyOn(console, "log");
    // Through exports.default.fetch: `call` waits for waitUntil work, which a stream's harvest is
    // until the body is read, so it would wait on itself.
    const stream = await unsandbox().responses.create({
      model: "gpt-5",
      input: "Two files, streamed.\nsim: scenario=several-files; files=s1.csv,s2.txt; quirks=-late_listing",
      tools: [{ type: "code_interpreter", container: { type: "auto" } }],
      stream: true,
    });
    let completed: any;
    for await (const event of stream) if (event.type === "response.completed") completed = event.response;
    const files = completed.unsandbox.files as any[];
    expect(files.length).toBeGreaterThanOrEqual(2);
    const line = linesOf(log, "request").find((l) => l.route === "/v1/responses");
    expect(line).toMatchObject({ status: 200, tenant: "default", upstreamCalls: 1, filesFound: files.length });
    expect(line.filesStored).toBe(files.filter((f) => f.state === "stored").length);
  });

  it("a refused request is a warn line with no tenant and no token in the route", async () => {
    const log = vi.spyOn(console, "log");
    const res = await call("/files/not-a-token/x.csv");
    expect(res.status).toBe(403);
    const line = linesOf(log, "request").at(-1);
    expect(line).toMatchObject({ level: "warn", status: 403, route: "/files/:token/:name", tenant: null, upstreamCalls: 0 });
    expect(JSON.stringify(line)).not.toContain("not-a-token");
  });
});

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
    expect((await call("/admin/usage/default?from=yesterday", { headers: { authorization: `Bearer ${ADMIN_SECRET}` } })).status).toBe(400);
    expect((await call("/admin/usage", { headers: { authorization: `Bearer ${ADMIN_SECRET}` } }, env)).status).toBe(404);
  });
});
