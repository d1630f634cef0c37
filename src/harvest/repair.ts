/**
 * @module harvest/repair
 * Optional repair (off by default; `UNSANDBOX_REPAIR=true` turns it on): when the model linked a
 * file it never wrote, unsandbox asks once more in the same chain, forcing the code interpreter
 * (`tool_choice: {type:"code_interpreter"}`, `previous_response_id` = the response), to write
 * exactly those paths. The files that turn writes are attributed to the original response, so
 * the links it already issued start working. One attempt per response, recorded in its tracker,
 * so a retry, a second client or a restart never asks twice (each attempt costs a model call).
 *
 * How it runs: a response harvested with repair on (`UNSANDBOX_REPAIR=true`, or the request
 * header `x-unsandbox-repair: 1`) hands its model to the container's tracker; when the tracker's
 * sweep window closes with linked paths never written, its alarm starts the repair turn
 * ({@link startRepairTurn}) and adopts what it writes. {@link repairMissingFiles} is the same
 * sequence driven from outside, in one call. Neither throws; a failed repair leaves the files
 * `missing`.
 */
import type { Bindings } from "../config";
import { trackerFor } from "../tracker/stubs";
import { setUpstreamAuth, upstreamUrl, type UpstreamTarget } from "../upstream/fetch";

/** Whether repair is switched on for this deployment (`UNSANDBOX_REPAIR` = `true`/`1`/`on`). */
export function repairEnabled(env: Record<string, unknown>): boolean {
  return ["true", "1", "on"].includes(String(env.UNSANDBOX_REPAIR ?? "").trim().toLowerCase());
}

export interface RepairInput {
  tenant: string;
  /** The response whose links name files that were never written. */
  responseId: string;
  /** The container those files should have been written in. */
  containerId: string;
  /** The model of the original response. */
  model: string;
  /** The upstream, with the tenant's key (`targetOf(...)`). */
  upstream: UpstreamTarget;
  /** How long to wait for the repaired files' copies. */
  waitMs?: number;
}

export interface RepairResult {
  /** False when repair was already attempted for this response, or nothing was missing. */
  attempted: boolean;
  /** Paths whose links now resolve to a file. */
  repaired: string[];
  /** Paths that are still missing after the attempt. */
  stillMissing: string[];
  repairResponseId: string | null;
}

/** The instruction sent to the model; pure, so it can be checked on its own. */
export function repairPrompt(paths: string[]): string {
  const list = paths.map((p) => `- ${p}`).join("\n");
  return (
    "Your previous answer linked these files, but they were never written to the container:\n" +
    `${list}\n` +
    "Use the code interpreter to create each of them now, at exactly that path, with the content your previous answer described. " +
    "Do not rename them. Reply with one short sentence when they exist."
  );
}

/**
 * Runs the one repair attempt for a response (see the module comment).
 */
export async function repairMissingFiles(env: Bindings, input: RepairInput): Promise<RepairResult> {
  const tracker = trackerFor(env, input.containerId);
  const none: RepairResult = { attempted: false, repaired: [], stillMissing: [], repairResponseId: null };
  try {
    const paths = await tracker.beginRepair({ tenant: input.tenant, responseId: input.responseId });
    if (!paths || paths.length === 0) return none;
    const started = await startRepairTurn(input.upstream, { responseId: input.responseId, containerId: input.containerId, model: input.model, paths });
    if (!started) return { attempted: true, repaired: [], stillMissing: paths, repairResponseId: null };
    // The repair turn is tracked like any response: its listing finds what it wrote at the paths.
    await tracker.track({
      tenant: input.tenant,
      containerId: input.containerId,
      responseId: started.id,
      responseCreatedAt: started.createdAt,
      refs: paths.map((path) => ({ path, cited: "link" as const })),
      sweep: true,
    });
    await tracker.waitForStored(started.id, input.waitMs ?? 20_000);
    const repaired = await tracker.adoptRepair({ tenant: input.tenant, responseId: input.responseId, repairResponseId: started.id, paths });
    return { attempted: true, repaired, stillMissing: paths.filter((p) => !repaired.includes(p)), repairResponseId: started.id };
  } catch (err) {
    console.error(JSON.stringify({ level: "error", msg: "repair failed", responseId: input.responseId, error: String(err) }));
    return { ...none, attempted: true };
  }
}

/**
 * Asks the model once, in the same chain and container, forcing the code interpreter, to write
 * the paths. Returns the repair response's id and creation time, or null when upstream refused.
 */
export async function startRepairTurn(
  upstream: UpstreamTarget,
  input: { responseId: string; containerId: string; model: string; paths: string[] },
): Promise<{ id: string; createdAt: number } | null> {
  const headers = setUpstreamAuth(new Headers({ "content-type": "application/json" }), upstream);
  const res = await fetch(upstreamUrl(upstream, "/responses"), {
    method: "POST",
    headers,
    body: JSON.stringify({
      model: input.model,
      previous_response_id: input.responseId,
      input: repairPrompt(input.paths),
      tools: [{ type: "code_interpreter", container: input.containerId }],
      tool_choice: { type: "code_interpreter" },
    }),
  }).catch(() => null);
  if (!res?.ok) {
    await res?.body?.cancel();
    return null;
  }
  const body = (await res.json()) as { id?: unknown; created_at?: unknown };
  if (typeof body.id !== "string") return null;
  return { id: body.id, createdAt: typeof body.created_at === "number" ? body.created_at : Math.floor(Date.now() / 1000) };
}
