/**
 * @module links/stream-rewriter
 * Rewrites a Responses event stream as it flows, with exactly upstream's events: same count,
 * order, types and `sequence_number`s: the Node SDK's `responses.stream()` throws on an event
 * type it does not know and checks output and content indices
 * (https://github.com/openai/openai-node/blob/master/src/lib/responses/ResponseStream.ts).
 *
 * Text deltas go through a {@link LinkScanner} per content part. A delta whose end could still be
 * part of a link (at most {@link MAX_LINK_CHARS} characters) is held until the next event:
 * - the next event is another delta of the same part: the held delta goes out with what was
 *   decided, and the undecided tail moves forward into the new delta;
 * - anything else: the part's text is decided as if it ended there and the held delta goes
 *   out with its whole tail, before that event.
 * `keepalive` events (undocumented, sent on long requests, and found between two deltas of one
 * part in real traffic) are not "the next event": they wait behind the held delta and go out
 * right after it, in their original order, so a keepalive never splits a link.
 * So the concatenated deltas equal the whole-text rewrite of the part. `*.done` events,
 * `annotation.added` and the `response.*` snapshots are rewritten with the same namer, whose
 * memory gives every destination the URL it got while streaming.
 *
 * One limitation by design: if another event (not a keepalive) arrives in the middle of a part
 * while a link prefix is held, the part is decided there; later deltas of that part pass unchanged.
 */
import { AnnotationRemapper, type TextAnnotation } from "./annotations";
import { LinkScanner, MAX_LINK_CHARS, type SandboxRef } from "./find";
import type { LinkNamer } from "./naming";
import { applyEdits, type LinkEdit } from "./rewrite";
import { nameCitations, rewriteOutputItem, rewritePart, rewriteResponse, type OutputTextPart } from "./response";
import { rewriteText } from "./rewrite";

/** A parsed Responses stream event; only the fields read here are typed. */
export interface StreamEvent {
  type?: string;
  sequence_number?: number;
  [field: string]: unknown;
}

/** What {@link StreamRewriter.push} accepts: any parsed event object (unknown types pass through). */
export type StreamEventLike = { type?: string; sequence_number?: number };

interface PartState {
  scanner: LinkScanner;
  /** Upstream's text of the part so far. */
  text: string;
  /** Offset in `text` up to which rewritten output has been sent. */
  sent: number;
  edits: LinkEdit[];
  /** Decided as if ended (see the module note); later deltas pass unchanged. */
  closed: boolean;
  remapper?: AnnotationRemapper;
}

const DELTA = "response.output_text.delta";
const KEEPALIVE = "keepalive";
const RESPONSE_EVENTS = new Set([
  "response.created",
  "response.in_progress",
  "response.queued",
  "response.completed",
  "response.incomplete",
  "response.failed",
]);

/**
 * The event-level state machine. Feed events in order with {@link push}; call {@link end} when
 * the upstream body ends. Events are never mutated; rewritten ones are copies.
 */
export class StreamRewriter {
  readonly #name: LinkNamer;
  readonly #parts = new Map<string, PartState>();
  #pending: { event: StreamEvent; part: PartState; text: string; behind: StreamEvent[] } | undefined;

  constructor(name: LinkNamer) {
    this.#name = name;
  }

  /** Characters of text currently held back (at most {@link MAX_LINK_CHARS}). */
  get held(): number {
    return this.#pending ? this.#pending.part.scanner.held : 0;
  }

  /** The held text itself: always a possible prefix of a link destination. */
  get heldText(): string {
    return this.#pending ? this.#pending.part.scanner.heldText : "";
  }

