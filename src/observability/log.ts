/**
 * @module observability/log
 * The shapes of the two lines written most: one `request` line per HTTP request (every request, or
 * only the notable ones: log-policy.ts) and one
 * `copy_job` line per copy step a tracker settles (`[observability] enabled = true` in
 * wrangler.toml; https://developers.cloudflare.com/workers/observability/logs/workers-logs/).
 * The writer and the event lines for everything else are `src/log.ts` (same `event`/`level` keys).
 * Lines never carry secrets, tokens, prompts or file contents: ids, counts, sizes and states only.
 */
import type { LogLine } from "../log";
import type { RequestMetrics } from "./request-context";

/** The line of a request: written for every request or only the notable ones (log-policy.ts, `REQUEST_LOG`). */
export interface RequestLogLine extends RequestMetrics, LogLine {
  event: "request";
  level: "info" | "warn" | "error";
  requestId: string;
  tenant: string | null;
  method: string;
  /** The matched route pattern (`/v1/responses/:id`), never the raw path: download paths hold tokens. */
  route: string;
  status: number;
  /** Whole request, until the handler returned (a stream keeps flowing after that). */
  durationMs: number;
  /** Bytes of the answer body when it declares them (downloads do). */
  bytesOut: number | null;
  /** The `x-unsandbox-degraded` value when a step after upstream was skipped for overload. */
  degraded: string | null;
}

/** The line written once per settled copy step. */
export interface CopyJobLogLine extends LogLine {
  event: "copy_job";
  level: "info" | "warn";
  tenant: string;
  containerId: string;
  fileId: string;
  version: number;
  /** `stored`, `partial` (more parts to go), `retry`, `failed` (gave up) or `gone`. */
  outcome: "stored" | "partial" | "retry" | "failed" | "gone";
  /** Bytes written to R2 by this job so far (the whole file when `stored`). */
  bytes: number | null;
  multipart: boolean | null;
  attempts: number;
  reason: string | null;
}

/** Level of a request line: 5xx is an error, 4xx a warning. */
export function levelFor(status: number): RequestLogLine["level"] {
  return status >= 500 ? "error" : status >= 400 ? "warn" : "info";
}

/** What a tracker knows when it settles a copy step (the copy engine's `CopyResult`, simplified). */
export interface CopyJobEvent {
  tenant: string;
  containerId: string;
  fileId: string;
  version: number;
  result:
    | { kind: "stored"; bytes: number; multipart: boolean }
    | { kind: "partial"; bytesStored: number }
    | { kind: "retry"; reason: string }
    | { kind: "gone"; reason: string };
  /** Attempts so far, this one included. */
  attempts: number;
  /** True when this retry was the last allowed one (the file is now `failed`). */
  gaveUp?: boolean;
}

/** Pure: the log line of a settled copy step. */
export function copyJobLine(e: CopyJobEvent): CopyJobLogLine {
  const r = e.result;
  const outcome = r.kind === "retry" && e.gaveUp ? "failed" : r.kind;
  return {
    event: "copy_job",
    level: outcome === "stored" || outcome === "partial" ? "info" : "warn",
    tenant: e.tenant,
    containerId: e.containerId,
    fileId: e.fileId,
    version: e.version,
    outcome,
    bytes: r.kind === "stored" ? r.bytes : r.kind === "partial" ? r.bytesStored : null,
    multipart: r.kind === "stored" ? r.multipart : null,
    attempts: e.attempts,
    reason: r.kind === "retry" || r.kind === "gone" ? r.reason : null,
  };
}
