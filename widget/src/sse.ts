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
import { SseParser as FrameParser } from "../../src/upstream/sse";

/** One dispatched event. `event` is `"message"` when the stream named none. */
export interface SseEvent {
  event: string;
  data: string;
  id: string | undefined;
}

/**
 * An incremental parser: `push()` text chunks in arrival order, get the events they complete.
 * Per the standard, an event without its blank line is dropped. The parsing itself is the
 * relay's (src/upstream/sse.ts), linear in the text however it is cut; this only gives its
 * frames the widget's shape.
 */
export class SseParser {
  #parser = new FrameParser();

  /** Characters the parser examined and copied so far (for the linear-work test). */
  get work(): number {
    return this.#parser.work;
  }

  /** Feeds one decoded chunk; returns the events it completed, in order. */
  push(chunk: string): SseEvent[] {
    // `retry` is ignored: the widget never reconnects a POST by itself.
    return this.#parser.push(chunk).map((f) => ({ event: f.event || "message", data: f.data, id: f.id }));
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
