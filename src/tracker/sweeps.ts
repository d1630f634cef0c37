/**
 * @module tracker/sweeps
 * The listing side of the tracker: reading the container (listing and record, with their failure
 * classes), attributing listed files to responses, recording file versions and citations, and the
 * bounded sweep schedule (the late-registration window after `track`, the watch while a stream is
 * `open`, and the one final sweep before the computed expiry). Rules from ./policy.ts; rows
 * through ./store.ts.
 */
import { contentTypeFor } from "../http/content-type";
import { PART_SIZE } from "../storage/copy";
import { fileObjectKey } from "../storage/keys";
import {
  listContainerFiles,
  retrieveContainer,
  UpstreamError,
  type ContainerFile,
  type ContainerInfo,
  type UpstreamAccess,
} from "../upstream/containers";
import type { Capability, TrackerContext } from "./context";
import {
  attributionWindow,
  failedSweep,
  FINAL_SWEEP_LEAD_MS,
  basename,
  clientActivity,
  computedExpiry,
  isLive,
  isOutputOf,
  matchClaim,
  nextSweep,
  skipReason,
  SWEEP_SHARE_MS,
  sweepsServed,
  versionDecision,
  copyBeganBefore,
  type KnownVersion,
  type TurnEnd,
} from "./policy";
import type { ContainerRow, FileRow } from "./rows";
import { TenantUnavailableError } from "./tenant-view";
import { TrackerError, type Cited } from "./types";

/** The container row as the policy reads it. */
export const clockOf = (c: ContainerRow) => ({
  openedAt: c.opened_at,
  clientActiveAt: c.client_active_at,
  expiresAfterMinutes: c.expires_after_minutes,
});

/** A listing: the files, or why there are none this time (`retryAfterMs` when upstream said). */
export type Listing = { ok: true; files: ContainerFile[] } | { ok: false; retryAfterMs?: number };

/** A file version this tracker recorded. */
export interface Version {
  fileId: string;
  version: number;
}

export class Sweeps implements Capability {
  constructor(private readonly ctx: TrackerContext) {}

  /** Whether the container may still be read (see `isLive`). */
  live(): boolean {
    const c = this.ctx.store.container();
    return isLive(c && { status: c.status, finalSweptAt: c.final_swept_at });
  }

  /** The computed expiry of the container (`computedExpiry`). */
  expiry(): number {
    const c = this.ctx.store.container();
    return computedExpiry(c && clockOf(c));
  }

  /** A client used the container: its expiry moves, and so does the final sweep before it. */
  clientActivity(now: number): void {
    const c = this.ctx.store.container();
    if (!c || !this.live()) return;
    const next = clientActivity(clockOf(c), now);
    this.ctx.store.setClientActivity(next.clientActiveAt, next.finalSweepAt);
  }

  /**
   * Lists the container. "Container is expired." ends it; a 404 on the route itself means the
   * upstream has no Containers API (`unavailable`, no retry loop); other failures leave the
   * bounded sweep schedule to try again, after upstream's `Retry-After` when it sent one.
   */
  async list(up: UpstreamAccess): Promise<Listing> {
    try {
      return { ok: true, files: await listContainerFiles(up, this.ctx.store.container()!.id) };
    } catch (err) {
      if (err instanceof UpstreamError && err.failure === "expired")
        this.ctx.store.endContainer("gone", this.ctx.now());
      if (err instanceof UpstreamError && err.failure === "no_api")
        this.ctx.store.endContainer("unavailable", this.ctx.now());
      return err instanceof UpstreamError && err.retryAfterMs !== undefined
        ? { ok: false, retryAfterMs: err.retryAfterMs }
        : { ok: false };
    }
  }

  /** Retrieves the container once: null = gone, undefined = unknown (a transient failure). */
  async retrieve(up: UpstreamAccess, containerId: string): Promise<ContainerInfo | null | undefined> {
    try {
      return await retrieveContainer(up, containerId);
    } catch (err) {
      if (err instanceof UpstreamError && err.failure === "no_api")
        this.ctx.store.endContainer("unavailable", this.ctx.now());
      return undefined;
    }
  }

  /** Records what a retrieve said; true when the container is over upstream. */
  noteContainer(info: ContainerInfo | null | undefined, now: number): boolean {
    if (info === undefined) return false;
    if (info !== null) this.ctx.store.recordContainerInfo(info, now);
    if (info === null || info.status === "expired" || info.status === "deleted") {
      this.ctx.store.endContainer("gone", now);
      return true;
    }
    return false;
  }

