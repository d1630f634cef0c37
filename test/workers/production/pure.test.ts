/**
 * The pure parts of production readiness: gateway URL and auth helpers, metering deltas, the
 * counts of a request line and the copy_job line.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { UnsandboxError } from "../../../src/errors";
import { errorFields, logEvent } from "../../../src/log";
import { cleanDelta, dayOf, requestDelta } from "../../../src/metering/usage";
import { copyJobLine } from "../../../src/observability/log";
import { countFiles } from "../../../src/observability/request-context";
import { setUpstreamAuth, upstreamUrl } from "../../../src/upstream/fetch";

describe("gateway helpers", () => {
  const target = { baseUrl: "https://gw.example/openai/v1", apiKey: "k", authHeader: "api-key" as const, query: [["api-version", "2025-04-01-preview"]] as [string, string][] };

  it("adds the configured query to every path, keeping the caller's own parameters and value", () => {
    expect(upstreamUrl(target, "/responses")).toBe("https://gw.example/openai/v1/responses?api-version=2025-04-01-preview");
    expect(upstreamUrl(target, "/containers/c/files?limit=100&after=x")).toBe("https://gw.example/openai/v1/containers/c/files?limit=100&after=x&api-version=2025-04-01-preview");
    expect(upstreamUrl(target, "/models?api-version=2024-01-01")).toBe("https://gw.example/openai/v1/models?api-version=2024-01-01");
    expect(upstreamUrl({ baseUrl: "https://api.openai.com/v1", apiKey: "k" }, "/files/a%20b")).toBe("https://api.openai.com/v1/files/a%20b");
  });

  it("sends the key in exactly one header", () => {
    const azure = setUpstreamAuth(new Headers(), target);
    expect([...azure.keys()]).toEqual(["api-key"]);
    const openai = setUpstreamAuth(new Headers(), { baseUrl: "x", apiKey: "sk" });
    expect(openai.get("authorization")).toBe("Bearer sk");
    expect(openai.has("api-key")).toBe(false);
  });
});

describe("metering deltas", () => {
  it("counts successful model requests, served download bytes and container calls only", () => {
    expect(requestDelta({ method: "POST", route: "/v1/responses", path: "/v1/responses", status: 200, bytesOut: null })).toEqual({ model_requests: 1 });
    expect(requestDelta({ method: "POST", route: "/v1/responses", path: "/v1/responses", status: 400, bytesOut: null })).toEqual({});
    expect(requestDelta({ method: "GET", route: "/files/:token/:name", path: "/files/t/a.csv", status: 206, bytesOut: 10 })).toEqual({ bytes_served: 10 });
    expect(requestDelta({ method: "HEAD", route: "/files/:token/:name", path: "/files/t/a.csv", status: 200, bytesOut: 10 })).toEqual({});
    expect(requestDelta({ method: "GET", route: "/files/:token/:name", path: "/files/t/a.csv", status: 503, bytesOut: 100 })).toEqual({});
    expect(requestDelta({ method: "GET", route: "/v1/*", path: "/v1/containers/cntr_1/files", status: 200, bytesOut: null })).toEqual({ container_reads: 1 });
    expect(requestDelta({ method: "GET", route: "/v1/*", path: "/v1/containersx", status: 200, bytesOut: null })).toEqual({});
  });

  it("keeps positive finite increments of known metrics; days are UTC", () => {
    expect(cleanDelta({ files_stored: 1, bytes_stored: 0, bytes_served: -5, container_reads: Number.NaN, ...({ bogus: 3 } as object) })).toEqual([["files_stored", 1]]);
    expect(dayOf(Date.UTC(2026, 10, 25, 23, 59))).toBe("2026-11-25");
  });
});

describe("log line parts", () => {
  it("counts found, stored, failed and bytes; pending and copying are neither", () => {
    const files = [
      { state: "stored", bytes: 10 },
      { state: "stored", bytes: null },
      { state: "copying", bytes: null },
      { state: "pending", bytes: null },
      { state: "lost", bytes: null },
      { state: "unavailable", bytes: null },
    ];
    expect(countFiles(files)).toEqual({ filesFound: 6, filesStored: 2, filesFailed: 2, bytesCopied: 10 });
  });

  it("a last retry is `failed`; stored carries bytes and multipart", () => {
    const base = { tenant: "t", containerId: "c", fileId: "f", version: 2, attempts: 8 };
    expect(copyJobLine({ ...base, result: { kind: "retry", reason: "upstream answered 503" }, gaveUp: true })).toMatchObject({ outcome: "failed", level: "warn", reason: "upstream answered 503", bytes: null });
    expect(copyJobLine({ ...base, result: { kind: "retry", reason: "x" } }).outcome).toBe("retry");
    expect(copyJobLine({ ...base, result: { kind: "stored", bytes: 42, multipart: true } })).toMatchObject({ outcome: "stored", level: "info", bytes: 42, multipart: true, reason: null });
    expect(copyJobLine({ ...base, result: { kind: "partial", bytesStored: 8 } })).toMatchObject({ outcome: "partial", bytes: 8 });
  });
});

describe("event lines", () => {
  afterEach(() => vi.restoreAllMocks());

  it("give a machine reason for what was thrown and cap its text", () => {
    expect(errorFields(new UnsandboxError(404, "No such file", { code: "file_not_found" }))).toEqual({ reason: "file_not_found", error: "UnsandboxError: No such file" });
    expect(errorFields(new UnsandboxError(502, "upstream failed")).reason).toBe("http_502");
    expect(errorFields(new TypeError("x is not a function")).reason).toBe("type_error");
    expect(errorFields(new DOMException("aborted", "AbortError")).reason).toBe("abort_error");
    expect(errorFields("a string")).toEqual({ reason: "string", error: "a string" });
    expect(errorFields(new Error("y".repeat(5000))).error.length).toBe(300);
  });

  it("write one JSON line, errors to stderr, without the fields that are not known", () => {
    const out = vi.spyOn(console, "log").mockImplementation(() => {});
    const err = vi.spyOn(console, "error").mockImplementation(() => {});
    logEvent("error", "harvest_failed", { requestId: undefined, tenant: "t", responseId: "resp_1", event: "not this", ...errorFields(new TypeError("boom")) });
    logEvent("info", "background_watch_ended", { responseId: "resp_2" });
    expect(err).toHaveBeenCalledTimes(1);
    expect(JSON.parse(String(err.mock.calls[0]?.[0]))).toEqual({ event: "harvest_failed", level: "error", tenant: "t", responseId: "resp_1", reason: "type_error", error: "TypeError: boom" });
    expect(JSON.parse(String(out.mock.calls[0]?.[0]))).toEqual({ event: "background_watch_ended", level: "info", responseId: "resp_2" });
  });
});
