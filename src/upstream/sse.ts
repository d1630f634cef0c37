/**
 * @module upstream/sse
 * Server-sent events in and out, per the WHATWG HTML "event stream" rules
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html#parsing-an-event-stream).
 *
 * Network chunks may end anywhere: inside a multi-byte UTF-8 character (the streaming
 * `TextDecoder` keeps the partial bytes), inside a line, or between the `\r` and `\n` of a CRLF
 * (a trailing `\r` ends its line at once; an `\n` opening the next chunk is then skipped). Lines end with
 * CRLF, LF or CR; `:` lines are comments; several `data:` lines join with `\n`; one space after
 * the colon is dropped. OpenAI sends `event:` + one `data:` line per event and no `[DONE]`
 * (https://platform.openai.com/docs/api-reference/responses-streaming), but nothing here depends
 * on that. This is the one SSE parser: the relay, the response pipeline's stream session
 * and the widget (widget/src/sse.ts) all read streams with it.
 */

/** One dispatched event. `event` is absent when the stream named none (the SSE default "message"). */
export interface SseFrame {
  event?: string;
  data: string;
  id?: string;
  retry?: number;
}

/**
 * Parses SSE text incrementally; `push` returns the events completed by that piece of text.
 *
 * Linear in the text pushed, however it is cut: each character is examined once when it
 * arrives, and a line's pieces are joined once, when the line ends. Keeping the unfinished
 * line as a growing string instead (`buf += text`, then indexing into it) copies the whole
 * line on every push, because the engine flattens the concatenation before reading it: an
 * 8 MiB event in 16 KiB pieces cost about 4 GiB of copying. {@link SseParser.work} counts
 * the characters examined and copied, for the linear-work test.
 */
export class SseParser {
  /** The pieces of the line still waiting for its end. */
  #pending: string[] = [];
  /** The last piece ended with CR: an LF starting the next piece belongs to that line end. */
  #skipLf = false;
  #data: string[] = [];
  #hasData = false;
  #event: string | undefined;
  #id: string | undefined;
  #retry: number | undefined;
  /** Characters examined and copied so far (for the linear-work test). */
  work = 0;

  push(text: string): SseFrame[] {
    const out: SseFrame[] = [];
    if (text === "") return out;
    let start = this.#skipLf && text.charCodeAt(0) === 10 ? 1 : 0;
    this.#skipLf = false;
    for (let i = start; i < text.length; i++) {
      this.work++;
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.#endLine(text.slice(start, i), out);
      if (c === 13) {
        // A CR ends its line at once; whether an LF follows is known only with the next piece.
        if (i + 1 === text.length) this.#skipLf = true;
        else if (text.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    if (start < text.length) this.#pending.push(text.slice(start));
    return out;
  }

  /** The stream ended: an unterminated line and event are dropped (per spec). */
  finish(): SseFrame[] {
    this.#pending = [];
    this.#skipLf = false;
    return [];
  }

  #endLine(tail: string, out: SseFrame[]): void {
    let line = tail;
    if (this.#pending.length > 0) {
      this.#pending.push(tail);
      line = this.#pending.join("");
      this.#pending = [];
    }
    this.work += line.length;
    this.#line(line, out);
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

function stripBreaks(s: string): string {
  return s.replace(/[\r\n]/g, "");
}
