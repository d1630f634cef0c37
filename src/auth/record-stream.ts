/**
 * @module auth/record-stream
 * Records the ids a streamed `POST /v1/responses` answer reveals (the response id from
 * `response.created`, container ids from code interpreter and shell items, the output item ids from the final
 * `response.completed`/`incomplete`/`failed` event), so a streamed response is owned
 * exactly like a plain one. The bytes pass through unchanged; an event that reveals an id is
 * held until the id is recorded, so the client can never name an id before it is its own.
 * Events are read with the relay's own SSE parser (src/upstream/sse.ts), so the recorder sees
 * exactly the events a client sees, in work linear in the stream's length.
 */
import type { OwnedKind } from "../tenants/ownership";
import { containerOfItem } from "../schemas/output-item";
import { SseParser } from "../upstream/sse";
import { itemIdsIn } from "./answer-ids";

const FINAL_EVENTS = new Set(["response.completed", "response.incomplete", "response.failed"]);

/** Ids found in one SSE event's `data:` JSON. */
export function idsInStreamEvent(data: string): { kind: OwnedKind | "item"; id: string }[] {
  // Cheap filter first: most events are text deltas.
  if (!data.includes('"resp_') && !data.includes("container_id")) return [];
  let event: { type?: string; response?: { id?: unknown; output?: unknown }; item?: unknown };
  try {
    event = JSON.parse(data) as typeof event;
  } catch {
    return [];
  }
  const out: { kind: OwnedKind | "item"; id: string }[] = [];
  if (
    typeof event.response?.id === "string" &&
    (event.type === "response.created" || event.type === "response.in_progress" || event.type === "response.queued")
  ) {
    out.push({ kind: "response", id: event.response.id });
  }
  const container = containerOfItem(event.item);
  if (container) out.push({ kind: "container", id: container });
  if (FINAL_EVENTS.has(event.type ?? "")) for (const id of itemIdsIn(event.response)) out.push({ kind: "item", id });
  return out;
}

/**
 * Wraps an SSE body: every complete event is scanned, and `record` is awaited for the ids it
 * reveals before the chunk that completes it is passed on. Each id is recorded once per stream.
 * `parser` is the stream's parser; passing one lets a caller read its work counter.
 */
export function recordingStream(
  body: ReadableStream<Uint8Array>,
  record: (kind: OwnedKind | "item", id: string) => Promise<unknown>,
  parser = new SseParser(),
): ReadableStream<Uint8Array> {
  const decoder = new TextDecoder();
  const seen = new Set<string>();
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      async transform(chunk, controller) {
        const pending: Promise<unknown>[] = [];
        for (const frame of parser.push(decoder.decode(chunk, { stream: true }))) {
          for (const { kind, id } of idsInStreamEvent(frame.data)) {
            if (seen.has(id)) continue;
            seen.add(id);
            pending.push(record(kind, id));
          }
        }
        await Promise.all(pending);
        controller.enqueue(chunk);
      },
    }),
  );
}
