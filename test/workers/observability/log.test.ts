/**
 * The pure parts of the log lines (observability/log.ts, observability/request-context.ts): the
 * counts of a request line and the copy_job line.
 */
import { describe, expect, it } from "vitest";
import { copyJobLine } from "../../../src/observability/log";
import { countFiles } from "../../../src/observability/request-context";

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
    expect(
      copyJobLine({ ...base, result: { kind: "retry", reason: "upstream answered 503" }, gaveUp: true }),
    ).toMatchObject({ outcome: "failed", level: "warn", reason: "upstream answered 503", bytes: null });
    expect(copyJobLine({ ...base, result: { kind: "retry", reason: "x" } }).outcome).toBe("retry");
    expect(copyJobLine({ ...base, result: { kind: "stored", bytes: 42, multipart: true } })).toMatchObject({
      outcome: "stored",
      level: "info",
      bytes: 42,
      multipart: true,
      reason: null,
    });
    expect(copyJobLine({ ...base, result: { kind: "partial", bytesStored: 8 } })).toMatchObject({
      outcome: "partial",
      bytes: 8,
    });
  });
});
