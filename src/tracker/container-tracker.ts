/**
 * @module tracker/container-tracker
 * ContainerTracker: one Durable Object per upstream container id (`getByName(containerId)`).
 *
 * It is the single writer for everything about its container: which files exist (by version),
 * which responses cited them and how, which link paths are still unresolved, and the copy jobs
 * that move bytes into R2. Two requests citing the same file therefore copy it once.
 *
 * This class is the shell: the RPC surface, tenant checks, and the one alarm. The rows live in
 * ./store.ts, the rules in ./policy.ts, and the work in capabilities that each report when they
 * next need the alarm: ./sweeps.ts (listings and attribution), ./copies.ts (copy jobs),
 * ./lifecycle.ts (retention, self-clearing) and ./repair.ts (optional repair). RPC calls only
 * record work and arm the alarm; `alarm()` runs what is due and arms it again for the earliest
 * `nextWake`. Nothing relies on the platform's alarm retries
 * (https://developers.cloudflare.com/durable-objects/api/alarms/): a failure becomes a job's own
 * backoff.
 */
import { DurableObject } from "cloudflare:workers";
import { loadConfig, type Bindings } from "../config";
import { errorFields, logEvent } from "../log";
import { hasTable, openMigrated, unmigrated } from "../durable/sqlite-migrations";
import { retrieveContainerFile, type UpstreamAccess } from "../upstream/containers";
import { targetOf } from "../upstream/fetch";
import { keyForLaterWork } from "../tenants/store";
import { Waiters, type TrackerContext } from "./context";
import { Copies } from "./copies";
import { InlineFigures } from "./inline";
import { Lifecycle } from "./lifecycle";
import { Outlive } from "./outlive";
import {
  alarmRetryAt,
  basename,
  FINAL_STATES,
  HEARTBEAT_MS,
  nextWake,
  reasonText,
  sweepSchedule,
  unresolvedClaimState,
  CREATED_SLACK_S,
  type TurnEnd,
} from "./policy";
import { Repair } from "./repair";
import { TRACKER_BASELINE, TRACKER_MIGRATIONS } from "./schema";
import { fileRecord } from "./rows";
import { TrackerStore } from "./store";
import { Sweeps, type Listing } from "./sweeps";
import { TenantRevokedError, TenantUnavailableError, TenantView } from "./tenant-view";
import { UsageOutbox } from "../metering/outbox";
import {
  DeleteFilesSchema,
  OpenSchema,
  StoreInlineSchema,
  TrackerError,
  TrackSchema,
  type Cited,
  type ContainerFileRecord,
  type DeletedFile,
  type DeleteFilesInput,
  type DeleteFilesResult,
  type FileRecord,
  type ManifestEntry,
  type OpenInput,
  type PathResolution,
  type StoreInlineInput,
  type TrackInput,
} from "./types";

