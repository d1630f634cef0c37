/**
 * @module harvest/decoded
 * Hands the ids an answer reveals to the request's `onDecoded` (app.ts; the guard's owner
 * recorder) as the pipeline decodes them, without making the answer wait for it: the hook's work
 * runs beside the relay and the harvest, and only the answer's end waits for it (the plain answer,
 * or a stream's terminal event). Why the end waits: a client learns that a response is complete
 * from that event and then names it (`previous_response_id`, the next turn's items); once the
 * terminal event is out, every id it revealed is recorded. Before it, a request naming an id the
 * stream revealed a moment ago may find no record yet; it then gets the 404 of an id nobody owns
 * (records fail closed: the owner waits a moment, nobody else ever gets the id), and a lookup in
 * the isolate that is writing the record waits for it (tenants/owner-records.ts).
 *
 * The response id and containers are handed over at once, each once per answer; output items only
 * matter to a later request, so a stream's are gathered and handed over together at its end (one
 * call per item-set shard, not one per item).
 */
import type { DecodedIds } from "../app";

export class DecodedReporter {
  readonly #seen = new Set<string>();
  #items: string[] = [];
  readonly #running: Promise<unknown>[] = [];

  constructor(readonly hook: ((ids: DecodedIds) => Promise<unknown>) | undefined) {}

  /**
   * Hands over the ids not handed over yet. Never waits. A stream's items wait for
   * {@link settled}; a whole answer (`whole`) hands its items over with the rest, in one call.
   */
  report(ids: { responseId?: unknown; containerIds: unknown[]; itemIds: unknown[] }, whole = false): void {
    if (!this.hook) return;
    const fresh = (id: unknown): id is string => {
      if (typeof id !== "string" || this.#seen.has(id)) return false;
      this.#seen.add(id);
      return true;
    };
    const responseId = fresh(ids.responseId) ? ids.responseId : null;
    const containerIds = ids.containerIds.filter(fresh);
    this.#items.push(...ids.itemIds.filter(fresh));
    const itemIds = whole ? this.#items.splice(0) : [];
    if (responseId || containerIds.length || itemIds.length) this.#start({ responseId, containerIds, itemIds });
  }

  /** Hands over the gathered items and waits for everything handed over so far. */
  async settled(): Promise<void> {
    if (this.#items.length) this.#start({ responseId: null, containerIds: [], itemIds: this.#items.splice(0) });
    await Promise.all(this.#running.splice(0));
  }

  #start(ids: DecodedIds): void {
    const run = this.hook!(ids);
    // Awaited by `settled`; until then a failure must not count as unhandled.
    run.catch(() => {});
    this.#running.push(run);
  }
}
