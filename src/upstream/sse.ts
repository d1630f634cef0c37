/**
 * @module upstream/sse
 * Server-sent events in and out, per the WHATWG HTML "event stream" rules
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html#parsing-an-event-stream).
 *
 * Network chunks may end anywhere: inside a multi-byte UTF-8 character (the streaming
 * `TextDecoder` keeps the partial bytes), inside a line, or between the `\r` and `\n` of a CRLF
 * (a trailing `\r` is kept until the next chunk says whether a `\n` follows). Lines end with
 * CRLF, LF or CR; `:` lines are comments; several `data:` lines join with `\n`; one space after
 * the colon is dropped. OpenAI sends `event:` + one `data:` line per event and no `[DONE]`
 * (reference sheet §3.1), but nothing here depends on that.
 */

/** One dispatched event. `event` is absent when the stream named none (the SSE default "message"). */
export interface SseFrame {
  event?: string;
  data: string;
  id?: string;
  retry?: number;
}

/** Parses SSE text incrementally; `push` returns the events completed by that piece of text. */
export class SseParser {
  #buf = "";
  /** How much of `#buf` is known to hold no line break. */
  #scanned = 0;
  #data: string[] = [];
  #hasData = false;
  #event: string | undefined;
  #id: string | undefined;
  #retry: number | undefined;

  push(text: string): SseFrame[] {
    this.#buf += text;
    const out: SseFrame[] = [];
    let start = 0;
    const buf = this.#buf;
    // Resume where the last push stopped looking, so a long line arriving in many chunks (a
    // `response.completed` with inline images is hundreds of KB) is scanned once, not per chunk.
    for (let i = this.#scanned; i < buf.length; i++) {
      const c = buf.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      if (c === 13 && i + 1 === buf.length) {
        this.#buf = buf.slice(start);
        this.#scanned = i - start; // look at this CR again once more text arrives
        return out;
      }
      this.#line(buf.slice(start, i), out);
      if (c === 13 && buf.charCodeAt(i + 1) === 10) i++;
      start = i + 1;
    }
    this.#buf = buf.slice(start);
    this.#scanned = this.#buf.length;
    return out;
  }

  /** The stream ended: a lone trailing CR ends its line; an unterminated event is dropped (per spec). */
  finish(): SseFrame[] {
    const out: SseFrame[] = [];
    if (this.#buf.endsWith("\r")) this.#line(this.#buf.slice(0, -1), out);
    this.#buf = "";
    this.#scanned = 0;
    return out;
  }

  #line(line: string, out: SseFrame[]): void {
    if (line === "") {
      if (this.#hasData) {
        const frame: SseFrame = { data: this.#data.join("\n") };
        if (this.#event !== undefined) frame.event = this.#event;
        if (this.#id !== undefined) frame.id = this.#id;
        if (this.#retry !== undefined) frame.retry = this.#retry;
        out.push(frame);
      }
      this.#data = [];
      this.#hasData = false;
      this.#event = undefined;
      this.#retry = undefined;
      return;
    }
    if (line.charCodeAt(0) === 58 /* : */) return;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    switch (field) {
      case "data":
        this.#data.push(value);
        this.#hasData = true;
        break;
      case "event":
        this.#event = value;
        break;
      case "id":
        if (!value.includes("\0")) this.#id = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.#retry = Number(value);
        break;
    }
  }
}

/** Bytes → {@link SseFrame}s, for `body.pipeThrough(new SseDecoder())`. */
export class SseDecoder extends TransformStream<Uint8Array, SseFrame> {
  constructor() {
    const decoder = new TextDecoder("utf-8");
    const parser = new SseParser();
    super({
      transform(chunk, controller) {
        for (const f of parser.push(decoder.decode(chunk, { stream: true }))) controller.enqueue(f);
      },
      flush(controller) {
        for (const f of parser.push(decoder.decode())) controller.enqueue(f);
        for (const f of parser.finish()) controller.enqueue(f);
      },
    });
  }
}

const encoder = new TextEncoder();

/** Serializes one frame to SSE text: `event:`, one `data:` line per line of data, a blank line. */
export function formatSse(frame: SseFrame): string {
  let s = "";
  if (frame.event !== undefined) s += `event: ${stripBreaks(frame.event)}\n`;
  if (frame.id !== undefined) s += `id: ${stripBreaks(frame.id)}\n`;
  if (frame.retry !== undefined) s += `retry: ${Math.max(0, Math.floor(frame.retry))}\n`;
  for (const line of frame.data.split(/\r\n|\r|\n/)) s += `data: ${line}\n`;
  return s + "\n";
}

/** {@link formatSse} as UTF-8 bytes. */
export function encodeSse(frame: SseFrame): Uint8Array {
  return encoder.encode(formatSse(frame));
}

/** {@link SseFrame}s → bytes, for `readable.pipeThrough(new SseEncoder())`. */
export class SseEncoder extends TransformStream<SseFrame, Uint8Array> {
  constructor() {
    super({
      transform(frame, controller) {
        controller.enqueue(encodeSse(frame));
      },
    });
  }
}

function stripBreaks(s: string): string {
  return s.replace(/[\r\n]/g, "");
}