export class ContainerTracker extends DurableObject<Bindings> {
  readonly #store: TrackerStore;
  readonly #waiters = new Waiters();
  readonly #ctx: TrackerContext;
  readonly #sweeps: Sweeps;
  readonly #copies: Copies;
  readonly #lifecycle: Lifecycle;
  readonly #repair: Repair;
  /** Alarm runs that failed as a whole, in a row (their backoff: `alarmRetryAt`); kept in memory only. */
  #alarmFailures = 0;
  readonly #inline: InlineFigures;
  readonly #outlive: Outlive;

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    // Tables are made by the first `open`/`track` (./outlive.ts, `ready`): a tracker only read, or
    // emptied once its container was over, stays empty.
    this.#store = new TrackerStore(openMigrated(ctx, TRACKER_MIGRATIONS, unmigrated, TRACKER_BASELINE), () =>
      this.#waiters.notify(),
    );
    const bindings = () => this.env;
    this.#ctx = {
      // Read at each use: the object's own env, as every capability sees it.
      get env() {
        return bindings();
      },
      store: this.#store,
      waiters: this.#waiters,
      tenant: new TenantView(env, this.#store, () => Date.now()),
      usage: new UsageOutbox(ctx.storage, env),
      upstream: () => this.#upstream(),
      now: () => Date.now(),
    };
    this.#sweeps = new Sweeps(this.#ctx);
    this.#copies = new Copies(this.#ctx, this.#sweeps);
    this.#lifecycle = new Lifecycle(this.#ctx, ctx.storage, this.#copies);
    this.#repair = new Repair(this.#ctx, (input) => this.track(input));
    this.#inline = new InlineFigures(this.#ctx);
    this.#outlive = new Outlive(this.#ctx, ctx, this.#copies, {
      manifest: (id) => this.#manifestOf(id),
      resolvePath: (input) => this.resolvePath(input),
    });
    // A copy step an earlier instance was running died with it: due again after a short backoff,
    // not at the heartbeat 30 s on (`resumeInterrupted`). A tracker never written to, or emptied
    // once its container was over (./outlive.ts), has no tables and nothing to resume.
    void ctx.blockConcurrencyWhile(async () => {
      if (!hasTable(ctx.storage.sql, "files")) return;
      if (await this.#copies.resumeInterrupted(Date.now())) await this.#armAlarm();
    });
  }

  // ───────────────────────────── RPC ─────────────────────────────

  /**
   * Called as soon as a stream shows the container: records it and starts watching its listing
   * so that large files begin copying while the model is still talking.
   */
  async open(input: OpenInput): Promise<void> {
    const p = OpenSchema.parse(input);
    this.#outlive.ready(p.tenant, p.containerId, Date.now());
    this.#claimContainer(p.tenant, p.containerId, p.upstreamKeySealed);
    if (p.tenantRecord) await this.#ctx.tenant.seed(p.tenant, p.tenantRecord);
    const now = Date.now();
    const [next, until] = sweepSchedule("open", now, this.#sweeps.live());
    this.#upsertResponse(p.tenant, p.responseId, p.responseCreatedAt ?? Math.floor(now / 1000), next, until);
    this.#store.noteLinks(p.responseId, p.linksExpireAt);
    this.#sweeps.clientActivity(now);
    await this.#armAlarm();
  }

  /**
   * Records what a finished response referenced, sweeps the listing (when `sweep`), creates copy
   * jobs for every new file version and returns the response's manifest. Idempotent.
   *
   * Calls may overlap (concurrent requests on one container, a repair turn's `track` from the
   * alarm). A call's listing is applied only after every `track` that came in before it, and the
   * alarm's sweeps wait for them too: an earlier turn's files are recorded as its own before a
   * later turn's listing (whose window starts a few seconds early, `CREATED_SLACK_S`) could take
   * them for its outputs.
   */
  async track(input: TrackInput): Promise<ManifestEntry[]> {
    const earlier = [...this.#tracking];
    const run = this.#track(input, earlier);
    this.#tracking.add(run);
    try {
      return await run;
    } finally {
      this.#tracking.delete(run);
      // A path of this response may resolve now (`waitForPath`).
      this.#waiters.notify();
    }
  }

  /** `track` calls under way, in the order they came in (instance memory: an eviction ends them with it). */
  readonly #tracking = new Set<Promise<unknown>>();

  /** Waits for the given `track` calls (their failures are theirs). */
  async #after(calls: readonly Promise<unknown>[]): Promise<void> {
    if (calls.length) await Promise.allSettled(calls);
  }

  async #track(input: TrackInput, earlier: readonly Promise<unknown>[]): Promise<ManifestEntry[]> {
    const p = TrackSchema.parse(input);
    this.#outlive.ready(p.tenant, p.containerId, Date.now());
    // The response has ended: which copies had begun by now decides whether it may share an
    // earlier turn's version of a file it names (`versionDecision`). Taken before any await.
    const ended: TurnEnd = { at: Date.now(), copying: this.#store.versions.copying() };
    this.#claimContainer(p.tenant, p.containerId, p.upstreamKeySealed);
    if (p.tenantRecord) await this.#ctx.tenant.seed(p.tenant, p.tenantRecord);
    const now = Date.now();
    const live = this.#sweeps.live();
    const sweep = p.sweep && live;
    const [next, until] = sweepSchedule("track", now, sweep);
    this.#upsertResponse(p.tenant, p.responseId, p.responseCreatedAt, next, until);
    if (p.repairModel) this.#store.setRepairModel(p.responseId, p.repairModel);
    this.#store.noteLinks(p.responseId, p.linksExpireAt);
    this.#sweeps.clientActivity(now);
    // The tenant's limits and key; a directory that cannot answer only skips this listing (the
    // alarm lists again after a backoff), it does not fail the harvest.
    const up = await this.#upstream().catch((err: unknown) => {
      if (err instanceof TenantUnavailableError) return null;
      throw err;
    });

    // The container's own record (status, last activity, expiry) comes along with the listing:
    // read once per response, never polled (a read may refresh `last_active_at`).
    const [result, info]: [Listing | null, Awaited<ReturnType<Sweeps["retrieve"]>>] =
      live && up
        ? await Promise.all([
            sweep ? this.#sweeps.list(up) : Promise.resolve(null),
            this.#sweeps.retrieve(up, p.containerId),
          ])
        : [sweep ? { ok: false } : null, undefined];
    const listing = result?.ok ? result.files : null;
    await this.#after(earlier);
    if (!this.#sweeps.noteContainer(info, now) && info) this.#sweeps.clientActivity(now);

    for (const ref of p.refs) {
      const path = ref.path ?? (ref.filename ? `/mnt/data/${ref.filename}` : null);
      let file = ref.fileId ? (listing?.find((f) => f.id === ref.fileId) ?? null) : null;
      if (ref.fileId && !file && up && this.#sweeps.live())
        file = await retrieveContainerFile(up, p.containerId, ref.fileId).catch(() => null);
      if (file) this.#sweeps.citeListed(p.tenant, p.responseId, file, ref.cited, path, ended);
      // On a container that is over (no listing; a tracker taken back after it emptied itself, a
      // later turn citing an earlier file), a file id the tracker holds is cited as held: nothing
      // can have written it since, so there is no later turn's version to wait for.
      else if (ref.fileId && !this.#sweeps.live() && this.#citeHeld(p.tenant, p.responseId, ref.fileId, ref.cited, now))
        continue;
      // On a container that is over, a path that never resolved cannot resolve any more.
      else if (path)
        this.#store.insertClaim(
          p.responseId,
          path,
          p.tenant,
          ref.cited,
          unresolvedClaimState(this.#store.container()?.status),
          now,
        );
    }
    // A linked path that names a file this response also cited by id needs no listing.
    for (const c of this.#store.pendingClaimsCitedById(p.responseId))
      this.#store.resolveClaim(p.responseId, c.path, c.file_id, c.version);
    // The listing made here is the window's first sweep: the next is due a second later, not at
    // once (a second listing at once found nothing new and held up the first copy by a round trip).
    // A failed listing backs off (after upstream's Retry-After), and the alarm lists again.
    if (listing) {
      this.#sweeps.applyListing(p.responseId, listing, ended);
      this.#sweeps.swept(p.responseId, now);
    } else if (result && !result.ok) {
      this.#sweeps.failed(p.responseId, now, result.retryAfterMs);
    }
    await this.#armAlarm();
    return this.manifest(p.responseId);
  }

  /**
   * A later response (a turn without a tool call) linked files this container holds for an earlier
   * turn of its chain: it cites those versions as links, so its own manifest lists them, and its
   * links' expiry counts for this tracker's self-clearing. No upstream read; a version this tracker
   * does not hold for the tenant is ignored.
   */
  citeFromChain(input: {
    tenant: string;
    responseId: string;
    responseCreatedAt: number;
    linksExpireAt?: number | null;
    files: { fileId: string; version: number }[];
  }): ManifestEntry[] {
    if (this.#outlive.ended) return [];
    this.#checkTenant(input.tenant);
    this.#upsertResponse(input.tenant, input.responseId, input.responseCreatedAt, null, null);
    this.#store.noteLinks(input.responseId, input.linksExpireAt);
    for (const f of input.files) {
      const row = this.#store.file(f.fileId, f.version);
      if (row && row.tenant === input.tenant)
        this.#store.cite(input.tenant, input.responseId, row.file_id, row.version, row.path, "link", Date.now());
    }
    this.#waiters.notify();
    return this.#manifestOf(input.responseId);
  }

  /** Cites the newest version this tracker holds of `fileId` for the tenant; false when it holds none. */
  #citeHeld(tenant: string, responseId: string, fileId: string, cited: Cited, now: number): boolean {
    const row = this.#store.latestVersion(fileId);
    if (!row || row.tenant !== tenant) return false;
    this.#store.cite(tenant, responseId, row.file_id, row.version, row.path, cited, now);
    return true;
  }

  /** The files of one response: everything it cited or its sweep found, plus unresolved paths (from R2 once the tracker emptied itself). */
  manifest(responseId: string, tenant?: string): ManifestEntry[] | Promise<ManifestEntry[]> {
    return this.#outlive.ended ? this.#outlive.manifestAfterEnd(responseId, tenant) : this.#manifestOf(responseId);
  }

  #manifestOf(responseId: string): ManifestEntry[] {
    const entries: ManifestEntry[] = this.#store.responseFiles(responseId).map((f) => ({
      container_id: f.container_id,
      file_id: f.file_id,
      version: f.version,
      path: f.path,
      filename: f.filename,
      state: f.state,
      bytes: f.bytes,
      content_type: f.content_type,
      sha256: f.sha256,
      cited: f.cited_list.split(",") as Cited[],
      reason: f.reason,
    }));
    const containerId = this.#store.container()?.id ?? "";
    for (const c of this.#store.claimsIn(responseId, ["pending", "missing", "unavailable"])) {
      const state = c.state === "missing" || c.state === "unavailable" ? c.state : "pending";
      entries.push({
        container_id: containerId,
        file_id: null,
        version: null,
        path: c.path,
        filename: basename(c.path),
        state,
        bytes: null,
        content_type: null,
        sha256: null,
        cited: [c.cited],
        reason:
          state === "missing"
            ? reasonText({ code: "never_listed" })
            : state === "unavailable"
              ? reasonText({ code: "no_containers_api" })
              : null,
      });
    }
    return entries;
  }

  /**
   * Waits up to `ms` until no entry of the response's manifest is `pending` or `copying`, then
   * returns the manifest as it stands (the caller decides what to do with files still copying).
   */
  async waitForStored(responseId: string, ms: number, tenant?: string): Promise<ManifestEntry[]> {
    if (this.#outlive.ended) return this.#outlive.manifestAfterEnd(responseId, tenant);
    const deadline = Date.now() + Math.max(0, Math.min(ms, 120_000));
    for (;;) {
      const m = this.#manifestOf(responseId);
      if (m.every((e) => FINAL_STATES.has(e.state)) || Date.now() >= deadline) return m;
      await this.#waiters.changed(deadline - Date.now());
    }
  }

  /**
   * Stores a figure that arrived inline in a tool output (`data:image/png;base64,…`): content-
   * addressed, cited as `figure`, and immediately `stored` (./inline.ts).
   */
  async storeInline(input: StoreInlineInput): Promise<ManifestEntry> {
    const p = StoreInlineSchema.parse(input);
    const containerId = this.#outlive.ended ? undefined : this.#store.container()?.id;
    if (!containerId)
      throw new TrackerError("not_opened", "storeInline needs the container to be opened or tracked first");
    this.#checkTenant(p.tenant);
    const fileId = await this.#inline.store(p, containerId);
    return this.#manifestOf(p.responseId).find((e) => e.file_id === fileId)!;
  }

  /**
   * What a link path of `responseId` means in this container: the version that response cited
   * (its own, even when an earlier turn holds the same file id: see `versionDecision`), else
   * pending while its harvest still runs, else the newest version written at that path no later
   * than the response, else missing.
   */
  resolvePath(input: { tenant: string; responseId: string; path: string }): PathResolution {
    return this.#resolvePath(input);
  }

  #resolvePath(input: { tenant: string; responseId: string; path: string }): PathResolution {
    if (this.#outlive.ended) return { kind: "unknown" };
    const containerId = this.#store.container()?.id;
    const resp = this.#store.response(input.responseId);
    if (!containerId || !resp || resp.tenant !== input.tenant) return { kind: "unknown" };
    const hit = (v: { file_id: string; version: number }): PathResolution => ({
      kind: "file",
      containerId,
      fileId: v.file_id,
      version: v.version,
    });
    const cited = this.#store.citedAt(input.responseId, input.path);
    if (cited) return hit(cited);
    const claim = this.#store.claim(input.responseId, input.path);
    if (claim?.state === "resolved" && claim.file_id) return hit({ file_id: claim.file_id, version: claim.version! });
    if (claim?.state === "missing") return { kind: "missing" };
    // While the response's harvest runs, a path it has not resolved is pending, not an older
    // write: its own turn may have written it (under the same id, too: docs/assumptions.md §4).
    if (resp.sweep_next_at !== null || claim?.state === "pending") return { kind: "pending" };
    const older = this.#store.writtenBefore(input.path, (resp.created_at ?? Number.MAX_SAFE_INTEGER) + CREATED_SLACK_S);
    return older ? hit(older) : { kind: "missing" };
  }

  /**
   * Like `resolvePath`, but waits up to `ms` while the path is `pending` (the response's sweep still
   * runs, or its claim is not resolved yet), so the response's index asks once and is answered when
   * this tracker knows, not by asking again (src/harvest/resolve-link.ts). Woken by every file state
   * change, claim resolution, closed sweep window, `track` and alarm run (./context.ts `Waiters`).
   *
   * `expected`: the index registered this response with this container moments ago, and the
   * harvest's `open`/`track` runs beside that registration (harvest/harvest.ts), so a response this
   * tracker has not heard of yet is waited for too, not answered `unknown` (which would read as
   * "never produced").
   */
  async waitForPath(
    input: { tenant: string; responseId: string; path: string },
    ms: number,
    expected = false,
  ): Promise<PathResolution> {
    const deadline = Date.now() + Math.max(0, Math.min(ms, 60_000));
    for (;;) {
      const r = this.#resolvePath(input);
      // A `track` under way may not have recorded this response's paths yet (it lists the
      // container before it records them): its answer is the one to wait for.
      const waiting =
        r.kind === "pending" ||
        (r.kind !== "file" && this.#tracking.size > 0) ||
        (expected && r.kind === "unknown" && this.#unheard(input));
      if (!waiting || Date.now() >= deadline) return r;
      await this.#waiters.changed(deadline - Date.now());
    }
  }

  /** Whether this tracker has not heard of the response yet (never opened, or opened for other responses of the tenant). */
  #unheard(input: { tenant: string; responseId: string }): boolean {
    if (this.#outlive.ended) return this.#store.ended.owner() === null;
    const c = this.#store.container();
    return (!c || c.tenant === input.tenant) && !this.#store.response(input.responseId);
  }

  /** One file version, or null if unknown here or owned by another tenant. */
  lookup(input: { tenant: string; fileId: string; version: number }): FileRecord | null {
    if (this.#outlive.ended) return null;
    const f = this.#store.file(input.fileId, input.version);
    return f && f.tenant === input.tenant ? fileRecord(f) : null;
  }

  /**
   * Every file of the container this tenant owns, newest version of each, oldest first: what the
   * `/v1/containers/{id}/files` routes serve once the container is gone upstream.
   */
  files(input: { tenant: string }): ContainerFileRecord[] {
    if (this.#outlive.ended) return [];
    return this.#store.tenantFiles(input.tenant).map((f) => ({
      ...fileRecord(f),
      upstreamCreatedAt: f.upstream_created_at,
      firstResponseId: f.first_response_id,
      source: f.source,
    }));
  }

  /**
   * Deletes unsandbox's copies: every version a response cited (or its sweep found), or every
   * version of one file id. Objects go from R2, unfinished copies are cancelled, and each row
   * stays as a `deleted` tombstone so its links answer 410. Upstream is not touched here (the
   * route does that only when asked explicitly). Another tenant's container is refused with a
   * tagged result, not an error.
   */
  async deleteFiles(input: DeleteFilesInput): Promise<DeleteFilesResult> {
    const p = DeleteFilesSchema.parse(input);
    if (this.#outlive.ended)
      return { kind: "deleted", files: p.fileId ? await this.#outlive.deleteVersionsAfterEnd(p.tenant, p.fileId) : [] };
    const container = this.#store.container();
    if (!container) return { kind: "deleted", files: [] };
    if (container.tenant !== p.tenant) return { kind: "refused", code: "foreign_tenant" };
    const rows = p.responseId ? this.#store.citedVersions(p.responseId) : this.#store.versionsOf(p.fileId!);
    const now = Date.now();
    const files: DeletedFile[] = [];
    for (const f of rows) {
      if (f.tenant !== p.tenant) continue;
      await this.#copies.cancel(f.file_id, f.version);
      await this.env.FILES.delete(f.r2_key);
      if (f.state !== "deleted")
        this.#store.setState(f.file_id, f.version, "deleted", { code: "deleted_on_request", at: now }, Date.now());
      files.push({
        container_id: f.container_id,
        file_id: f.file_id,
        version: f.version,
        path: f.path,
        previous_state: f.state,
      });
    }
    // A copy running right now may still finish its step; its result is ignored (see Copies).
    await this.#armAlarm();
    return { kind: "deleted", files };
  }

  /** Optional repair, step 1 (see ./repair.ts): the unresolved paths when this call took the one attempt, else null. */
  beginRepair(input: { tenant: string; responseId: string }): string[] | null {
    if (this.#outlive.ended) return null;
    return this.#repair.begin(input.tenant, input.responseId);
  }

  /** Optional repair, step 2 (see ./repair.ts): adopts what the repair turn wrote; returns the paths that now resolve. */
  adoptRepair(input: { tenant: string; responseId: string; repairResponseId: string; paths: string[] }): string[] {
    if (this.#outlive.ended) return [];
    this.#checkTenant(input.tenant);
    return this.#repair.adopt(input.tenant, input.responseId, input.repairResponseId, input.paths);
  }

  /** Like `lookup`, but waits up to `ms` while the file is `pending` or `copying`. */
  async waitForFile(
    input: { tenant: string; fileId: string; version: number },
    ms: number,
  ): Promise<FileRecord | null> {
    const deadline = Date.now() + Math.max(0, Math.min(ms, 60_000));
    for (;;) {
      const rec = this.lookup(input);
      if (!rec || FINAL_STATES.has(rec.state) || Date.now() >= deadline) return rec;
      await this.#waiters.changed(deadline - Date.now());
    }
  }

  // ───────────────────────────── alarm ─────────────────────────────

  /**
   * Runs what is due (the expiry first, so overdue work ends before any upstream call; then the
   * final sweep, sweeps, repairs, copy steps, retention), then arms the alarm for the earliest
   * `nextWake`. Never throws: a failure becomes an item's backoff, not a platform retry. A tenant
   * revoked (or deleted) ends the container; a run that fails as a whole backs the alarm off
   * (`alarmRetryAt`) instead of re-arming it at once.
   */
  override async alarm(): Promise<void> {
    try {
      await this.#runAlarm();
    } finally {
      // Whatever the run changed (a listing resolved a claim, the sweep window closed, the
      // container ended), a `waitForPath` or `waitForFile` parked on it looks again.
      this.#waiters.notify();
    }
  }

  async #runAlarm(): Promise<void> {
    if (this.#outlive.ended) return this.#outlive.runEnded(Date.now());
    let failed = false;
    try {
      // If this instance is evicted mid-copy, this heartbeat brings the work back.
      await this.ctx.storage.setAlarm(Date.now() + HEARTBEAT_MS);
      const now = Date.now();
      await this.#copies.expireOverdue(now);
      await this.#ctx.usage.flushDue();
      await this.#sweeps.finalSweep(now);
      // A response's `track` still under way records its files first (see `track`).
      await this.#after([...this.#tracking]);
      await this.#sweeps.runDue(now);
      await this.#repair.runDue(now);
      await this.#copies.runDue();
      await this.#lifecycle.applyRetention(Date.now());
      if (await this.#lifecycle.clearIfUnreachable(Date.now())) return;
      if (await this.#outlive.settleIfOver(Date.now())) return;
    } catch (err) {
      const row = this.#store.container();
      if (err instanceof TenantRevokedError) {
        await this.#copies.abortAll();
        this.#store.endContainer("revoked", Date.now());
        logEvent("info", "tracker_tenant_revoked", { tenant: row?.tenant ?? null, containerId: row?.id ?? null });
      } else {
        failed = true;
        logEvent("error", "tracker_alarm_failed", {
          tenant: row?.tenant ?? null,
          containerId: row?.id ?? null,
          ...errorFields(err),
        });
      }
    }
    this.#alarmFailures = failed ? this.#alarmFailures + 1 : 0;
    await this.#armAlarm();
  }

  /** Arms the one alarm for the earliest time a capability needs it, or clears it when none does. */
  async #armAlarm(): Promise<void> {
    if (this.#outlive.ended) return; // its alarm is its own (./outlive.ts)
    const now = Date.now();
    let at = nextWake([
      this.#copies.nextWake(now),
      this.#sweeps.nextWake(),
      this.#repair.nextWake(),
      this.#lifecycle.nextWake(),
      this.#ctx.usage.nextWake(now),
      this.#outlive.nextWake(now),
    ]);
    if (at !== null && this.#alarmFailures > 0) at = alarmRetryAt(at, now, this.#alarmFailures);
    if (at === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(Math.max(now, at));
  }

  // ───────────────────────────── tenancy ─────────────────────────────

  /**
   * Upstream with the key this container's work needs: a pass-through caller's own (kept sealed,
   * since the deployment's key cannot see that caller's containers), a multi-tenant tenant's, or
   * the deployment's. Reached through the same helper as the proxy (so UPSTREAM_AUTH_HEADER and
   * UPSTREAM_QUERY apply).
   */
  async #upstream(): Promise<UpstreamAccess> {
    const cfg = loadConfig(this.env);
    const c = this.#store.container();
    if (!c) return targetOf(cfg);
    const key = c.upstream_key_sealed
      ? await keyForLaterWork(this.env, cfg, c.tenant, c.upstream_key_sealed, this)
      : (await this.#ctx.tenant.load(c.tenant)).upstreamKey;
    return targetOf({ ...cfg, OPENAI_API_KEY: key });
  }

  #checkTenant(tenant: string): void {
    const c = this.#store.container();
    if (c && c.tenant !== tenant) throw new TrackerError("foreign_tenant", "this container belongs to another tenant");
  }

  /**
   * The first tenant to name a container owns it; everyone else is refused. A pass-through
   * caller's sealed key (the tenant is derived from that key, so it is always the same key) is
   * kept for the reads after the request, and forgotten once the container is over.
   */
  #claimContainer(tenant: string, containerId: string, upstreamKeySealed?: string | null): void {
    const c = this.#store.container();
    if (!c) return this.#store.insertContainer(containerId, tenant, Date.now(), upstreamKeySealed ?? null);
    if (c.id !== containerId)
      throw new TrackerError("wrong_container", `this tracker tracks ${c.id}, not ${containerId}`);
    if (c.tenant !== tenant) throw new TrackerError("foreign_tenant", "this container belongs to another tenant");
    if (upstreamKeySealed) this.#store.keepSealedKey(upstreamKeySealed);
  }

  #upsertResponse(
    tenant: string,
    responseId: string,
    createdAt: number,
    sweepNextAt: number | null,
    sweepUntil: number | null,
  ): void {
    const row = this.#store.response(responseId);
    if (row && row.tenant !== tenant)
      throw new TrackerError("foreign_tenant", "this response belongs to another tenant");
    if (!row) this.#store.insertResponse(tenant, responseId, createdAt, sweepNextAt, sweepUntil);
    else if (sweepNextAt !== null) this.#store.restartSweep(responseId, createdAt, sweepNextAt, sweepUntil);
  }
}
