import { describe, expect, it } from "vitest";
import { recordingStream } from "../../../src/auth/record-stream";
import { SseParser, type SseFrame } from "../../../src/upstream/sse";
import type { OwnedKind } from "../../../src/tenants/ownership";

/**
 * Work is counted (characters the parser examines or copies), never timed. A parser that keeps
 * the unfinished line as one growing string re-reads (the engine re-flattens) it on every piece,
 * which is quadratic in the event's size: these bounds fail on such a parser.
 */
const BOUND = 3;
const KiB = 1 << 10;
const MiB = 1 << 20;

/** One `response.output_text.delta` event whose data line is about `size` characters long. */
function deltaEvent(size: number): string {
  return `event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"${"x".repeat(size)}"}\n\n`;
}

function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  for (let at = 0; at < text.length; at += size) out.push(text.slice(at, at + size));
  return out;
}

function parse(chunks: string[]): { frames: SseFrame[]; work: number } {
  const p = new SseParser();
  const frames: SseFrame[] = [];
  for (const c of chunks) frames.push(...p.push(c));
  frames.push(...p.finish());
  return { frames, work: p.work };
}

describe("the SSE parser does linear work", () => {
  it.each([1, 2, 4, 8])("one %i MiB event in 16 KiB pieces", (mib) => {
    const text = deltaEvent(mib * MiB);
    const { frames, work } = parse(pieces(text, 16 * KiB));
    expect(frames).toHaveLength(1);
    expect(frames[0]!.data.length).toBe(mib * MiB + 48);
    expect(work).toBeGreaterThanOrEqual(text.length);
    expect(work).toBeLessThanOrEqual(BOUND * text.length);
  });

  it.each([
    [1, 1],
    [2, 7],
    [8, 61],
  ])("one %i MiB event in %i-character pieces", (mib, size) => {
    const text = deltaEvent(mib * MiB);
    const { frames, work } = parse(pieces(text, size));
    expect(frames).toHaveLength(1);
    expect(work).toBeLessThanOrEqual(BOUND * text.length);
  });

  it("many small events, CRLF-ended, cut between CR and LF", () => {
    const text = Array.from({ length: 20_000 }, (_, k) => `data: ${k}\r\n\r\n`).join("");
    const chunks = text.split("\n").map((s, k, all) => (k < all.length - 1 ? s + "\n" : s));
    const cutAtCr = chunks.flatMap((c) => (c.endsWith("\r\n") ? [c.slice(0, -1), "\n"] : [c]));
    const { frames, work } = parse(cutAtCr);
    expect(frames).toHaveLength(20_000);
    expect(frames[19_999]).toEqual({ data: "19999" });
    expect(work).toBeLessThanOrEqual(BOUND * text.length);
  });
});

describe("the streamed-answer recorder reads events with the same parser", () => {
  const enc = new TextEncoder();

  async function run(text: string, chunkBytes: number, parser = new SseParser()) {
    const bytes = enc.encode(text);
    let at = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (at >= bytes.length) return c.close();
        c.enqueue(bytes.slice(at, at + chunkBytes));
        at += chunkBytes;
      },
    });
    const recorded: [OwnedKind | "item", string][] = [];
    const reader = recordingStream(body, async (kind, id) => void recorded.push([kind, id]), parser).getReader();
    let passed = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      passed += value.byteLength;
    }
    return { recorded, passed, bytes: bytes.length, work: parser.work };
  }

  it.each([1, 2, 4, 8])("records the ids around a %i MiB event in 16 KiB chunks, in linear work", async (mib) => {
    const created = 'event: response.created\ndata: {"type":"response.created","response":{"id":"resp_big"}}\n\n';
    const item =
      'event: response.output_item.added\ndata: {"type":"response.output_item.added","item":{"type":"code_interpreter_call","container_id":"cntr_big"}}\n\n';
    const text = created + deltaEvent(mib * MiB) + item;
    const { recorded, passed, bytes, work } = await run(text, 16 * KiB);
    expect(passed).toBe(bytes);
    expect(recorded).toEqual([
      ["response", "resp_big"],
      ["container", "cntr_big"],
    ]);
    expect(work).toBeLessThanOrEqual(BOUND * text.length);
  });

  it("records an event that ends with CR line ends, as a client's parser reads it", async () => {
    const { recorded } = await run('data: {"type":"response.created","response":{"id":"resp_cr"}}\r\r', 5);
    expect(recorded).toEqual([["response", "resp_cr"]]);
  });
});