  /**
   * The version of a listed file for a response: the one it already cites, or the newest one if
   * upstream still describes the same bytes and no earlier turn recorded it; else a new version
   * with its own copy job (or `skipped` past a limit). A `failed` version cited again gets a fresh
   * job. A file an earlier turn recorded and upstream describes unchanged is this response's only
   * when it names the file (`cited`): then it gets a version of its own, copied after this turn
   * ended, since the turn may have rewritten it in place (`later_turn`), or shares the earlier one
   * while that copy has not begun; found by a sweep only (`listed`), it stays the earlier turn's
   * output (null) unless written since this turn started. `end`: when the response ended (`track`).
   * @throws TrackerError `foreign_tenant` when another tenant owns the file id.
   */
  ensureVersion(
    tenant: string,
    f: ContainerFile,
    responseId: string,
    how: "cited" | "listed",
    end?: TurnEnd,
  ): Version | null {
    const { store } = this.ctx;
    const latest = store.latestVersion(f.id);
    const now = this.ctx.now();
    if (latest && latest.tenant !== tenant)
      throw new TrackerError("foreign_tenant", "this file belongs to another tenant");
    const order = latest ? store.versions.turnOrder(responseId) : null;
    const own = latest && order ? store.versions.citedVersion(responseId, f.id) : undefined;
    const known = (v: FileRow): KnownVersion => ({
      version: v.version,
      upstreamCreatedAt: v.upstream_created_at,
      path: v.path,
      state: v.state,
      recordedBy: v.first_response_id ? store.versions.turnOrder(v.first_response_id) : null,
      copyBegan: copyBeganBefore({ fileId: v.file_id, version: v.version, state: v.state, stateAt: v.state_at }, end),
    });
    const decision = versionDecision(
      latest && known(latest),
      f,
      order ? { order, named: how === "cited", ...(own ? { own: known(own) } : {}) } : undefined,
    );
    if (decision.kind === "same") {
      if (decision.requeue) {
        store.setState(f.id, decision.version, "pending", null, now);
        store.copyJobs.add(tenant, f.id, decision.version, now, PART_SIZE);
      }
      return { fileId: f.id, version: decision.version };
    }
    if (decision.kind === "not_own") return null;
    const containerId = store.container()!.id;
    const filename = basename(f.path) || f.id;
    const skipped = skipReason(this.ctx.tenant.cached(tenant), store.countedFiles(responseId), filename);
    store.insertListedFile({
      fileId: f.id,
      version: decision.version,
      tenant,
      containerId,
      path: f.path,
      filename,
      source: f.source ?? null,
      upstreamCreatedAt: f.created_at,
      bytes: f.bytes ?? null,
      contentType: contentTypeFor(filename),
      skipped,
      r2Key: fileObjectKey({ tenant, containerId, fileId: f.id, version: decision.version }),
      responseId,
      now,
    });
    if (!skipped) store.copyJobs.add(tenant, f.id, decision.version, now, PART_SIZE);
    return { fileId: f.id, version: decision.version };
  }

  /**
   * Records a version for a response and cites it; a path it was linked by resolves to it. A file
   * found by a sweep (`listing`) that an earlier turn already holds unchanged is not cited (null).
   */
  citeListed(
    tenant: string,
    responseId: string,
    f: ContainerFile,
    cited: Cited,
    linkedPath?: string | null,
    end?: TurnEnd,
  ): Version | null {
    const v = this.ensureVersion(tenant, f, responseId, cited === "listing" ? "listed" : "cited", end);
    if (!v) return null;
    this.ctx.store.cite(tenant, responseId, v.fileId, v.version, f.path, cited, this.ctx.now());
    if (linkedPath && linkedPath !== f.path) this.ctx.store.resolveClaim(responseId, linkedPath, v.fileId, v.version);
    return v;
  }

