/**
 * The Containers API reads' pure helpers (upstream/containers.ts): Retry-After and the failure
 * classes of an upstream answer.
 */
import { describe, expect, it } from "vitest";
import { classifyFailure, retryAfterMs } from "../../../src/upstream/containers";

describe("container reads", () => {
  it("reads Retry-After in seconds, milliseconds or as a date", () => {
    expect(retryAfterMs(new Headers({ "retry-after": "3" }))).toBe(3000);
    expect(retryAfterMs(new Headers({ "retry-after-ms": "250", "retry-after": "3" }))).toBe(250);
    expect(retryAfterMs(new Headers({ "retry-after": new Date(10_000).toUTCString() }), 4_000)).toBe(6_000);
    expect(retryAfterMs(new Headers({}))).toBeUndefined();
  });

  it("classifies upstream failures by status and message", () => {
    expect(classifyFailure(404, "Container is expired.")).toBe("expired");
    expect(classifyFailure(400, "Container is expired.")).toBe("expired");
    expect(classifyFailure(404, "Container with id 'cntr_1' not found.")).toBe("expired");
    expect(classifyFailure(404, "File cfile_1 not found on container cntr_1.")).toBe("file_gone");
    expect(classifyFailure(404, "Resource not found")).toBe("no_api");
    expect(classifyFailure(404, null)).toBe("no_api");
    expect(classifyFailure(429, "Rate limit reached")).toBe("retry");
    expect(classifyFailure(503, null)).toBe("retry");
    expect(classifyFailure(401, "Incorrect API key")).toBe("refused");
  });
});
