import { describe, expect, it } from "vitest";
import { SseParser, type SseFrame } from "../../../src/upstream/sse";

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
