/**
 * @module tracker/copies
 * The copy jobs: the alarm's small worker pool, one bounded copy step per job and run
 * (src/storage/copy.ts moves the bytes), and the settlement of each step (outcome → state,
 * backoff or loss: `copyOutcome` in ./policy.ts). RPC calls only write `jobs` rows; copies run
 * from the alarm, which may run for minutes where an RPC-driven fetch would be evicted
 * (https://developers.cloudflare.com/durable-objects/api/alarms/). Progress is saved per part, so
 * an eviction costs at most the part in flight.
 */
import { loadConfig } from "../config";
import { tenantBytesStored } from "../metering/shards";
import { reportCopyJob } from "../observability/copy-job";
import { copyStep, type CopyHooks, type CopyResult, type CopyState } from "../storage/copy";
import { fetchFileContent } from "../upstream/containers";
import type { StorageLimits } from "../storage/limits";
import type { UpstreamAccess } from "../upstream/containers";
import type { Capability, TrackerContext } from "./context";
import {
  byteAllowance,
  copyOrder,
  copyOutcome,
  fileWithoutContent,
  INTERRUPTED_STEP,
  interruptedStep,
  HEARTBEAT_MS,
  MAX_CONCURRENT_COPIES,
  PARTS_PER_RUN,
  PARTS_PER_STEP,
  STEPS_PER_RUN,
  type ByteAllowance,
} from "./policy";
import type { FileRow, JobRow, VersionKey } from "./rows";
import type { Sweeps } from "./sweeps";
import { TenantUnavailableError } from "./tenant-view";

const keyOf = (j: { file_id: string; version: number }): VersionKey => [j.file_id, j.version];
const idOf = (j: { file_id: string; version: number }) => `${j.file_id}/${j.version}`;

export class Copies implements Capability {
  /** Jobs being copied by this instance; an eviction empties it along with the copies themselves. */
  readonly #running = new Set<string>();
  /**
   * This instance of the tracker, written on a job while one of its steps runs (`jobs.runner`): a
   * later instance knows a step marked by another one died with it (`resumeInterrupted`).
   */
  readonly #instance = crypto.randomUUID();
  /** Part uploads the current alarm run may still make (see PARTS_PER_RUN). */
  #partsLeft = PARTS_PER_RUN;
  /**
   * Metering of one alarm run, per tenant: the bytes stored as the meter reported them at the
   * run's start (one read per run, not one per copy) and what this run stored since (metered once,
   * after the run, so no copy waits on the meter to become `stored`).
   */
  #usage = new Map<string, { before: Promise<number>; files: number; bytes: number }>();

  constructor(
    private readonly ctx: TrackerContext,
    private readonly sweeps: Sweeps,
  ) {}

  get busy(): boolean {
    return this.#running.size > 0;
  }

