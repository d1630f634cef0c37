/**
 * @module routes/list-envelope
 * OpenAI's cursor-paginated list envelope (`data`, `first_id`, `last_id`, `has_more`) for lists
 * unsandbox serves itself. Pure.
 */
import { z } from "zod";

export const ListQuery = z.object({
  after: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  order: z.enum(["asc", "desc"]).default("desc"),
});
export type ListQuery = z.infer<typeof ListQuery>;

/** Orders by `created_at` (then id), starts after the `after` id, cuts to `limit`. */
export function paginate<T extends { id: string; created_at?: number }>(items: readonly T[], q: ListQuery) {
  const sorted = [...items].sort(
    (a, b) => (a.created_at ?? 0) - (b.created_at ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  if (q.order === "desc") sorted.reverse();
  const start = q.after ? sorted.findIndex((i) => i.id === q.after) + 1 : 0;
  const data = sorted.slice(start, start + q.limit);
  return {
    object: "list" as const,
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: start + q.limit < sorted.length,
  };
}