  /** Takes the next upstream event; returns the events to send now (in order). */
  async push(input: StreamEventLike | StreamEvent): Promise<StreamEvent[]> {
    const event = input as StreamEvent;
    const out: StreamEvent[] = [];
    const key = partKey(event);
    if (this.#pending) {
      const p = this.#pending;
      if (event.type === KEEPALIVE) {
        p.behind.push(event);
        return out;
      }
      if (event.type === DELTA && this.#parts.get(key) === p.part && !p.part.closed) {
        out.push(withDelta(p.event, p.text));
      } else {
        p.part.closed = true;
        const tail = await this.#advance(p.part, p.part.scanner.finish());
        out.push(withDelta(p.event, p.text + tail));
      }
      out.push(...p.behind);
      this.#pending = undefined;
    }
    out.push(...(await this.#handle(event, key)));
    return out;
  }

  /** The upstream ended: sends a held delta with its whole tail. */
  async end(): Promise<StreamEvent[]> {
    const p = this.#pending;
    if (!p) return [];
    this.#pending = undefined;
    p.part.closed = true;
    const tail = await this.#advance(p.part, p.part.scanner.finish());
    return [withDelta(p.event, p.text + tail), ...p.behind];
  }

  async #handle(event: StreamEvent, key: string): Promise<StreamEvent[]> {
    switch (event.type) {
      case DELTA: {
        if (typeof event.delta !== "string") return [event];
        let part = this.#parts.get(key);
        if (!part) {
          part = { scanner: new LinkScanner(), text: "", sent: 0, edits: [], closed: false };
          this.#parts.set(key, part);
        }
        if (part.closed) return [event];
        part.text += event.delta;
        part.remapper = undefined;
        const text = await this.#advance(part, part.scanner.push(event.delta));
        if (part.scanner.held > 0) {
          this.#pending = { event, part, text, behind: [] };
          return [];
        }
        return [withDelta(event, text)];
      }
      case "response.output_text.annotation.added": {
        const part = this.#parts.get(key);
        const ann = event.annotation as TextAnnotation | null | undefined;
        if (!ann || typeof ann !== "object") return [event];
        // A citation in a part with no text yet (or none at all) covers no link: it is only named.
        if (!part) return [{ ...event, annotation: (await nameCitations([ann], this.#name))[0] }];
        part.remapper ??= new AnnotationRemapper(part.text, applyEdits(part.text, part.edits), part.edits, {
          addUrl: true,
        });
        const [annotation] = await nameCitations(part.remapper.remap([ann]), this.#name);
        return [{ ...event, annotation }];
      }
      case "response.output_text.done": {
        if (typeof event.text !== "string") return [event];
        const r = await rewriteText(event.text, this.#name);
        return [{ ...event, text: r.text }];
      }
      case "response.content_part.done":
        return [{ ...event, part: (await rewritePart(event.part as OutputTextPart, this.#name)).value }];
      case "response.output_item.done":
        return [{ ...event, item: (await rewriteOutputItem(event.item as { type?: unknown }, this.#name)).value }];
      default:
        if (RESPONSE_EVENTS.has(event.type ?? "") && event.response && typeof event.response === "object") {
          return [
            { ...event, response: (await rewriteResponse(event.response as { output?: unknown }, this.#name)).value },
          ];
        }
        return [event];
    }
  }

  /** Names newly decided references and returns the rewritten text newly decided. */
  async #advance(part: PartState, refs: SandboxRef[]): Promise<string> {
    const urls = refs.length ? await this.#name(refs) : [];
    const upTo = part.scanner.committed;
    let out = "";
    let at = part.sent;
    refs.forEach((ref, k) => {
      const edit: LinkEdit = { start: ref.start, end: ref.end, replacement: urls[k]!, ref };
      part.edits.push(edit);
      out += part.text.slice(at, ref.start) + edit.replacement;
      at = ref.end;
    });
    out += part.text.slice(at, upTo);
    part.sent = upTo;
    if (part.scanner.held > MAX_LINK_CHARS) throw new Error("LinkScanner held more than the cap");
    return out;
  }
}

function partKey(event: StreamEvent): string {
  return `${String(event.item_id ?? "")}#${String(event.output_index ?? "")}#${String(event.content_index ?? "")}`;
}

function withDelta(event: StreamEvent, delta: string): StreamEvent {
  return delta === event.delta ? event : { ...event, delta };
}
