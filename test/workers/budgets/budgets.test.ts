/**
 * Call budgets (issue 19; docs/architecture.md "Call budgets"): per request type, the Durable
 * Object calls by class, the R2 operations and the upstream calls, on the hot path (until the
 * answer's last byte) and off it (the request's waitUntil work, then the trackers' alarms driven
 * to the end of their sweep windows on the aged clock). Single-tenant mode; the multi-tenant
 * create is in test/workers/multi-tenant/budgets.test.ts.
 */
import { env as workersEnv } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import app from "../../../src/index";
import { FLUSH_MS, flushUsage } from "../../../src/metering/record";
import { METER_SHARDS, tenantUsage } from "../../../src/metering/shards";
import {
  containersInAnswer,
  counted,
  installCounters,
  installSqlCounter,
  measure,
  type Measured,
  type Phase,
} from "./counting";

const KEY = "usk_test_0123456789abcdef";
const PK = "pk_test_widget";
const ORIGIN = "https://host.example";
const BASE = "https://unsandbox.test";
const TOOLS = [{ type: "code_interpreter", container: { type: "auto" } }];

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  new Request(`${BASE}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });

/** A plain create that waits for its files (`x-unsandbox-wait-ms`), as the budgets count it. */
const createWaitingForFiles = (input: string) =>
  post("/v1/responses", { model: "gpt-5", input, tools: TOOLS }, { "x-unsandbox-wait-ms": "20000" });

/** Calls to one class on both paths (0 when none). */
const calls = (m: Measured, cls: string) => (m.hot.tally.objects[cls] ?? 0) + (m.off.tally.objects[cls] ?? 0);
const method = (m: Measured, name: string) => (m.hot.tally.methods[name] ?? 0) + (m.off.tally.methods[name] ?? 0);
const r2 = (p: Phase, op: string) => p.tally.r2[op] ?? 0;

/**
 * A budget: at most this many calls per class (both paths), R2 operations and upstream calls.
 * Classes not named get 0. Each figure is today's, and each gap against the targets is
 * named where it is set (docs/architecture.md "Call budgets" has the table).
 */
interface Budget {
  objects: Partial<
    Record<
      "TenantDirectory" | "UsageMeter" | "ResponseIndex" | "ContainerTracker" | "OwnershipLedger" | "RateCounter",
      number
    >
  >;
  r2: Partial<Record<"put" | "get" | "head" | "delete" | "list" | "createMultipartUpload", number>>;
  upstream: { responses: number; listingsHot: number; listingsOff: number; contentFetches: number };
  /** SQL statements of every Durable Object, hot and off the path together (`installSqlCounter`). */
  sql?: number;
}

function expectWithin(m: Measured, b: Budget): void {
  for (const cls of [
    "TenantDirectory",
    "UsageMeter",
    "ResponseIndex",
    "ContainerTracker",
    "OwnershipLedger",
    "RateCounter",
  ] as const) {
    // remember() tells the tenant index about a tenant once per isolate, whichever request is first.
    const n = calls(m, cls) - (cls === "UsageMeter" ? method(m, "UsageMeter.remember") : 0);
    expect(n, cls).toBeLessThanOrEqual(b.objects[cls] ?? 0);
  }
  expect(method(m, "UsageMeter.remember")).toBeLessThanOrEqual(1);
  for (const op of ["put", "get", "head", "delete", "list", "createMultipartUpload"] as const) {
    expect(r2(m.hot, op) + r2(m.off, op), `R2 ${op}`).toBeLessThanOrEqual(b.r2[op] ?? 0);
  }
  expect(m.hot.upstream.responses + m.off.upstream.responses).toBe(b.upstream.responses);
  expect(m.hot.upstream.listings, "listings on the hot path").toBeLessThanOrEqual(b.upstream.listingsHot);
  expect(m.off.upstream.listings, "listings off the hot path").toBeLessThanOrEqual(b.upstream.listingsOff);
  expect(m.hot.upstream.contentFetches + m.off.upstream.contentFetches).toBe(b.upstream.contentFetches);
  if (b.sql !== undefined)
    expect((m.hot.tally.sql.statements ?? 0) + (m.off.tally.sql.statements ?? 0), "SQL statements").toBeLessThanOrEqual(
      b.sql,
    );
}

/** Prints the figures (the table in docs/architecture.md is made from these lines). */
const report = (name: string, m: Measured) =>
  console.log(`BUDGET ${name} ${JSON.stringify({ hot: m.hot, off: m.off })}`);

const NONE = { responses: 0, listingsHot: 0, listingsOff: 0, contentFetches: 0 };

describe("call budgets, single-tenant", () => {
  beforeAll(async () => {
    installCounters();
    await installSqlCounter();
  });

  it("plain create, no files: no Durable Object call on the hot path; one meter call off it", async () => {
    const m = await measure(
      post("/v1/responses", { model: "gpt-5", input: "2+2?\nsim: scenario=no-tool", tools: TOOLS }),
    );
    report("create, 0 files", m);
    expect(m.status).toBe(200);
    expect(calls(m, "TenantDirectory")).toBe(0);
    // An answer with neither a link nor a container is not registered with any index (harvest.ts):
    // nothing on its way to the client calls a Durable Object.
    expect(m.hot.tally.objects, "Durable Object calls before the answer's last byte").toEqual({});
    // Gap: in single-tenant mode the one tenant's UsageMeter is a deployment-wide object; the
    // request's own usage count is one call to it (off the hot path, in waitUntil). Target 0.
    // The single-tenant secret key's answers record no owner (nothing reads those records), and a
    // response with no container, no link and no earlier turn has no index (was 1 call, creating
    // its object): the create reaches no per-response Durable Object.
    expectWithin(m, { objects: { UsageMeter: 1 }, r2: {}, upstream: { ...NONE, responses: 1 } });
  });

  it("streamed create, no files: no Durable Object call on the hot path", async () => {
    const m = await measure(
      post("/v1/responses", { model: "gpt-5", input: "2+2?\nsim: scenario=no-tool", tools: TOOLS, stream: true }),
    );
    report("streamed create, 0 files", m);
    expect(m.status).toBe(200);
    expect(m.text).toContain("response.completed");
    expect(m.hot.tally.objects, "Durable Object calls before the stream's last byte").toEqual({});
    expectWithin(m, { objects: { UsageMeter: 1 }, r2: {}, upstream: { ...NONE, responses: 1 } });
  });

  it("plain create with 3 files, then its download and manifest", async () => {
    const m = await measure(createWaitingForFiles("Three files.\nsim: scenario=several-files"), containersInAnswer);
    report("create, 3 files", m);
    expect(m.status).toBe(200);
    const body = JSON.parse(m.text) as { id: string; unsandbox: { files: { state: string; url: string }[] } };
    expect(body.unsandbox.files.map((f) => f.state)).toEqual(["stored", "stored", "stored"]);
    // No directory call at all (the trackers' limits are the deployment's: src/tracker/tenant-view.ts).
    expect(calls(m, "TenantDirectory")).toBe(0);
    // Meter writes: one batch from the request path (its waitUntil) and the stored files in
    // tracker batches sent after they stored (src/metering/outbox.ts); none per file, none in a
    // copy. Was 7, 6 of them awaited inside copies. Reads: the byte limit's summed total, one read
    // of each of the METER_SHARDS shards per isolate per USAGE_READ_MS (src/metering/shards.ts),
    // so the first create of an isolate pays them and the next ones none.
    expect(method(m, "UsageMeter.add")).toBe(0);
    // The tracker's 3 stored files in one batch: its alarm runs between them leave the rows to
    // the outbox's timer (was up to 2 tracker batches).
    expect(method(m, "UsageMeter.apply")).toBeLessThanOrEqual(2);
    expect(method(m, "UsageMeter.report")).toBeLessThanOrEqual(METER_SHARDS);
    expectWithin(m, {
      objects: { ResponseIndex: 2, ContainerTracker: 2, UsageMeter: 3 + METER_SHARDS },
      // One put per file: each key written once. The answer's manifest checks the files against
      // the tenant's takedown tombstones as one list, kept per location (src/storage/tombstones.ts);
      // was 2 heads per file.
      r2: { put: 3, list: 1 },
      // The sweep window re-lists at 1, 2, 4 and 8 s after the first listing (off the hot path).
      upstream: { responses: 1, listingsHot: 1, listingsOff: 4, contentFetches: 3 },
      // Every object's statements, the trackers' sweeps and copies included: 289 here (208 before
      // the answer, 81 after), was 376 before each object's reads were remembered until its next
      // write (src/durable/read-memo.ts). SQLite-backed objects are billed per row read and written.
      sql: 300,
    });
    // The trackers' own work after the answer (sweeps) calls no Durable Object but the usage
    // outbox's batches to the tenant's meter shards (src/metering/outbox.ts).
    expect(Object.keys(m.off.tally.objects).filter((cls) => cls !== "UsageMeter")).toEqual([]);
    expect(m.off.tally.methods["UsageMeter.report"] ?? 0, "no meter read off the hot path").toBe(0);

    const download = await measure(new Request(body.unsandbox.files[0]!.url));
    report("download", download);
    expect(download.status).toBe(200);
    // The first download of a link in a location: index resolve, tracker waitForPath +
    // waitForFile, the request's meter batch; R2: the object's head (its metadata, kept with the
    // resolution), the get. No look for the link's pin: this isolate harvested the response
    // moments ago, so its container is live and has none (src/harvest/pin-hint.ts; was 1 get that
    // always missed). Once the container is over the pin replaces the three object calls
    // (test/workers/storage/state-ends.test.ts). The takedown tombstones are the tenant's listing
    // the answer read (was 3 heads: the link's, the object's by key and by content hash).
    expectWithin(download, {
      objects: { ResponseIndex: 1, ContainerTracker: 2, UsageMeter: 1 },
      r2: { head: 1, get: 1, list: 1 },
      upstream: NONE,
    });
    expect(r2(download.hot, "get"), "no look for a pin the live container cannot have").toBe(1);
    // Every later download of it in this location (src/harvest/download-cache.ts): one R2 get, no
    // Durable Object call but, here, the isolate's meter batch that this download opened (one per
    // USAGE_FLUSH_MS, however many downloads it carries; with the default interval a download
    // that joins an open batch makes none at all: the next test).
    const warm = await measure(new Request(body.unsandbox.files[0]!.url));
    report("download, warm", warm);
    expect(warm.status).toBe(200);
    expectWithin(warm, { objects: { UsageMeter: 1 }, r2: { get: 1 }, upstream: NONE });

    const manifest = await measure(
      new Request(`${BASE}/v1/responses/${body.id}/files`, { headers: { authorization: `Bearer ${KEY}` } }),
    );
    report("manifest", manifest);
    expect(manifest.status).toBe(200);
    // The takedown tombstones: the tenant's listing, kept per location (was 2 heads per stored file).
    expectWithin(manifest, { objects: { ResponseIndex: 1, ContainerTracker: 1 }, r2: { list: 1 }, upstream: NONE });
  });

  it("streamed create with 1 file", async () => {
    const m = await measure(
      post("/v1/responses", { model: "gpt-5", input: "One file.\nsim: scenario=one-file", tools: TOOLS, stream: true }),
      containersInAnswer,
    );
    report("streamed create, 1 file", m);
    expect(m.status).toBe(200);
    expect(calls(m, "TenantDirectory")).toBe(0);
    // The response is registered once, when the tool call names its container (it was 3 times:
    // first event, container seen, terminal harvest); the terminal harvest adds its links.
    expect(method(m, "ResponseIndex.register"), "registrations").toBe(1);
    expectWithin(m, {
      objects: { ResponseIndex: 2, ContainerTracker: 3, UsageMeter: 3 },
      // The final event's manifest reads the tenant's takedown tombstones (one list, or none while
      // this location holds it; was 2 heads).
      r2: { put: 1, list: 1 },
      upstream: { responses: 1, listingsHot: 1, listingsOff: 4, contentFetches: 1 },
      // 181 here (87 before the last event, 94 after), was 266 before read memos.
      sql: 190,
    });
  });

  it("widget session, then a create with 1 file", async () => {
    const session = await measure(
      new Request(`${BASE}/widget/session`, {
        method: "POST",
        headers: { authorization: `Bearer ${PK}`, origin: ORIGIN },
      }),
    );
    report("widget session", session);
    expect(session.status).toBe(200);
    // A session call costs only its address's own session limit (one per-address counter); the
    // key's daily cap is not touched (src/auth/limits.ts).
    expectWithin(session, { objects: { RateCounter: 1 }, r2: {}, upstream: NONE });
    const token = (JSON.parse(session.text) as { session: string }).session;
    const m = await measure(
      new Request(`${BASE}/v1/responses`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${PK}`,
          origin: ORIGIN,
          "x-unsandbox-session": token,
          "content-type": "application/json",
        },
        body: JSON.stringify({ model: "gpt-5", input: "One file.\nsim: scenario=one-file", tools: TOOLS }),
      }),
      containersInAnswer,
    );
    report("widget create, 1 file", m);
    expect(m.status).toBe(200);
    expect(calls(m, "TenantDirectory")).toBe(0);
    // Rate counters are leased per isolate (src/auth/leases.ts): a cold isolate's first create
    // calls each of its three; a busy one, one call per lease (test/workers/auth/limit-leases.test.ts).
    expectWithin(m, {
      // RateCounter: the address's per-minute limit, its share of the day, the key's daily cap.
      // OwnershipLedger: the visitor's 3 output items, one write per item-set shard they fall in
      // (1 to 3 of the 4: item ids are upstream's, random); the response's and the container's
      // owners are R2 objects (2 of the 3 puts, each started when the pipeline decoded the id:
      // src/tenants/owner-records.ts). Was 3 calls, 2 of them creating a Durable Object each.
      objects: { RateCounter: 3, ResponseIndex: 2, ContainerTracker: 2, OwnershipLedger: 3, UsageMeter: 3 },
      r2: { put: 3, list: 1 },
      upstream: { responses: 1, listingsHot: 1, listingsOff: 4, contentFetches: 1 },
    });
  });
  // Last: its opener's waitUntil lasts until the batch's timer (FLUSH_MS), which would let the
  // isolate's cached usage reads expire before the other tests.
  it("warm downloads with the default flush interval make no Durable Object call; one batch later counts every byte", {
    timeout: 60_000,
  }, async () => {
    // The deployment's default interval (src/metering/record.ts FLUSH_MS), not the suites' 250 ms.
    const deployed = { ...(workersEnv as object), USAGE_FLUSH_MS: undefined };
    const created = await measure(createWaitingForFiles("One file.\nsim: scenario=one-file"), containersInAnswer);
    const file = (JSON.parse(created.text) as { unsandbox: { files: { state: string; url: string; bytes: number }[] } })
      .unsandbox.files[0]!;
    expect(file.state).toBe("stored");
    expect((await measure(new Request(file.url))).status).toBe(200); // resolves the link in this location
    await flushUsage(workersEnv); // no batch open: the next count opens one
    const before = (await tenantUsage(workersEnv, "default")).totals.bytes_served;

    // The download that opens this isolate's batch hands its flush, FLUSH_MS later, to its waitUntil.
    const openerCtx = createExecutionContext();
    const opener = await app.fetch(new Request(file.url), deployed as never, openerCtx);
    expect((await opener.arrayBuffer()).byteLength).toBe(file.bytes);
    await new Promise((r) => setTimeout(r, 50)); // its log line (and count) is written a turn after the answer
    const N = 10;
    for (let i = 0; i < N; i++) {
      const warm = await measure(new Request(file.url), undefined, deployed);
      if (i === 0) report("download, warm, batch open", warm);
      expect(warm.status).toBe(200);
      // Nothing on the hot path, nothing in its waitUntil: its bytes ride in the open batch.
      expect(warm.hot.tally.objects).toEqual({});
      expect(warm.off.tally.objects).toEqual({});
      expectWithin(warm, { objects: {}, r2: { get: 1 }, upstream: NONE });
    }
    // Not sent yet: the batch is due FLUSH_MS after it opened.
    expect(FLUSH_MS).toBeGreaterThanOrEqual(10_000);
    expect((await tenantUsage(workersEnv, "default")).totals.bytes_served).toBe(before);
    // The flush (here asked for; otherwise the opener's timer): one meter call carries all N + 1.
    const flushed = await counted(() => flushUsage(workersEnv));
    expect(flushed.tally.methods["UsageMeter.apply"]).toBe(1);
    // The opener's waitUntil ends when its timer comes round and finds its batch sent.
    await waitOnExecutionContext(openerCtx);
    expect((await tenantUsage(workersEnv, "default")).totals.bytes_served - before).toBe((N + 1) * file.bytes);
  });
});
