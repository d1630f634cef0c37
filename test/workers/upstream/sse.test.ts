import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SseDecoder, SseParser, encodeSse, formatSse, type SseFrame } from "../../../src/upstream/sse";

async function decode(chunks: Uint8Array[]): Promise<SseFrame[]> {
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      const next = chunks.shift();
      if (next) c.enqueue(next);
      else c.close();
    },
  });
  const out: SseFrame[] = [];
  const reader = body.pipeThrough(new SseDecoder()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return out;
    out.push(value);
  }
}

function cutBytes(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((f) => Math.floor(f * bytes.length)))]
    .filter((p) => p > 0 && p < bytes.length)
    .sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.slice(at, p));
    at = p;
  }
  return out;
}

const enc = new TextEncoder();

describe("SSE", () => {
  it("parses CRLF, CR and LF endings, comments, multi-line data and a missing space", () => {
    const p = new SseParser();
    const text =
      ': comment\r\nevent: a\r\ndata: one\r\ndata:two\r\n\r\nevent: b\rdata: x\r\rdata: {"k":1}\n\nid: 7\nretry: 100\ndata\n\n';
    expect([...p.push(text), ...p.finish()]).toEqual([
      { event: "a", data: "one\ntwo" },
      { event: "b", data: "x" },
      { data: '{"k":1}' },
      { data: "", id: "7", retry: 100 },
    ]);
  });

  it("drops an event that never ended and events without data", () => {
    const p = new SseParser();
    expect([...p.push("event: ping\n\ndata: half"), ...p.finish()]).toEqual([]);
  });

  it("survives chunks cut anywhere, inside UTF-8 characters and data lines (property)", async () => {
    const frame = fc.record(
      {
        event: fc.string({ unit: "grapheme" }).map((s) => s.replace(/[\r\n]/g, "")),
        data: fc.string({ unit: "grapheme" }),
      },
      { requiredKeys: ["data"] },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(frame, { maxLength: 8 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 40 }),
        fc.boolean(),
        async (frames, cuts, crlf) => {
          let text = frames.map(formatSse).join("");
          if (crlf) text = text.replace(/\n/g, "\r\n");
          const parsed = await decode(cutBytes(enc.encode(text), cuts));
          // Data lines join with \n whatever the line ending was.
          expect(parsed).toEqual(frames.map((f) => ({ ...f, data: f.data.replace(/\r\n|\r/g, "\n") })));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("serializes to OpenAI's framing", () => {
    const bytes = encodeSse({ event: "response.created", data: '{"type":"response.created"}' });
    expect(new TextDecoder().decode(bytes)).toBe('event: response.created\ndata: {"type":"response.created"}\n\n');
  });

  it("splits a multi-byte character across chunks without damage", async () => {
    const bytes = enc.encode("data: \u{1F3B2}é\n\n");
    for (let cut = 1; cut < bytes.length; cut++) {
      expect(await decode([bytes.slice(0, cut), bytes.slice(cut)])).toEqual([{ data: "\u{1F3B2}é" }]);
    }
  });
});

describe("SSE parser work", () => {
  it("joins a long line delivered in many chunks and a CRLF split across pushes", () => {
    const p = new SseParser();
    const line = "data: " + "x".repeat(200_000);
    const out: SseFrame[] = [];
    for (let at = 0; at < line.length; at += 100) out.push(...p.push(line.slice(at, at + 100)));
    out.push(...p.push("\r"), ...p.push("\n\r\n"));
    expect(out).toEqual([{ data: "x".repeat(200_000) }]);
  });
});
