/**
 * @module harvest/empty-chains
 * Which finished responses this isolate knows to have an empty chain: neither they nor any
 * response before them (`previous_response_id`) used a container or issued a link. A turn with
 * nothing of its own whose previous response is one of them is one too, and needs no chain record.
 *
 * Why: a turn with neither a link nor a container but a previous response gets its chain written
 * to R2 (`writeResponseRecord` in ./harvest.ts: a `head` and a `put`), only so that a later turn's
 * links resolve through it to the turns before it. When every turn before it is empty too, there
 * is nothing behind it to reach: a walk up the chain (`ResponseIndex.resolve`) that reaches a
 * response with neither an index nor a record answers `pending`, and with the record it walks on
 * only to the first turn, which has neither and answers the same. In a 50-conversation bench round
 * with no file (issue #20), these writes were the largest share of the isolate's JavaScript after
 * the relay itself (13%).
 *
 * Kept in this isolate only, as ./pin-hint.ts: a turn whose previous response this isolate did not
 * see writes its record as before. Only finished responses are noted, since a background response
 * still running may yet use a container.
 */

/** `tenant\0responseId` of finished responses whose chain is empty. */
const empty = new Set<string>();
const MAX_HELD = 10_000;

const keyOf = (tenant: string, responseId: string) => `${tenant}\u0000${responseId}`;

/** Statuses after which a response's output no longer changes. */
const FINISHED = new Set(["completed", "incomplete", "failed", "cancelled"]);

/**
 * Whether the response (`status`, nothing of its own) has an empty chain: none before it
 * (`previousResponseId` null) or one known here to be empty. If so it is noted, for the turn after it.
 */
export function chainIsEmpty(
  tenant: string,
  responseId: string,
  previousResponseId: string | null,
  status: unknown,
): boolean {
  if (typeof status !== "string" || !FINISHED.has(status)) return false;
  if (previousResponseId !== null && !empty.has(keyOf(tenant, previousResponseId))) return false;
  if (empty.size >= MAX_HELD) empty.clear();
  empty.add(keyOf(tenant, responseId));
  return true;
}
