/**
 * @module observability/copy-job
 * `reportCopyJob`: the one call a tracker makes when it settles a copy step. It writes the
 * `copy_job` log line and, when the file is now stored, meters it for the tenant.
 */
import type { Bindings } from "../config";
import { meter } from "../metering/record";
import { errorFields, logEvent, writeLine } from "../log";
import { copyJobLine, type CopyJobEvent } from "./log";

/** Logs a settled copy step and meters a stored file. Never throws. */
export async function reportCopyJob(env: Pick<Bindings, "USAGE_METER">, event: CopyJobEvent): Promise<void> {
  try {
    writeLine(copyJobLine(event));
    if (event.result.kind === "stored" && env.USAGE_METER) {
      await meter(env, event.tenant, { files_stored: 1, bytes_stored: event.result.bytes });
    }
  } catch (err) {
    logEvent("error", "copy_job_report_error", { tenant: event.tenant, containerId: event.containerId, fileId: event.fileId, ...errorFields(err) });
  }
}
