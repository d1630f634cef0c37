/**
 * @module pagination
 * The list envelope of the real API: `{object:"list", data, first_id, last_id, has_more}`, with
 * `after` (an id), `limit` (1–100, default 20) and `order` (`asc`/`desc`, default `desc`).
 */
import { SimError } from "./errors";

export interface PageQuery {
  after?: string;
  limit: number;
  order: "asc" | "desc";
}

/** Reads and checks `after`, `limit`, `order` from a URL; other query keys are refused. */
export function pageQuery(url: URL, extraKeys: string[] = []): PageQuery {
  for (const key of url.searchParams.keys()) {
    if (!["after", "limit", "order", ...extraKeys].includes(key)) {
      throw new SimError(400, `Unknown parameter: '${key}'.`, { param: key, code: "unknown_parameter" });
    }
  }
  const rawLimit = url.searchParams.get("limit");
  let limit = 20;
  if (rawLimit !== null) {
    limit = Number(rawLimit);
    if (!Number.isInteger(limit)) {
      throw new SimError(400, `Invalid 'limit': expected an integer, but got '${rawLimit}' instead.`, {
        param: "limit",
        code: "invalid_type",
      });
    }
    if (limit < 1 || limit > 100) {
      throw new SimError(
        400,
        `Invalid 'limit': integer ${limit < 1 ? "below minimum" : "above maximum"} value. Expected a value ${limit < 1 ? ">= 1" : "<= 100"}, but got ${limit} instead.`,
        {
          param: "limit",
          code: limit < 1 ? "integer_below_min_value" : "integer_above_max_value",
        },
      );
    }
  }
  const order = url.searchParams.get("order") ?? "desc";
  if (order !== "asc" && order !== "desc") {
    throw new SimError(400, `Invalid value: '${order}'. Supported values are: 'asc' and 'desc'.`, {
      param: "order",
      code: "invalid_value",
    });
  }
  return { after: url.searchParams.get("after") ?? undefined, limit, order };
}

/** One page of already-ordered items. An unknown `after` gives an empty page, as cursors do. */
export function paginate<T extends { id: string }>(items: T[], q: PageQuery) {
  let start = 0;
  if (q.after !== undefined) {
    const i = items.findIndex((x) => x.id === q.after);
    start = i < 0 ? items.length : i + 1;
  }
  const data = items.slice(start, start + q.limit);
  return {
    object: "list" as const,
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: start + q.limit < items.length,
  };
}
