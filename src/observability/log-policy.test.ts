/**
 * The request log policy (log-policy.ts): which lines `notable` keeps, each rule on its own, and
 * that `all` keeps every line; the same for a tracker's `copy_job` lines.
 */
import { describe, expect, it } from "vitest";
import { copyJobLine, type CopyJobEvent, type RequestLogLine } from "./log";
import { isNotable, shouldWrite, shouldWriteCopyJob } from "./log-policy";
import { newMetrics } from "./request-context";

/** A plain model request: answered, nothing but the upstream call. */
const plain: RequestLogLine = {
  event: "request",
  level: "info",
  requestId: "r",
  tenant: "default",
  method: "POST",
  route: "/v1/responses",
  status: 200,
  durationMs: 12,
  bytesOut: null,
  degraded: null,
  ...newMetrics(),
  upstreamCalls: 1,
  upstreamMs: 9,
};

describe("request log policy", () => {
  it("notable leaves out a plain answered request; all keeps it", () => {
    expect(isNotable(plain)).toBe(false);
    expect(shouldWrite("notable", plain)).toBe(false);
    expect(shouldWrite("all", plain)).toBe(true);
    // A download or a read that went well is no more notable (its bytes are metered).
    expect(isNotable({ ...plain, method: "GET", route: "/files/:token/:name", bytesOut: 4096, upstreamCalls: 0 })).toBe(
      false,
    );
  });

  it.each([
    ["a refusal", { status: 403, level: "warn" as const }],
    ["a client error", { status: 404, level: "warn" as const }],
    ["a failure", { status: 502, level: "error" as const }],
    ["a degraded answer", { degraded: "owner_record" }],
    ["a container", { containers: 1 }],
    ["an issued link", { links: 1 }],
    ["a file", { filesFound: 1 }],
  ])("notable keeps %s", (_, change) => {
    const line = { ...plain, ...change };
    expect(isNotable(line)).toBe(true);
    expect(shouldWrite("notable", line)).toBe(true);
    expect(shouldWrite("all", line)).toBe(true);
  });
});

describe("copy_job lines under the same setting", () => {
  const step = { tenant: "t", containerId: "c", fileId: "f", version: 1, attempts: 1 };
  const results: [string, CopyJobEvent, boolean][] = [
    ["a routine step of a long copy (partial)", { ...step, result: { kind: "partial", bytesStored: 8 } }, false],
    ["the copy's end (stored)", { ...step, result: { kind: "stored", bytes: 42, multipart: true } }, true],
    ["a failed step (retry)", { ...step, result: { kind: "retry", reason: "upstream answered 503" } }, true],
    ["an interrupted step", { ...step, result: { kind: "retry", reason: "step interrupted" } }, true],
    ["the last retry (failed)", { ...step, result: { kind: "retry", reason: "x" }, gaveUp: true }, true],
    ["a file without content (gone)", { ...step, result: { kind: "gone", reason: "404" } }, true],
  ];
  it.each(results)("%s: notable writes it = %s; all always", (_, event, notable) => {
    const line = copyJobLine(event);
    expect(shouldWriteCopyJob("notable", line)).toBe(notable);
    expect(shouldWriteCopyJob("all", line)).toBe(true);
  });
});
