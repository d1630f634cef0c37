/**
 * The one log-line writer (src/log.ts): event lines with one key set and a machine reason.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { UnsandboxError } from "../../src/errors";
import { errorFields, logEvent } from "../../src/log";

describe("event lines", () => {
  afterEach(() => vi.restoreAllMocks());

  it("give a machine reason for what was thrown and cap its text", () => {
    expect(errorFields(new UnsandboxError(404, "No such file", { code: "file_not_found" }))).toEqual({
      reason: "file_not_found",
      error: "UnsandboxError: No such file",
    });
    expect(errorFields(new UnsandboxError(502, "upstream failed")).reason).toBe("http_502");
    expect(errorFields(new TypeError("x is not a function")).reason).toBe("type_error");
    expect(errorFields(new DOMException("aborted", "AbortError")).reason).toBe("abort_error");
    expect(errorFields("a string")).toEqual({ reason: "string", error: "a string" });
    expect(errorFields(new Error("y".repeat(5000))).error.length).toBe(300);
  });

  it("write one JSON line, errors to stderr, without the fields that are not known", () => {
    const out = vi.spyOn(console, "log").mockImplementation(() => {});
    const err = vi.spyOn(console, "error").mockImplementation(() => {});
    logEvent("error", "harvest_failed", {
      requestId: undefined,
      tenant: "t",
      responseId: "resp_1",
      event: "not this",
      ...errorFields(new TypeError("boom")),
    });
    logEvent("info", "background_watch_ended", { responseId: "resp_2" });
    expect(err).toHaveBeenCalledTimes(1);
    expect(JSON.parse(String(err.mock.calls[0]?.[0]))).toEqual({
      event: "harvest_failed",
      level: "error",
      tenant: "t",
      responseId: "resp_1",
      reason: "type_error",
      error: "TypeError: boom",
    });
    expect(JSON.parse(String(out.mock.calls[0]?.[0]))).toEqual({
      event: "background_watch_ended",
      level: "info",
      responseId: "resp_2",
    });
  });
});