  /**
   * Files first listed for a response: its outputs in its attribution window (`isOutputOf`), and
   * the files its pending linked paths name (`matchClaim`). `end`: when the response ended, for
   * the listing its `track` made.
   */
  applyListing(responseId: string, listing: readonly ContainerFile[], end?: TurnEnd): void {
    const { store } = this.ctx;
    const resp = store.response(responseId);
    if (!resp) return;
    const window = attributionWindow(resp.created_at, store.nextResponseStart(resp.created_at ?? 0));
    for (const f of listing) {
      if (isOutputOf(window, f)) this.citeListed(resp.tenant, responseId, f, "listing", null, end);
    }
    for (const claim of store.claimsIn(responseId, ["pending"])) {
      const match = matchClaim(window, claim.path, listing);
      if (!match) continue;
      const v = this.citeListed(resp.tenant, responseId, match, claim.cited, null, end);
      if (v) store.resolveClaim(responseId, claim.path, v.fileId, v.version);
    }
    this.ctx.waiters.notify();
  }

  /** Counts one sweep of a response and schedules the next, or closes its window (and maybe schedules repair). */
  swept(responseId: string, now: number): void {
    const { store } = this.ctx;
    const current = store.response(responseId);
    if (!current || current.sweep_next_at === null) return;
    const attempts = current.sweep_attempts + 1;
    const next = nextSweep(attempts, now, current.sweep_until);
    if (next.kind === "closed") {
      store.closeSweep(responseId, attempts, now);
      store.scheduleRepair(responseId, now);
      this.ctx.waiters.notify();
    } else {
      store.scheduleSweep(responseId, next.at, attempts, now);
    }
  }

  /**
   * A listing for the response failed (or there was no key to list with): the next one backs off
   * (`failedSweep`) and the failed time does not count against the window. A backoff that would
   * run past the final sweep closes the window.
   */
  failed(responseId: string, now: number, retryAfterMs?: number): void {
    const { store } = this.ctx;
    const current = store.response(responseId);
    if (!current || current.sweep_next_at === null) return;
    const failures = current.sweep_failures + 1;
    const next = failedSweep(failures, now, current.sweep_until, this.expiry() - FINAL_SWEEP_LEAD_MS, retryAfterMs);
    if (next.kind === "closed") {
      store.closeSweep(responseId, current.sweep_attempts, now);
      store.scheduleRepair(responseId, now);
      this.ctx.waiters.notify();
    } else {
      store.retrySweep(responseId, next.at, next.until, failures);
    }
  }

  /**
   * Runs the due sweeps of the alarm with one listing of the container (`sweepsServed`: the sweeps
   * due, and watch sweeps due shortly). A failure (of the listing, or of the tenant's key lookup)
   * backs off each of those sweeps as it would have alone; a revoked tenant propagates (the tracker
   * ends).
   */
  async runDue(now: number): Promise<void> {
    // The earliest sweep is usually remembered from the last arming (../durable/read-memo.ts):
    // a run with no sweep due reads nothing.
    const earliest = this.ctx.store.earliestSweep();
    if (earliest === null || earliest > now) return;
    const served = sweepsServed(this.ctx.store.dueSweeps(now + SWEEP_SHARE_MS), now);
    if (served.length === 0) return;
    const up = await this.ctx.upstream().catch((err: unknown) => {
      if (err instanceof TenantUnavailableError) return null;
      throw err;
    });
    const listing: Listing = up ? await this.list(up) : { ok: false };
    for (const r of served) {
      if (listing.ok) {
        this.applyListing(r.response_id, listing.files);
        this.swept(r.response_id, this.ctx.now());
      } else {
        this.failed(r.response_id, this.ctx.now(), listing.retryAfterMs);
      }
    }
  }

  /**
   * The final sweep, once, shortly before the computed expiry: one listing that attributes files
   * written since to the newest response. After it this tracker reads the container no more
   * (only the copies of what it found remain), so it never keeps a container alive on its own.
   */
  async finalSweep(now: number): Promise<void> {
    const c = this.ctx.store.container();
    if (!c || c.final_sweep_at === null || c.final_sweep_at > now || !this.live()) return;
    const latest = this.ctx.store.latestResponse();
    const up = await this.ctx.upstream().catch((err: unknown) => {
      if (err instanceof TenantUnavailableError) return null;
      throw err;
    });
    const listing: Listing = up ? await this.list(up) : { ok: false };
    if (listing.ok && latest) this.applyListing(latest.response_id, listing.files);
    this.ctx.store.endContainer("final_sweep", now);
  }

  nextWake(): number | null {
    const c = this.ctx.store.container();
    const sweep = this.ctx.store.earliestSweep();
    const final = c && c.final_sweep_at !== null && this.live() ? c.final_sweep_at : null;
    return sweep === null ? final : final === null ? sweep : Math.min(sweep, final);
  }
}
