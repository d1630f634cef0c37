/**
 * @module auth/record-stream
 * Records the ids a streamed `POST /v1/responses` answer reveals (the response id from
 * `response.created`, container ids from code interpreter items, the output item ids from the final
 * `response.completed`/`incomplete`/`failed` event), so a streamed response is owned
 * exactly like a plain one. The bytes pass through unchanged; an event that reveals an id is
 * held until the id is recorded, so the client can never name an id before it is its own.
 */
import type { OwnedKind } from "../tenants/ownership";
import { itemIdsIn } from "./answer-ids";

const FINAL_EVENTS = new Set(["response.completed", "response.incomplete", "response.failed"]);

/** Ids found in one SSE event's `data:` JSON. */
export function idsInStreamEvent(data: string): { kind: OwnedKind | "item"; id: string }[] {
  // Cheap filter first: most events are text deltas.
  if (!data.includes('"resp_') && !data.includes("container_id")) return [];
  let event: { type?: string; response?: { id?: unknown; output?: unknown }; item?: { container_id?: unknown } };
  try {
    event = JSON.parse(data) as typeof event;
  } catch {
    return [];
  }
  const out: { kind: OwnedKind | "item"; id: string }[] = [];
  if (typeof event.response?.id === "string" && (event.type === "response.created" || event.type === "response.in_progress" || event.type === "response.queued")) {
    out.push({ kind: "response", id: event.response.id });
  }
  if (typeof event.item?.container_id === "string") out.push({ kind: "container", id: event.item.container_id });
  if (FINAL_EVENTS.has(event.type ?? "")) for (const id of itemIdsIn(event.response)) out.push({ kind: "item", id });
  return out;
}

/**
 * Wraps an SSE body: every complete event is scanned, and `record` is awaited for the ids it
 * reveals before the chunk that completes it is passed on. Each id is recorded once per stream.
 */
export function recordingStream(body: ReadableStream<Uint8Array>, record: (kind: OwnedKind | "item", id: string) => Promise<unknown>): ReadableStream<Uint8Array> {
  const decoder = new TextDecoder();
  const seen = new Set<string>();
  let buffer = "";
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      async transform(chunk, controller) {
        buffer += decoder.decode(chunk, { stream: true });
        const events = buffer.split(/\r?\n\r?\n/);
        buffer = events.pop() ?? "";
        const pending: Promise<unknown>[] = [];
        for (const event of events) {
          const data = event
            .split(/\r?\n/)
            .filter((l) => l.startsWith("data:"))
            .map((l) => l.slice(5).trimStart())
            .join("\n");
          for (const { kind, id } of idsInStreamEvent(data)) {
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
