/**
 * @module widget/sse
 * A Server-Sent Events parser for `fetch` bodies. The widget cannot use `EventSource`: it only
 * does GET and cannot send the `Authorization` and session headers, while `POST /v1/responses`
 * with `stream: true` answers with `text/event-stream`. Parsing follows the HTML standard's
 * event-stream interpretation (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
 * lines end in CRLF, LF or CR (a CR at the end of one chunk and an LF at the start of the next are
 * one line end), `data` lines join with "\n", one space after the colon is dropped, `:` starts a
 * comment, and a blank line dispatches. Pure: no DOM, so it is unit-tested in Node.
 */

/** One dispatched event. `event` is `"message"` when the stream named none. */
export interface SseEvent {
  event: string;
  data: string;
  id: string | undefined;
}

/**
 * An incremental parser: `push()` text chunks in arrival order, get the events they complete.
 * `end()` flushes nothing: per the standard, an event without its blank line is dropped.
 */
export class SseParser {
  #buffer = "";
  #skipLf = false;
  #data: string[] = [];
  #event = "";
  #lastId: string | undefined;

  /** Feeds one decoded chunk; returns the events it completed, in order. */
  push(chunk: string): SseEvent[] {
    const out: SseEvent[] = [];
    let text = chunk;
    if (this.#skipLf && text.startsWith("\n")) text = text.slice(1);
    this.#skipLf = false;
    this.#buffer += text;
    let start = 0;
    for (let i = 0; i < this.#buffer.length; i++) {
      const ch = this.#buffer.charCodeAt(i);
      if (ch !== 10 && ch !== 13) continue;
      this.#line(this.#buffer.slice(start, i), out);
      if (ch === 13) {
        if (i + 1 < this.#buffer.length) {
          if (this.#buffer.charCodeAt(i + 1) === 10) i++;
        } else {
          // The LF of this CRLF may be the first character of the next chunk.
          this.#skipLf = true;
        }
      }
      start = i + 1;
    }
    this.#buffer = this.#buffer.slice(start);
    return out;
  }

  #line(line: string, out: SseEvent[]) {
    if (line === "") {
      if (this.#data.length > 0) out.push({ event: this.#event || "message", data: this.#data.join("\n"), id: this.#lastId });
      this.#data = [];
      this.#event = "";
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.#data.push(value);
    else if (field === "event") this.#event = value;
    else if (field === "id" && !value.includes("\0")) this.#lastId = value;
    // `retry` and unknown fields are ignored: the widget never reconnects a POST by itself.
  }
}

/**
 * Reads a `fetch` body as events. Decodes UTF-8 with a streaming decoder, so a multi-byte
 * character split across network chunks survives.
 */
export async function* readSse(body: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  try {
    while (true) {
      if (signal?.aborted) return;
      const { value, done } = await reader.read();
      if (done) break;
      yield* parser.push(decoder.decode(value, { stream: true }));
    }
    yield* parser.push(decoder.decode());
  } finally {
    // Ends the request too when the caller stops early (a new prompt, the element removed).
    reader.cancel().catch(() => {});
  }
}
