/**
 * @module observability/log-policy
 * Pure: which requests write unsandbox's `request` line (setting `REQUEST_LOG`).
 *
 * The platform already counts every request: Workers metrics give request counts, errors, status
 * codes, CPU and wall time per Worker (https://developers.cloudflare.com/workers/observability/),
 * and the usage meter counts each tenant's model requests and bytes per day (src/metering/). A
 * line per request on top of that is one more Workers Logs event per request, billed and counted
 * against the account's log limits like any other, and (under `wrangler dev`) a console line that
 * crosses the devtools connection to the terminal on the request's own thread. Workers Logs'
 * invocation logs stay off (wrangler.toml: they record each request's URL, and a download URL is
 * a credential), so this line is the only per-request record there is; `notable` keeps it where it
 * says what nothing else does:
 *
 * - a refusal or failure (status 4xx or 5xx, level `warn` or `error`): which route, which tenant,
 *   whether upstream was reached;
 * - an answer sent degraded (`x-unsandbox-degraded`: a step after upstream was skipped for
 *   overload);
 * - an answer that involved containers, download links or files: the harvest's counts, the one
 *   thing an operator follows a file back through (the trackers' `copy_job` lines name the files).
 *
 * A plain model request without any of these is a metric, not an event. `all` writes every line
 * (e.g. to read upstream latency per request, `upstreamMs`, in Workers Logs).
 *
 * The same setting rules a tracker's `copy_job` lines: a copy's end (`stored`, `failed`, `gone`)
 * and each failed step (`retry`, an interrupted step among them) are always written; a routine
 * step of a long copy (`partial`: more parts follow, nothing went wrong) only under `all`. The
 * `stored` line carries the copy's bytes, so `notable` loses no count.
 */
import type { CopyJobLogLine, RequestLogLine } from "./log";

export type RequestLogMode = "notable" | "all";

/** Whether `line` is written under `mode`. */
export function shouldWrite(mode: RequestLogMode, line: RequestLogLine): boolean {
  return mode === "all" || isNotable(line);
}

/** A line that says more than the platform's request metrics do (see the module comment). */
export function isNotable(line: RequestLogLine): boolean {
  return line.status >= 400 || line.degraded !== null || line.containers > 0 || line.links > 0 || line.filesFound > 0;
}

/** Whether a tracker's `copy_job` line is written under `mode` (see the module comment). */
export function shouldWriteCopyJob(mode: RequestLogMode, line: CopyJobLogLine): boolean {
  return mode === "all" || line.outcome !== "partial";
}
