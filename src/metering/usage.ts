/**
 * @module metering/usage
 * The usage counters kept per tenant, and the pure helpers around them. Counters are kept per
 * UTC day so a report can cover any range of days and old days can be pruned.
 */
import { z } from "zod";

/** What is counted. */
export const METRICS = ["model_requests", "files_stored", "bytes_stored", "bytes_served", "container_reads"] as const;
export type Metric = (typeof METRICS)[number];

/** Increments to apply at once (absent or zero: unchanged). */
export type UsageDelta = Partial<Record<Metric, number>>;

/** A UTC day, `YYYY-MM-DD`. */
export const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "days are YYYY-MM-DD (UTC)");

/** One tenant's usage over a range of days; every metric is present. */
export const UsageReport = z.object({
  tenant: z.string().describe("The tenant id (`default` in single-tenant mode)."),
  from: Day.nullable().describe("First day counted (inclusive), or null for the beginning."),
  to: Day.nullable().describe("Last day counted (inclusive), or null for today."),
  totals: z.object({
    model_requests: z.int().describe("Successful `POST /v1/responses` calls (plain or streamed)."),
    files_stored: z.int().describe("File versions copied to R2 (copy jobs that ended `stored`)."),
    bytes_stored: z.int().describe("Bytes written to R2 by those copies."),
    bytes_served: z.int().describe("Bytes of download answers (`GET /files/…`, 200 and 206)."),
    container_reads: z.int().describe("Calls the tenant made to `/v1/containers/…` through unsandbox."),
  }),
  days: z
    .array(
      z.object({
        day: Day,
        model_requests: z.int(),
        files_stored: z.int(),
        bytes_stored: z.int(),
        bytes_served: z.int(),
        container_reads: z.int(),
      }),
    )
    .describe("Per UTC day, oldest first; days without usage are left out."),
});
export type UsageReport = z.infer<typeof UsageReport>;

const DAY_MS = 86_400_000;
/** The last day asked for (every request meters today: no date formatting per request). */
let lastDay = { from: 0, to: -1, day: "" };

/** The UTC day of a timestamp (ms). JavaScript time has no leap seconds: a UTC day is DAY_MS. */
export function dayOf(ms: number): string {
  if (ms >= lastDay.from && ms < lastDay.to) return lastDay.day;
  const from = Math.floor(ms / DAY_MS) * DAY_MS;
  const day = new Date(ms).toISOString().slice(0, 10);
  if (Number.isFinite(from)) lastDay = { from, to: from + DAY_MS, day };
  return day;
}

/** Pure: keeps only positive integer increments of known metrics. */
export function cleanDelta(delta: UsageDelta): [Metric, number][] {
  return METRICS.flatMap((m) => {
    const v = delta[m];
    return typeof v === "number" && Number.isFinite(v) && v > 0 ? [[m, Math.round(v)] as [Metric, number]] : [];
  });
}

/** Pure: the delta one finished request contributes. */
export function requestDelta(r: {
  method: string;
  route: string;
  path: string;
  status: number;
  bytesOut: number | null;
}): UsageDelta {
  const ok = r.status >= 200 && r.status < 300;
  if (r.method === "POST" && r.route === "/v1/responses") return ok ? { model_requests: 1 } : {};
  if ((r.method === "GET" || r.method === "HEAD") && r.route.startsWith("/files/")) {
    return (r.status === 200 || r.status === 206) && r.method === "GET" ? { bytes_served: r.bytesOut ?? 0 } : {};
  }
  if (r.path === "/v1/containers" || r.path.startsWith("/v1/containers/")) return { container_reads: 1 };
  return {};
}
