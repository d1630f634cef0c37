/**
 * @module responses/events
 * The SSE events of a response, in the real order (the event types:
 * https://platform.openai.com/docs/api-reference/responses-streaming; the order, as observed): created →
 * in_progress → per item (added, tool-call progress and code deltas, shell commands and their
 * output (responses/shell.ts), or content part, text
 * deltas, annotations, done events) → completed. Quirks shape it: tiny deltas cut anywhere,
 * `obfuscation` padding, `keepalive` events, annotations only after the last delta of their part,
 * the nested `error` payload. Pure: the same response gives the same events.
 */
import { hash32, Prng } from "../prng";
import type { Quirks } from "../quirks";
import { renderItem, responseObject, type ResponseStatus } from "./render";
import { SHELL_ITEM_TYPES, shellItemAdded, shellItemEvents } from "./shell";
import type { StoredResponse } from "./store";

export type StreamEvent = { type: string; sequence_number: number } & Record<string, unknown>;

export interface EventOptions {
  include: readonly string[];
  quirks: Quirks;
  /** `stream_options.include_obfuscation` (default true). */
  obfuscation: boolean;
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** Splits text into deltas: 1–4 code points cut anywhere (tiny), or one word each. */
export function splitDeltas(text: string, tiny: boolean, seed: number): string[] {
  if (!tiny) return text.match(/\s*\S+\s*/gu) ?? (text ? [text] : []);
  const cps = [...text];
  const r = new Prng(seed);
  const out: string[] = [];
  for (let i = 0; i < cps.length; ) {
    const n = r.int(1, 4);
    out.push(cps.slice(i, i + n).join(""));
    i += n;
  }
  return out;
}

/** The UTF-16 offset of an annotation index given in the quirk's unit. */
function toUtf16(text: string, index: number, codePoints: boolean): number {
  return codePoints ? [...text].slice(0, index).join("").length : index;
}

/** All events of a response, numbered from 0. */
export function buildEvents(r: StoredResponse, o: EventOptions): StreamEvent[] {
  const ev: Record<string, unknown>[] = [];
  const r2 = new Prng(hash32(r.id));
  const pad = (delta: string) => {
    let s = "";
    for (let n = Math.max(2, 16 - delta.length); n > 0; n--) s += ALNUM[r2.int(0, ALNUM.length - 1)];
    return s;
  };
  const withObf = (e: Record<string, unknown>, delta: string) =>
    o.obfuscation && o.quirks.obfuscation ? { ...e, obfuscation: pad(delta) } : e;
  const snapshot = (status: ResponseStatus, output: Record<string, unknown>[] = []) =>
    responseObject(r, status, output);

  if (r.background) {
    ev.push({ type: "response.created", response: snapshot("queued") });
    ev.push({ type: "response.queued", response: snapshot("queued") });
  } else {
    ev.push({ type: "response.created", response: snapshot("in_progress") });
  }
  ev.push({ type: "response.in_progress", response: snapshot("in_progress") });

  if (r.error) {
    const e = r.error;
    ev.push(
      o.quirks.nested_error_event
        ? { type: "error", error: { type: "server_error", code: e.code, message: e.message, param: null } }
        : { type: "error", code: e.code, message: e.message, param: null },
    );
    ev.push({ type: "response.failed", response: snapshot("failed") });
    return number(ev, o.quirks);
  }

  const done: Record<string, unknown>[] = [];
  r.output.forEach((item, output_index) => {
    const id = item.id as string;
    if (SHELL_ITEM_TYPES.has(item.type as string)) {
      ev.push({ type: "response.output_item.added", output_index, item: shellItemAdded(item) });
      const split = (text: string, seed: string) => splitDeltas(text, o.quirks.tiny_deltas, hash32(seed));
      for (const e of shellItemEvents(item, output_index, split))
        ev.push(e.type === "response.shell_call_command.delta" ? withObf(e, e.delta as string) : e);
      const final = structuredClone(item);
      ev.push({ type: "response.output_item.done", output_index, item: final });
      done.push(final);
      return;
    }
    if (item.type === "code_interpreter_call") {
      ev.push({
        type: "response.output_item.added",
        output_index,
        item: { ...item, status: "in_progress", code: "", outputs: [] },
      });
      ev.push({ type: "response.code_interpreter_call.in_progress", output_index, item_id: id });
      const code = (item.code as string) ?? "";
      for (const delta of splitDeltas(code, o.quirks.tiny_deltas, hash32(id))) {
        ev.push(
          withObf({ type: "response.code_interpreter_call_code.delta", output_index, item_id: id, delta }, delta),
        );
      }
      ev.push({ type: "response.code_interpreter_call_code.done", output_index, item_id: id, code });
      ev.push({ type: "response.code_interpreter_call.interpreting", output_index, item_id: id });
      if (o.quirks.keepalive) ev.push({ type: "keepalive" });
      ev.push({ type: "response.code_interpreter_call.completed", output_index, item_id: id });
      const final = renderItem(item, o.include);
      ev.push({ type: "response.output_item.done", output_index, item: final });
      done.push(final);
      return;
    }
    const part = (item.content as Record<string, unknown>[])[0]!;
    const text = part.text as string;
    const annotations = part.annotations as Record<string, unknown>[];
    ev.push({
      type: "response.output_item.added",
      output_index,
      item: { id, type: "message", status: "in_progress", content: [], phase: item.phase, role: "assistant" },
    });
    ev.push({
      type: "response.content_part.added",
      item_id: id,
      output_index,
      content_index: 0,
      part: { type: "output_text", annotations: [], logprobs: [], text: "" },
    });
    const annotationEvent = (a: Record<string, unknown>, annotation_index: number) => ({
      type: "response.output_text.annotation.added",
      item_id: id,
      output_index,
      content_index: 0,
      annotation_index,
      annotation: a,
    });
    // Polite mode: each annotation follows the delta that completes its span.
    const pending = annotations.map((a, i) => ({
      a,
      i,
      end: toUtf16(text, a.end_index as number, o.quirks.codepoint_indices),
    }));
    let sent = 0;
    for (const delta of splitDeltas(text, o.quirks.tiny_deltas, hash32(id))) {
      ev.push(
        withObf(
          { type: "response.output_text.delta", item_id: id, output_index, content_index: 0, delta, logprobs: [] },
          delta,
        ),
      );
      sent += delta.length;
      if (!o.quirks.annotations_after_text) {
        while (pending.length && pending[0]!.end <= sent) {
          const p = pending.shift()!;
          ev.push(annotationEvent(p.a, p.i));
        }
      }
    }
    for (const p of pending) ev.push(annotationEvent(p.a, p.i));
    ev.push({ type: "response.output_text.done", item_id: id, output_index, content_index: 0, text, logprobs: [] });
    ev.push({
      type: "response.content_part.done",
      item_id: id,
      output_index,
      content_index: 0,
      part: structuredClone(part),
    });
    const final = structuredClone(item);
    ev.push({ type: "response.output_item.done", output_index, item: final });
    done.push(final);
  });
  ev.push({ type: "response.completed", response: snapshot("completed", done) });
  return number(ev, o.quirks);
}

/** Adds a keepalive every 40 events (when on) and numbers everything from 0. */
function number(ev: Record<string, unknown>[], q: Quirks): StreamEvent[] {
  const out: StreamEvent[] = [];
  for (const e of ev) {
    if (q.keepalive && out.length > 0 && out.length % 40 === 0 && e.type !== "keepalive")
      out.push({ type: "keepalive", sequence_number: out.length });
    out.push({ ...e, type: e.type as string, sequence_number: out.length });
  }
  return out;
}

/** Text/event-stream framing: `event: <type>\ndata: <json>\n\n`, no `[DONE]`. */
export function sseFrame(e: StreamEvent): string {
  return `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}

/** A body that sends the events after `startingAfter`, `paceMs` apart. */
export function sseBody(events: StreamEvent[], paceMs: number, startingAfter = -1): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  let i = events.findIndex((e) => e.sequence_number > startingAfter);
  if (i < 0) i = events.length;
  return new ReadableStream<Uint8Array>(
    {
      async pull(ctl) {
        if (i >= events.length) {
          ctl.close();
          return;
        }
        if (paceMs > 0 && i > 0) await new Promise((res) => setTimeout(res, paceMs));
        ctl.enqueue(enc.encode(sseFrame(events[i++]!)));
      },
    },
    { highWaterMark: 0 },
  );
}
