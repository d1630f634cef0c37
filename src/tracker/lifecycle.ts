/**
 * @module tracker/lifecycle
 * What happens to stored files over time: retention deletes objects past `retain_until` (the row
 * stays as a `deleted` tombstone so links answer 410, not an unknown 404), and once no issued
 * link can reach the tracker any more it deletes its objects and then all of its storage
 * (`deleteAll`: https://developers.cloudflare.com/durable-objects/api/storage-api/#deleteall).
 */
import { deleteAllStorage, migrate } from "../durable/sqlite-migrations";
import type { Capability, TrackerContext } from "./context";
import type { Copies } from "./copies";
import { unreachableAt } from "./policy";
import { TRACKER_MIGRATIONS } from "./schema";

export class Lifecycle implements Capability {
  constructor(
    private readonly ctx: TrackerContext,
    private readonly storage: DurableObjectStorage,
    private readonly copies: Copies,
  ) {}

  /** Stored files past `retain_until` are deleted from R2; "deleted by retention on <date>". */
  async applyRetention(now: number): Promise<void> {
    const earliest = this.ctx.store.earliestRetention();
    if (earliest === null || earliest > now) return;
    for (const f of this.ctx.store.dueRetention(now)) {
      await this.ctx.env.FILES.delete(f.r2_key);
      this.ctx.store.setState(f.file_id, f.version, "deleted", { code: "deleted_by_retention", at: now }, now);
    }
  }

  /**
   * Once no issued link can reach this tracker (every response's links have an expiry, and all
   * have passed), it deletes its remaining objects and then all of its storage. With links that
   * never expire the tombstones stay: a link must keep answering 410, not become an unknown 404.
   * @returns true when the tracker cleared itself (no alarm is left to arm).
   */
  async clearIfUnreachable(now: number): Promise<boolean> {
    const at = unreachableAt(this.ctx.store.linkReach());
    if (at === null || at > now || this.copies.busy) return false;
    for (const f of this.ctx.store.storedFiles()) await this.ctx.env.FILES.delete(f.r2_key);
    for (const job of this.ctx.store.copyJobs.all()) await this.copies.abortUpload(job);
    await this.storage.deleteAlarm();
    await deleteAllStorage(this.storage);
    // deleteAll drops the tables too; recreate them empty so a later call finds a fresh tracker.
    migrate(this.storage, TRACKER_MIGRATIONS);
    this.ctx.tenant.clear();
    this.ctx.waiters.notify();
    return true;
  }

  /** The next retention deadline, or when the last link expires. */
  nextWake(): number | null {
    const retain = this.ctx.store.earliestRetention();
    const unreachable = unreachableAt(this.ctx.store.linkReach());
    return retain === null ? unreachable : unreachable === null ? retain : Math.min(retain, unreachable);
  }
}
