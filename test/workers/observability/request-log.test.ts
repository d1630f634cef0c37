/**
 * The request and copy_job log lines (observability/request-log.ts, observability/copy-job.ts)
 * and which requests write one (`REQUEST_LOG`, observability/log-policy.ts), all through the real
 * Worker, Durable Objects, R2 and the simulated upstream.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import app from "../../../src/index";
import { FLUSH_MS } from "../../../src/metering/record";
import { unsandbox } from "../support/clients";
import { BASE, call, client, ENV, KEY, linesOf, usage } from "../support/worker";

afterEach(() => vi.restoreAllMocks());

/** The deployment's env with every request's line written (one object: config is parsed once per env). */
const ALL = { ...(ENV as object), REQUEST_LOG: "all" } as never;

const NO_TOOL = { model: "gpt-5", input: "Say hi.\nsim: scenario=no-tool" };

/** A streamed create through the Worker with `environment`: the body read to its end, then `waitUntil` work. */
async function streamed(environment: unknown): Promise<{ status: number; requestId: string | null; text: string }> {
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request(`${BASE}/v1/responses`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ ...NO_TOOL, stream: true }),
    }),
    environment as never,
    ctx,
  );
  const text = await res.text();
  await waitOnExecutionContext(ctx);
  return { status: res.status, requestId: res.headers.get("x-unsandbox-request-id"), text };
}

describe("which requests write a line (REQUEST_LOG)", () => {
  it("notable (the default): a model request with no container, link or file writes none, and is still metered", async () => {
    await new Promise((r) => setTimeout(r, 2 * FLUSH_MS)); // earlier tests' usage batches land first
    const before = (await usage()).totals;
    const log = vi.spyOn(console, "log");
    const { response } = await client().responses.create(NO_TOOL).withResponse();
    expect(response.status).toBe(200);
    const stream = await streamed(ENV);
    expect(stream.status).toBe(200);
    expect(stream.text).toContain("response.completed");
    expect(linesOf(log, "request")).toEqual([]);
    // The line is gone, the usage is not: both model requests are counted.
    let after = (await usage()).totals;
    for (let i = 0; i < 30 && after.model_requests - before.model_requests < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = (await usage()).totals;
    }
    expect(after.model_requests - before.model_requests).toBe(2);
  });

  it("all: the same requests each write their line, with nothing notable in it", async () => {
    const log = vi.spyOn(console, "log");
    const { response } = await client({}, ALL).responses.create(NO_TOOL).withResponse();
    const stream = await streamed(ALL);
    const lines = linesOf(log, "request");
    expect(lines.map((l) => l.requestId)).toEqual([response.headers.get("x-unsandbox-request-id"), stream.requestId]);
    for (const line of lines) {
      expect(line).toMatchObject({
        level: "info",
        route: "/v1/responses",
        status: 200,
        upstreamCalls: 1,
        containers: 0,
        links: 0,
        filesFound: 0,
        degraded: null,
      });
    }
  });

  it("all: a refusal writes the same line as under notable", async () => {
    const log = vi.spyOn(console, "log");
    expect((await call("/files/not-a-token/x.csv", {}, ALL)).status).toBe(403);
    expect((await call("/files/not-a-token/x.csv")).status).toBe(403);
    const [all, notable] = linesOf(log, "request");
    expect(all).toMatchObject({ level: "warn", status: 403, route: "/files/:token/:name" });
    expect({ ...notable, requestId: null, durationMs: null }).toEqual({ ...all, requestId: null, durationMs: null });
  });
});

describe("the lines notable requests write (under the default)", () => {
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
    expect(line).toMatchObject({
      level: "info",
      tenant: "default",
      method: "POST",
      status: 200,
      upstreamCalls: 1,
      containers: 1,
      degraded: null,
    });
    expect(line.links).toBeGreaterThanOrEqual(2);
    expect(line.upstreamMs).toBeGreaterThanOrEqual(0);
    expect(line.filesFound).toBe(files.length);
    expect(line.filesStored).toBe(stored.length);
    expect(stored.length).toBeGreaterThanOrEqual(2);
    expect(line.bytesCopied).toBe(stored.reduce((n, f) => n + f.bytes, 0));

    // Each stored file had a copy job whose line names it.
    const jobs = linesOf(log, "copy_job");
    for (const f of stored) {
      expect(jobs.find((j) => j.fileId === f.file_id && j.outcome === "stored")).toMatchObject({
        tenant: "default",
        bytes: f.bytes,
        containerId: f.container_id,
      });
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
    expect(line).toMatchObject({
      status: 200,
      tenant: "default",
      upstreamCalls: 1,
      filesFound: files.length,
      containers: 1,
    });
    expect(line.filesStored).toBe(files.filter((f) => f.state === "stored").length);
  });

  it("a refused request is a warn line with no tenant and no token in the route", async () => {
    const log = vi.spyOn(console, "log");
    const res = await call("/files/not-a-token/x.csv");
    expect(res.status).toBe(403);
    const line = linesOf(log, "request").at(-1);
    expect(line).toMatchObject({
      level: "warn",
      status: 403,
      route: "/files/:token/:name",
      tenant: null,
      upstreamCalls: 0,
    });
    expect(JSON.stringify(line)).not.toContain("not-a-token");
  });
});
