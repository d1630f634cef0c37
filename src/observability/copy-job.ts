/**
 * @module observability/copy-job
 * `reportCopyJob`: the one call a tracker makes when it settles a copy step. It writes the
 * `copy_job` log line and, when the file is now stored, records it in the tracker's usage outbox
 * (src/metering/outbox.ts), which meters it after the copy, in a batch, exactly once.
 */
import type { Bindings } from "../config";
import { meter } from "../metering/record";
import type { UsageOutbox } from "../metering/outbox";
import { copyJobLine, logEvent, writeLine, type CopyJobEvent } from "./log";

/**
 * Logs a settled copy step and meters a stored file: through `outbox` when the caller has one
 * (nothing awaited), else with the request path's batch. Never throws.
 */
export async function reportCopyJob(env: Pick<Bindings, "USAGE_METER">, event: CopyJobEvent, outbox?: UsageOutbox): Promise<void> {
  try {
    writeLine(copyJobLine(event));
    if (event.result.kind === "stored" && env.USAGE_METER) {
      const delta = { files_stored: 1, bytes_stored: event.result.bytes };
      const id = `${event.containerId}/${event.fileId}/${event.version}`;
      if (outbox) outbox.record(event.tenant, id, event.containerId, delta);
      else await meter(env, event.tenant, delta);
    }
  } catch (err) {
    logEvent("error", "copy_job_report_error", { tenant: event.tenant, containerId: event.containerId, error: String(err) });
  }
}
