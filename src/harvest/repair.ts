/**
 * @module harvest/repair
 * Optional repair (off by default; `UNSANDBOX_REPAIR=true` turns it on): when the model linked a
 * file it never wrote, unsandbox asks once more in the same chain, forcing the code interpreter,
 * to write exactly those paths. The files that turn writes are attributed to the original
 * response, so the links it already issued start working. One attempt per response, recorded in
 * its tracker, so a retry, a second client or a restart never asks twice (each attempt costs a
 * model call).
 *
 * How it runs: a response harvested with repair on (`UNSANDBOX_REPAIR=true`, or the request
 * header `x-unsandbox-repair: 1`) hands its model to the container's tracker; when the tracker's
 * sweep window closes with linked paths never written, its alarm starts the repair turn
 * (src/upstream/repair-turn.ts) and adopts what it writes (src/tracker/repair.ts). A failed
 * repair leaves the files `missing`.
 */

/** Whether repair is switched on for this deployment (`UNSANDBOX_REPAIR` = `true`/`1`/`on`). */
export function repairEnabled(env: Record<string, unknown>): boolean {
  return ["true", "1", "on"].includes(
    String(env.UNSANDBOX_REPAIR ?? "")
      .trim()
      .toLowerCase(),
  );
}
