import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readSse, SseParser, type SseEvent } from "../../../widget/src/sse";

const parseAll = (chunks: string[]): SseEvent[] => {
  const p = new SseParser();
  return chunks.flatMap((c) => p.push(c));
};

describe("SseParser", () => {
  it("parses the Responses API's event framing", () => {
    const text =
      'event: response.created\ndata: {"type":"response.created"}\n\n' +
      'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"Hi"}\n\n';
    expect(parseAll([text])).toEqual([
      { event: "response.created", data: '{"type":"response.created"}', id: undefined },
      {
        event: "response.output_text.delta",
        data: '{"type":"response.output_text.delta","delta":"Hi"}',
        id: undefined,
      },
    ]);
  });

  it("joins data lines, drops one leading space, skips comments, keeps the last id", () => {
    expect(parseAll([": keep-alive\nid: 7\ndata:  two spaces\ndata:x\n\ndata\n\n"])).toEqual([
      { event: "message", data: " two spaces\nx", id: "7" },
      { event: "message", data: "", id: "7" },
    ]);
  });

  it("treats CRLF, CR and LF alike, even with CRLF split across chunks", () => {
    expect(parseAll(["data: a\r", "\n\r", "\ndata: b\r\rdata: c\n\n"])).toEqual([
      { event: "message", data: "a", id: undefined },
      { event: "message", data: "b", id: undefined },
      { event: "message", data: "c", id: undefined },
    ]);
  });

  it("drops an event that never got its blank line", () => {
    expect(parseAll(["data: complete\n\ndata: cut"])).toEqual([{ event: "message", data: "complete", id: undefined }]);
  });

  it("gives the same events however the stream is cut into chunks", () => {
    const events = fc.array(
      fc.record({
        event: fc.constantFrom("response.output_text.delta", "message", "error"),
        data: fc.string({ unit: "grapheme" }).map((s) => s.replace(/[\r\n]/g, " ")),
      }),
      { maxLength: 8 },
    );
    fc.assert(
      fc.property(
        events,
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.constantFrom("\n", "\r\n", "\r"),
        (evs, cuts, eol) => {
          const text = evs.map((e) => `event: ${e.event}${eol}data: ${e.data}${eol}${eol}`).join("");
          const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
          const chunks: string[] = [];
          let last = 0;
          for (const p of points) {
            chunks.push(text.slice(last, p));
            last = p;
          }
          chunks.push(text.slice(last));
          expect(parseAll(chunks)).toEqual(evs.map((e) => ({ event: e.event, data: e.data, id: undefined })));
        },
      ),
    );
  });
});

describe("readSse", () => {
  it("decodes UTF-8 split inside a character across network chunks", async () => {
    const bytes = new TextEncoder().encode("data: Bericht über Gebühren 📄\n\n");
    const split = bytes.indexOf(0xc3) + 1; // inside the two bytes of "ü"
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, split));
        controller.enqueue(bytes.slice(split, bytes.length - 3)); // inside the emoji
        controller.enqueue(bytes.slice(bytes.length - 3));
        controller.close();
      },
    });
    const out: SseEvent[] = [];
    for await (const ev of readSse(body)) out.push(ev);
    expect(out.map((e) => e.data)).toEqual(["Bericht über Gebühren 📄"]);
  });

  it("cancels the body when the reader stops early", async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new TextEncoder().encode("data: x\n\n"));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const _ of readSse(body)) break;
    expect(cancelled).toBe(true);
  });
});
