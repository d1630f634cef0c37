/**
 * @module observability/copy-job
 * `reportCopyJob`: the one call a tracker makes when it settles a copy step. It writes the
 * `copy_job` log line. Stored files are metered by the tracker once per alarm run, after the run
 * (src/tracker/copies.ts), so no copy waits on the meter.
 */
import { errorFields, logEvent, writeLine } from "../log";
import { copyJobLine, type CopyJobEvent } from "./log";

/** Logs a settled copy step. Never throws. */
export function reportCopyJob(event: CopyJobEvent): void {
  try {
    writeLine(copyJobLine(event));
  } catch (err) {
    logEvent("error", "copy_job_report_error", {
      tenant: event.tenant,
      containerId: event.containerId,
      fileId: event.fileId,
      ...errorFields(err),
    });
  }
}
