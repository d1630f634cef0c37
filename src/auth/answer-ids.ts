/**
 * @module auth/answer-ids
 * The output item ids an upstream answer reveals: a Response's `output` (plain, polled, or the
 * final `response.completed` event of a stream) and a list of conversation items (`data`). Pure.
 * These are what a later input may name (`item_reference`, or an item sent back with its `id`),
 * so the guard records them for the caller (tenants/ownership.ts `recordItems`).
 */
import { ID_PATTERN } from "./body-ids";

/** Item ids in `answer.output` and `answer.data` (objects with a string `type` and a valid `id`). */
export function itemIdsIn(answer: unknown): string[] {
  if (typeof answer !== "object" || answer === null) return [];
  const out: string[] = [];
  for (const list of [(answer as { output?: unknown }).output, (answer as { data?: unknown }).data]) {
    if (!Array.isArray(list)) continue;
    for (const item of list as { id?: unknown; type?: unknown }[]) {
      if (typeof item?.type === "string" && typeof item.id === "string" && ID_PATTERN.test(item.id)) out.push(item.id);
    }
  }
  return out;
}
