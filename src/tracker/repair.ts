/**
 * @module tracker/repair
 * Optional repair, run from the alarm (a model turn plus its late listing outlasts a request's
 * `waitUntil`): a response that asked for it (`repairModel` on `track`) and whose sweep window
 * closed with linked paths never written gets one more turn in the same chain
 * (src/upstream/repair-turn.ts); that turn is tracked like any response, and each run adopts what
 * it wrote at the missing paths until its own window closes. One attempt per response
 * (`responses.repair_attempted_at`), so a retry or a restart never asks twice.
 */
import { startRepairTurn } from "../upstream/repair-turn";
import type { Capability, TrackerContext } from "./context";
import type { TrackInput } from "./types";

export class Repair implements Capability {
  constructor(
    private readonly ctx: TrackerContext,
    /** Tracks the repair turn like any response (the tracker's own `track`). */
    private readonly track: (input: TrackInput) => Promise<unknown>,
  ) {}

  /**
   * Step 1: claims the response's one repair attempt. Returns the paths still unresolved (missing
   * or pending) when this call took the attempt, or null when an attempt was already made (or the
   * response is unknown here).
   */
  begin(tenant: string, responseId: string): string[] | null {
    const row = this.ctx.store.response(responseId);
    if (!row || row.tenant !== tenant || row.repair_attempted_at !== null) return null;
    this.ctx.store.markRepairAttempted(responseId, this.ctx.now());
    return this.ctx.store
      .claimsIn(responseId, ["missing", "pending"])
      .map((c) => c.path)
      .sort();
  }

  /**
   * Step 2: the files the repair turn wrote at the original response's missing paths are
   * attributed to the original response (cited as `link`), so its links start working.
   * @returns the paths that now resolve.
   */
  adopt(tenant: string, responseId: string, repairResponseId: string, paths: readonly string[]): string[] {
    const repaired: string[] = [];
    for (const path of paths) {
      const hit = this.ctx.store.repairedAt(repairResponseId, path);
      if (!hit) continue;
      this.ctx.store.cite(tenant, responseId, hit.file_id, hit.version, hit.path, "link", this.ctx.now());
      this.ctx.store.resolveClaim(responseId, path, hit.file_id, hit.version, true);
      repaired.push(path);
    }
    this.ctx.waiters.notify();
    return repaired;
  }

  /** Starts due repair turns, then adopts what the followed ones wrote. */
  async runDue(now: number): Promise<void> {
    const { store } = this.ctx;
    const containerId = store.container()?.id;
    if (!containerId) return;
    const earliest = store.earliestRepair();
    for (const r of earliest !== null && earliest <= now ? store.dueRepairs(now) : []) {
      store.clearRepairDue(r.response_id);
      const paths = this.begin(r.tenant, r.response_id);
      if (!paths?.length) continue;
      const started = await startRepairTurn(await this.ctx.upstream(), {
        responseId: r.response_id,
        containerId,
        model: r.repair_model!,
        paths,
      });
      if (!started) continue;
      store.setRepairResponse(r.response_id, started.id);
      await this.track({
        tenant: r.tenant,
        containerId,
        responseId: started.id,
        responseCreatedAt: started.createdAt,
        refs: paths.map((path) => ({ path, cited: "link" as const })),
        sweep: true,
      });
    }
    // A repair is followed until its own window closes.
    for (const r of store.followedRepairs()) {
      const missing = store.claimsIn(r.response_id, ["missing"]).map((c) => c.path);
      if (missing.length) this.adopt(r.tenant, r.response_id, r.repair_response_id!, missing);
      const repair = store.response(r.repair_response_id!);
      if (missing.length === 0 || !repair || repair.sweep_next_at === null)
        store.setRepairResponse(r.response_id, null);
    }
  }

  nextWake(): number | null {
    return this.ctx.store.earliestRepair();
  }
}
