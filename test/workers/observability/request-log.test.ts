/**
 * The request and copy_job log lines (observability/request-log.ts, observability/copy-job.ts),
 * all through the real Worker, Durable Objects, R2 and the simulated upstream.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { unsandbox } from "../support/clients";
import { call, client, linesOf } from "../support/worker";

afterEach(() => vi.restoreAllMocks());

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
    expect(line).toMatchObject({ status: 200, tenant: "default", upstreamCalls: 1, filesFound: files.length });
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
