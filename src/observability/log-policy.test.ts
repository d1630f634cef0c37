/**
 * The request log policy (log-policy.ts): which lines `notable` keeps, each rule on its own, and
 * that `all` keeps every line.
 */
import { describe, expect, it } from "vitest";
import type { RequestLogLine } from "./log";
import { isNotable, shouldWrite } from "./log-policy";
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
