/**
 * @module observability/copy-job
 * `reportCopyJob`: the one call a tracker makes when it settles a copy step. It writes the
 * `copy_job` log line when `REQUEST_LOG` keeps it (./log-policy.ts: a routine step of a long copy
 * only under `all`). Stored files are metered by the tracker once per alarm run, after the run
 * (src/tracker/copies.ts), so no copy waits on the meter.
 */
import { errorFields, logEvent, writeLine } from "../log";
import { copyJobLine, type CopyJobEvent } from "./log";
import { type RequestLogMode, shouldWriteCopyJob } from "./log-policy";

/** Logs a settled copy step under `mode` (the deployment's `REQUEST_LOG`). Never throws. */
export function reportCopyJob(event: CopyJobEvent, mode: RequestLogMode): void {
  try {
    const line = copyJobLine(event);
    if (shouldWriteCopyJob(mode, line)) writeLine(line);
  } catch (err) {
    logEvent("error", "copy_job_report_error", {
      tenant: event.tenant,
      containerId: event.containerId,
      fileId: event.fileId,
      ...errorFields(err),
    });
  }
}
