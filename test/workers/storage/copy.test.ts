/**
 * The copy engine's pure helpers (storage/copy.ts: trusted lengths, Content-Range, exact slices)
 * and the R2 key layout (storage/keys.ts).
 */
import { describe, expect, it } from "vitest";
import { parseContentRange, SliceReader, trustedLength } from "../../../src/storage/copy";
import { fileObjectKey, inlineObjectKey } from "../../../src/storage/keys";

function streamOf(chunks: number[][]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      for (const ch of chunks) c.enqueue(new Uint8Array(ch));
      c.close();
    },
  });
}

describe("copy engine helpers", () => {
  it("trusts Content-Length only without a content encoding", () => {
    expect(trustedLength(new Headers({ "content-length": "42" }))).toBe(42);
    expect(trustedLength(new Headers({ "content-length": "42", "content-encoding": "identity" }))).toBe(42);
    expect(trustedLength(new Headers({ "content-length": "42", "content-encoding": "gzip" }))).toBeNull();
    expect(trustedLength(new Headers({}))).toBeNull();
    expect(trustedLength(new Headers({ "content-length": "4x" }))).toBeNull();
  });

  it("parses Content-Range", () => {
    expect(parseContentRange("bytes 8-15/100")).toEqual({ start: 8, end: 15, total: 100 });
    expect(parseContentRange("bytes 8-15/*")).toEqual({ start: 8, end: 15, total: null });
    expect(parseContentRange("bytes */100")).toBeNull();
    expect(parseContentRange(null)).toBeNull();
  });

  it("slices a stream into exact parts across chunk boundaries, and skips", async () => {
    const r = new SliceReader(streamOf([[1, 2, 3], [4, 5], [6, 7, 8, 9], [10]]));
    expect([...(await r.read(4))]).toEqual([1, 2, 3, 4]);
    expect(await r.skip(3)).toBe(3);
    expect([...(await r.read(4))]).toEqual([8, 9, 10]);
    expect([...(await r.read(4))]).toEqual([]);
    expect(r.consumed).toBe(10);
  });

  it("slices a byte stream (a fetch body's kind, read with BYOB) exactly, across many small chunks, and skips", async () => {
    const total = 70_000;
    const byteAt = (i: number) => (i * 7 + 3) % 251;
    let sent = 0;
    // A byte stream that hands out 7 bytes per pull, like a body arriving in small pieces.
    const stream = new ReadableStream({
      type: "bytes",
      pull(c) {
        if (sent >= total) return c.close();
        const n = Math.min(7, total - sent);
        c.enqueue(Uint8Array.from({ length: n }, (_, k) => byteAt(sent + k)));
        sent += n;
      },
    });
    const r = new SliceReader(stream);
    const expectRun = (got: Uint8Array, from: number, length: number) => {
      expect(got.byteLength).toBe(length);
      expect(got.every((b, k) => b === byteAt(from + k))).toBe(true);
    };
    expectRun(await r.read(4096), 0, 4096);
    expect(await r.skip(30_001)).toBe(30_001);
    expectRun(await r.read(4096), 34_097, 4096);
    // The last slice is short; after it, reads and skips give nothing.
    expectRun(await r.read(40_000), 38_193, total - 38_193);
    expect((await r.read(10)).byteLength).toBe(0);
    expect(await r.skip(10)).toBe(0);
    expect(r.consumed).toBe(total);
  });
});

describe("keys", () => {
  it("lays keys out tenant first and keeps separators out of segments", () => {
    expect(fileObjectKey({ tenant: "acme", containerId: "cntr_1", fileId: "cfile_2", version: 3 })).toBe(
      "t/acme/c/cntr_1/f/cfile_2/v3",
    );
    expect(fileObjectKey({ tenant: "a/b", containerId: "c", fileId: "f", version: 1 })).toBe("t/a%2Fb/c/c/f/f/v1");
    expect(inlineObjectKey({ tenant: "acme", responseId: "resp_1", sha256: "ab" })).toBe("t/acme/r/resp_1/i/ab");
  });
});