  /**
   * Two workers pull due jobs, linked and cited files first (`copyOrder`), until none is due or the
   * run's step or part budget is spent. Each job runs at most one step per alarm run, so a large
   * file cannot starve the others, and the subrequests of one run stay bounded (PARTS_PER_RUN part
   * uploads, a few calls per step).
   */
  async runDue(): Promise<void> {
    const ran = new Set<string>();
    this.#partsLeft = PARTS_PER_RUN;
    const now = () => this.ctx.now();
    // The jobs are remembered until the next write (../durable/read-memo.ts): the ranked query
    // runs only when one of them is due and free.
    const anyDue = () =>
      this.ctx.store.copyJobs
        .all()
        .some((j) => j.next_attempt_at <= now() && !this.#running.has(idOf(j)) && !ran.has(idOf(j)));
    const pick = (): JobRow | undefined =>
      ran.size >= STEPS_PER_RUN || this.#partsLeft <= 0 || !anyDue()
        ? undefined
        : copyOrder(this.ctx.store.copyJobs.due(now())).find((j) => !this.#running.has(idOf(j)) && !ran.has(idOf(j)));
    const worker = async () => {
      for (let job = pick(); job; job = pick()) {
        // No await between picking and #runJob marking the job as running: the other worker cannot pick it too.
        ran.add(idOf(job));
        await this.#runJob(job);
      }
    };
    const free = Math.max(0, MAX_CONCURRENT_COPIES - this.#running.size);
    this.#usage = new Map();
    try {
      await Promise.all(Array.from({ length: free }, worker));
    } finally {
      await this.#meterRun();
    }
  }

  /** Ends the run's record; each stored file went to the usage outbox as it settled (src/metering/outbox.ts). */
  async #meterRun(): Promise<void> {
    this.#usage = new Map();
  }

  /** Past the computed expiry nothing can be fetched: unfinished copies are `lost`, with no read. */
  async expireOverdue(now: number): Promise<void> {
    const expiry = this.sweeps.expiry();
    if (now < expiry) return;
    for (const job of this.ctx.store.copyJobs.all().filter((j) => !this.#running.has(idOf(j)))) {
      this.ctx.store.setState(
        job.file_id,
        job.version,
        "lost",
        { code: "expired_before_copy", expiry },
        this.ctx.now(),
      );
      this.ctx.store.copyJobs.delete(keyOf(job));
      await this.abortUpload(job);
    }
    // Nothing left to read with a caller's key (a copy still running holds its own upstream).
    this.ctx.store.endContainer("overdue", now);
  }

  /** Cancels a job (a deletion): its row, its unfinished multipart upload and its parts. */
  async cancel(fileId: string, version: number): Promise<void> {
    const job = this.ctx.store.copyJobs.get(fileId, version);
    if (!job) return;
    this.ctx.store.copyJobs.delete(keyOf(job));
    await this.abortUpload(job);
  }

  /** Aborts every unfinished multipart upload (the container ends with its jobs dropped). */
  async abortAll(): Promise<void> {
    for (const job of this.ctx.store.copyJobs.all().filter((j) => !this.#running.has(idOf(j))))
      await this.abortUpload(job);
  }

  async abortUpload(job: JobRow): Promise<void> {
    if (!job.upload_id) return;
    const file = this.ctx.store.file(job.file_id, job.version);
    if (file)
      await this.ctx.env.FILES.resumeMultipartUpload(file.r2_key, job.upload_id)
        .abort()
        .catch(() => {});
    this.ctx.store.copyJobs.deleteParts(keyOf(job));
  }

  /**
   * The earliest due job not being copied right now (a running step re-arms on completion); while
   * any runs, the alarm stays within a heartbeat so an eviction cannot strand it.
   */
  nextWake(now: number): number | null {
    let at: number | null = this.#running.size > 0 ? now + HEARTBEAT_MS : null;
    for (const j of this.ctx.store.copyJobs.all()) {
      if (!this.#running.has(idOf(j)) && (at === null || j.next_attempt_at < at)) at = j.next_attempt_at;
    }
    return at;
  }

  async #runJob(job: JobRow): Promise<void> {
    const { store } = this.ctx;
    const key = keyOf(job);
    const file = store.file(...key);
    if (!file) {
      store.copyJobs.delete(key);
      return;
    }
    this.#running.add(idOf(job));
    try {
      if (file.state !== "copying") store.setState(file.file_id, file.version, "copying", null, this.ctx.now());
      store.copyJobs.startStep(key, this.#instance);
      const state: CopyState = {
        key: file.r2_key,
        partSize: job.part_size,
        uploadId: job.upload_id,
        parts: store.copyJobs.parts(key),
        httpMetadata: { contentType: file.content_type },
        customMetadata: {
          tenant: file.tenant,
          container: file.container_id,
          file: file.file_id,
          version: String(file.version),
          path: file.path,
        },
      };
      // The key and the limits: a directory that cannot answer (and no earlier record) backs off
      // this job like any failed attempt; a revoked tenant propagates and ends the tracker.
      let up: UpstreamAccess;
      let limits: StorageLimits;
      try {
        up = await this.ctx.upstream();
        limits = (await this.ctx.tenant.load(file.tenant)).limits;
      } catch (err) {
        if (!(err instanceof TenantUnavailableError)) throw err;
        await this.#settle(
          job,
          file,
          { kind: "retry", reason: err.message },
          byteAllowance(this.ctx.tenant.cached(file.tenant), 0),
        );
        return;
      }
      const hooks: CopyHooks = {
        fetchContent: (rangeStart) => fetchFileContent(up, file.container_id, file.file_id, rangeStart),
        uploadStarted: (uploadId, partSize) => store.copyJobs.setUploadId(key, uploadId, partSize),
        partStored: (p) => {
          this.#partsLeft--;
          store.copyJobs.storePart(key, file.tenant, p, this.ctx.now());
        },
        uploadDiscarded: () => {
          store.copyJobs.deleteParts(key);
          store.copyJobs.setUploadId(key, null);
        },
        resumed: ({ offset, rangeHonoured }) => store.noteResume(key, offset, rangeHonoured),
      };
      // Bytes per file and per tenant: the smaller allowance bounds this copy.
      const allowance = byteAllowance(limits, await this.#tenantBytes(file.tenant));
      const result: CopyResult = allowance.full
        ? { kind: "too_large", reason: "tenant storage limit reached", limit: 0 }
        : await copyStep(this.ctx.env.FILES, state, hooks, {
            maxParts: Math.max(1, Math.min(PARTS_PER_STEP, this.#partsLeft)),
            maxBytes: allowance.maxBytes,
          });
      await this.#settle(job, file, result, allowance);
    } finally {
      store.copyJobs.endStep(key, this.#instance);
      this.#running.delete(idOf(job));
    }
  }

  /**
   * Run once as this instance starts: the steps an earlier instance was running when it ended
   * (evicted, or the process died) count as failed attempts and are due again after the backoff
   * (`interruptedStep`), instead of sitting `copying` until the heartbeat alarm. True when there
   * were any (the caller re-arms the alarm for them).
   */
  async resumeInterrupted(now: number): Promise<boolean> {
    const jobs = this.ctx.store.copyJobs.interrupted(this.#instance);
    const container = this.ctx.store.container();
    for (const job of jobs) {
      const outcome = interruptedStep(job.attempts, { now, expiry: this.sweeps.expiry() });
      // The copy_job line the interrupted step never wrote.
      reportCopyJob(
        {
          tenant: job.tenant,
          containerId: container?.id ?? "",
          fileId: job.file_id,
          version: job.version,
          result: { kind: "retry", reason: INTERRUPTED_STEP },
          attempts: job.attempts + 1,
          gaveUp: outcome.kind === "lost",
        },
        loadConfig(this.ctx.env).REQUEST_LOG,
      );
      if (outcome.kind === "retry") {
        this.ctx.store.copyJobs.reschedule(keyOf(job), outcome.at, outcome.attempts, outcome.lastError);
        continue;
      }
      this.ctx.store.setState(job.file_id, job.version, "lost", outcome.reason, now);
      this.ctx.store.copyJobs.delete(keyOf(job));
      await this.abortUpload(job);
    }
    return jobs.length > 0;
  }

  /** Records the outcome of a copy step and schedules what follows. */
  async #settle(job: JobRow, file: FileRow, result: CopyResult, allowance: ByteAllowance): Promise<void> {
    const { store } = this.ctx;
    const key = keyOf(job);
    const now = this.ctx.now();
    if (result.kind === "too_large") {
      // Larger than allowed (`copyOutcome` says the same): nothing of it is kept, no copy is tried again.
      store.setState(file.file_id, file.version, "skipped", allowance.refusal, now);
      store.copyJobs.delete(key);
      store.copyJobs.deleteParts(key);
      return;
    }
    const outcome = copyOutcome(result, {
      now,
      attempts: job.attempts,
      expiry: this.sweeps.expiry(),
      retentionMs: this.ctx.tenant.cached(file.tenant).retentionMs,
      path: file.path,
      allowance,
    });
    const current = store.file(...key);
    if (!current || current.state === "deleted") {
      // Deleted while this step ran: whatever it stored goes too.
      if (result.kind === "stored") await this.ctx.env.FILES.delete(file.r2_key);
      store.copyJobs.delete(key);
      return;
    }
    // The copy_job log line (src/observability/copy-job.ts); never throws. Stored files are
    // metered from the usage outbox, after they are stored (below).
    reportCopyJob(
      {
        tenant: file.tenant,
        containerId: file.container_id,
        fileId: file.file_id,
        version: file.version,
        result,
        attempts: job.attempts + 1,
        gaveUp: outcome.kind === "lost",
      },
      loadConfig(this.ctx.env).REQUEST_LOG,
    );
    switch (outcome.kind) {
      case "stored":
        if (result.kind !== "stored") return;
        store.markStored(
          key,
          { bytes: result.bytes, sha256: result.sha256, etag: result.etag, retainUntil: outcome.retainUntil },
          now,
        );
        this.#run(file.tenant).files += 1;
        this.#run(file.tenant).bytes += result.bytes;
        this.ctx.usage.record(file.tenant, `${file.container_id}/${file.file_id}/${file.version}`, file.container_id, {
          files_stored: 1,
          bytes_stored: result.bytes,
        });
        // The parts rows stay as the record of how the object was assembled (docs/storage.md).
        store.copyJobs.delete(key);
        return;
      case "continue":
        store.copyJobs.reschedule(key, outcome.at, 0, null);
        return;
      case "retry":
        // Still copying as far as downloads are concerned: the next attempt is scheduled.
        store.copyJobs.reschedule(key, outcome.at, outcome.attempts, outcome.lastError);
        return;
      case "lost":
        store.setState(file.file_id, file.version, "lost", outcome.reason, now);
        store.copyJobs.delete(key);
        await this.abortUpload(job);
        return;
      case "container_gone":
        store.endContainer("gone", now);
        return;
      case "check_container": {
        // An unexplained 404 is checked once: the container may be over, or the file gone.
        const info = await this.sweeps.retrieve(await this.ctx.upstream(), file.container_id);
        if (info === null || info?.status === "expired" || info?.status === "deleted") {
          store.endContainer("gone", this.ctx.now());
          return;
        }
        if (store.container()?.status === "unavailable") return;
        const gone = fileWithoutContent(file.path, result.kind === "gone" ? result.reason : "");
        store.copyJobs.delete(key);
        store.setState(file.file_id, file.version, gone.state, gone.reason, this.ctx.now());
        return;
      }
      case "no_content":
        store.copyJobs.delete(key);
        store.setState(file.file_id, file.version, outcome.state, outcome.reason, now);
        return;
    }
  }

  /** This run's metering record of a tenant (its stored bytes read once, at first use). */
  #run(tenant: string) {
    let u = this.#usage.get(tenant);
    if (!u) {
      // Scoped to this tracker: another object's read under way is not shared (lookup-cache.ts).
      const before = tenantBytesStored(this.ctx.env, tenant, this.ctx).catch(() => 0);
      u = { before, files: 0, bytes: 0 };
      this.#usage.set(tenant, u);
    }
    return u;
  }

  /**
   * Bytes the tenant has stored: as metered at the start of this run (0 when the meter cannot
   * answer), plus what this run stored since.
   */
  async #tenantBytes(tenant: string): Promise<number> {
    const u = this.#run(tenant);
    return (await u.before) + u.bytes;
  }
}
