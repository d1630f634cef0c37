/**
 * @module tracker/policy
 * The ContainerTracker's rules, pure: no I/O, no SQL, no clock (every `now` is passed in). The
 * store (./store.ts) keeps the rows and the capabilities (./sweeps.ts, ./copies.ts,
 * ./lifecycle.ts, ./repair.ts) do the I/O; what they decide comes from here, so each rule is unit
 * tested without workerd (./policy.test.ts).
 *
 * Why alarms drive the work: a Durable Object awaiting a `fetch` with no incoming event is evicted
 * after a while, while an alarm handler may run for up to 15 minutes
 * (https://developers.cloudflare.com/durable-objects/platform/limits/ and
 * https://developers.cloudflare.com/durable-objects/api/alarms/). Nothing relies on the platform's
 * alarm retries (six, with exponential backoff from 2 s): a failure becomes a job's own backoff.
 */
import type { CopyResult } from "../storage/copy";
import { blockedExtension, type StorageLimits } from "../storage/limits";
import type { ContainerFile } from "../upstream/containers";
import { backoffMs } from "./backoff";
import { FILE_STATES, type FileState } from "./types";

/** Copies running at once per container; each holds an upstream fetch and an R2 upload open. */
export const MAX_CONCURRENT_COPIES = 2;
/**
 * Parts one copy step may upload (160 × 8 MiB = 1.25 GiB, so a 1 GiB file, which ends exactly on
 * a part boundary, is still one step). Large on purpose: when upstream ignores
 * `Range` (as the real content endpoint does), every further step downloads the file again from
 * byte 0 to skip what is stored, so small steps multiply the bytes fetched.
 */
export const PARTS_PER_STEP = 160;
/** Copy steps per alarm run (each at most `PARTS_PER_STEP` parts); the next alarm continues. */
export const STEPS_PER_RUN = 16;
/**
 * Parts all steps of one alarm run may upload together, so the run's subrequests stay bounded
 * (about this many part uploads plus a few calls per step) and its wall time far inside the
 * alarm's 15 minutes at the throughput a container serves.
 */
export const PARTS_PER_RUN = 320;
/** `expires_after.minutes` when upstream did not say (the API's documented default). */
export const DEFAULT_EXPIRES_AFTER_MIN = 20;
/** The final sweep runs this long before the computed expiry, leaving time to copy what it finds. */
export const FINAL_SWEEP_LEAD_MS = 3 * 60_000;
/** No copy attempt is scheduled later than this before the computed expiry. */
export const EXPIRY_MARGIN_MS = 15_000;
/** Files listed up to this long before the response's `created_at` still count as its outputs (clock skew). */
export const CREATED_SLACK_S = 5;
/**
 * How long after `track` the listing is re-read for files that register late (at 1, 2, 4 and 8 s
 * after the first listing: the "once more after a short delay" sweep, made robust to a listing
 * that lags by a few seconds). After it, the only read left is the final sweep before expiry.
 */
export const SWEEP_WINDOW_MS = 16_000;
/** While a response is only `open` (still streaming), the listing is watched this long. */
export const WATCH_WINDOW_MS = 10 * 60_000;
/** During an alarm run the alarm is re-armed this far ahead, so an eviction mid-copy still leads to a retry. */
export const HEARTBEAT_MS = 30_000;

/** States after which a file changes no more on its own: all but `pending` and `copying` (types.ts). */
export const FINAL_STATES: ReadonlySet<FileState> = new Set(
  FILE_STATES.filter((state) => state !== "pending" && state !== "copying"),
);

export const basename = (path: string) => path.slice(path.lastIndexOf("/") + 1);
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const isoTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");

// ───────────────────────────── reasons ─────────────────────────────

/** A reason: its code (`ReasonCode`, ./types.ts) and the details its sentence needs. */
export type Reason =
  | { code: "container_expired" | "no_containers_api" | "junk" | "never_listed" | "tenant_revoked" }
  | { code: "expired_before_copy"; expiry: number }
  | { code: "retries_exhausted"; expiry: number; attempts: number; lastError: string }
  | { code: "limit_files_per_response"; limit: number }
  | { code: "limit_bytes"; which: "file" | "tenant"; limit: number; used: number }
  | { code: "blocked_extension"; extension: string }
  | { code: "no_content"; upstream: string }
  | { code: "deleted_on_request" | "deleted_by_retention"; at: number };

/** Why nothing can be copied through an upstream without the Containers API. */
export const UNAVAILABLE_REASON =
  "the upstream has no Containers API (404 on the route itself), so unsandbox cannot copy files from it";

/** The human sentence of a reason (the manifest's `reason`, the download page's explanation). */
export function reasonText(r: Reason): string {
  switch (r.code) {
    case "container_expired":
      return "the container expired before the file was copied";
    case "no_containers_api":
      return UNAVAILABLE_REASON;
    case "junk":
      return "junk: a listing entry with no content";
    case "tenant_revoked":
      return "the tenant was revoked (or no longer exists) before the file was copied";
    case "never_listed":
      return "the model referred to this path but no such file was ever listed";
    case "expired_before_copy":
      return `the container expired (about ${isoTime(r.expiry)}) before the copy succeeded`;
    case "retries_exhausted":
      return `the container expired (about ${isoTime(r.expiry)}) before the copy succeeded; last error after ${r.attempts} attempts: ${r.lastError}`;
    case "limit_files_per_response":
      return `limit: the response already has ${r.limit} files (files_per_response)`;
    case "limit_bytes":
      return r.which === "file"
        ? `limit: larger than allowed by bytes_per_file (${r.limit} bytes)`
        : `limit: larger than allowed by bytes_per_tenant (${r.limit} bytes, ${r.used} already stored)`;
    case "blocked_extension":
      return `blocked: .${r.extension} files are not stored (blocked_extensions)`;
    case "no_content":
      return `the container listed this file but has no content for it (${r.upstream})`;
    case "deleted_on_request":
      return `deleted on request on ${isoDay(r.at)}`;
    case "deleted_by_retention":
      return `deleted by retention on ${isoDay(r.at)}`;
  }
}

// ───────────────────────────── attribution ─────────────────────────────

/**
 * Paths that are scratch, not output: hidden files, caches, editor and notebook leftovers, and
 * listing entries whose path is several paths run together (observed: "files with data appended
 * to their names"), which have no content.
 */
export function isJunkPath(path: string): boolean {
  const name = basename(path);
  return (
    name === "" ||
    path.indexOf("/mnt/data/", 1) !== -1 ||
    name.startsWith(".") ||
    name.startsWith("~$") ||
    name.endsWith("~") ||
    /\.(tmp|temp|pyc|lock|swp|part|crdownload)$/i.test(name) ||
    /(^|\/)(__pycache__|\.ipynb_checkpoints|\.cache|\.local|\.config)(\/|$)/.test(path)
  );
}

/** The span of upstream `created_at` (unix s) whose files are a response's own. */
export interface AttributionWindow {
  since: number;
  /** The next response's `created_at` in this container (exclusive), or null. */
  until: number | null;
}

/**
 * A response's window: from its `created_at` less the slack, up to the start of the next response
 * in the container (a chat's next turn often starts inside this one's sweep window).
 */
export function attributionWindow(createdAt: number | null, nextCreatedAt: number | null): AttributionWindow {
  return { since: (createdAt ?? 0) - CREATED_SLACK_S, until: nextCreatedAt };
}

export function inWindow(w: AttributionWindow, createdAt: number): boolean {
  return createdAt >= w.since && (w.until === null || createdAt < w.until);
}

/** Whether a listed file counts as the response's output: assistant-written, in its window, not junk. */
export function isOutputOf(w: AttributionWindow, f: ContainerFile): boolean {
  return (f.source ?? "assistant") === "assistant" && inWindow(w, f.created_at) && !isJunkPath(f.path);
}

/**
 * The listed file a linked path names. A bare name matches by basename. Newest first; within one
 * second, the later listing position (the listing is oldest first) is the later write. The
 * response's own write wins; else an earlier one (a link to a file of a previous turn); never a
 * later response's rewrite of the path.
 */
export function matchClaim(
  w: AttributionWindow,
  path: string,
  listing: readonly ContainerFile[],
): ContainerFile | null {
  const bare = !path.includes("/");
  const matches = listing
    .map((f, i) => ({ f, i }))
    .filter(({ f }) => f.path === path || (bare && basename(f.path) === path))
    .sort((a, b) => b.f.created_at - a.f.created_at || b.i - a.i)
    .map(({ f }) => f);
  return matches.find((f) => inWindow(w, f.created_at)) ?? matches.find((f) => f.created_at < w.since) ?? null;
}

// ───────────────────────────── versions ─────────────────────────────

// The version rules (same id, path and `created_at`, or a later turn's own) are in ./version-policy.ts.
export * from "./version-policy";

/**
 * Limits against runaway answers: past `filesPerResponse` files (explicit citations are recorded
 * first, so they win) or with a blocked extension, a new version is recorded `skipped`, no copy.
 * @param counted files of the response already recorded and not skipped.
 */
export function skipReason(limits: StorageLimits, counted: number, filename: string): Reason | null {
  const blocked = blockedExtension(filename, limits.blockedExtensions);
  if (blocked !== null) return { code: "blocked_extension", extension: blocked };
  if (counted >= limits.filesPerResponse) return { code: "limit_files_per_response", limit: limits.filesPerResponse };
  return null;
}

// ───────────────────────────── sweeps and expiry ─────────────────────────────

export type SweepNext = { kind: "again"; at: number } | { kind: "closed" };

/**
 * After a listing failed (`failures` in a row, 1-based): the next attempt backs off with jitter
 * and never comes sooner than upstream's `Retry-After`; the window is paused for that time (it is
 * moved on by the wait), so a rate-limit storm longer than the window does not close it with
 * nothing listed and mark linked files `missing`. Bounded by `limit` (the final sweep, which reads
 * the listing once more): a retry that would land after it closes the window instead.
 */
export function failedSweep(
  failures: number,
  now: number,
  until: number | null,
  limit: number,
  retryAfterMs?: number,
  random?: () => number,
): { kind: "again"; at: number; until: number | null } | { kind: "closed" } {
  const wait = backoffMs(failures, retryAfterMs, random);
  const at = now + wait;
  if (at > limit) return { kind: "closed" };
  return { kind: "again", at, until: until === null ? null : Math.min(limit, until + wait) };
}

/** After sweep number `attempts`: re-list at 1, 2, 4, 8 s… (capped at 10 s) until the window closes. */
export function nextSweep(attempts: number, now: number, until: number | null): SweepNext {
  const at = now + Math.min(10_000, 1_000 * 2 ** (attempts - 1));
  return until !== null && at > until ? { kind: "closed" } : { kind: "again", at };
}

/** How much earlier than due a watch sweep may run, to share a listing another sweep makes now. */
export const SWEEP_SHARE_MS = 1_000;

/**
 * Which sweeps one listing made at `now` serves: every sweep due by then, and a watch sweep (a
 * response still streaming: its window ends more than SWEEP_WINDOW_MS after the sweep is due)
 * due within SWEEP_SHARE_MS, counted as done early. A watch sweep only lets large files start
 * copying before the stream ends (the stream's `track` lists again), so it loses nothing by
 * coming a little early; a sweep of the late-registration window after `track` is never moved,
 * so that window keeps its full length. Nothing is listed early on its own: without a sweep due
 * now, none. Two turns of one conversation share the container and so the tracker; their
 * schedules interleave, and each listed the container on its own.
 */
export function sweepsServed<T extends { sweep_next_at: number | null; sweep_until: number | null }>(
  candidates: readonly T[],
  now: number,
): T[] {
  const due = (r: T) => r.sweep_next_at !== null && r.sweep_next_at <= now;
  const early = (r: T) =>
    r.sweep_next_at !== null &&
    r.sweep_next_at <= now + SWEEP_SHARE_MS &&
    (r.sweep_until === null || r.sweep_until - r.sweep_next_at > SWEEP_WINDOW_MS);
  if (!candidates.some(due)) return [];
  return candidates.filter((r) => due(r) || early(r));
}

/** The sweep schedule a new `open` or `track` starts: `[next, until]`, or nulls when it does not sweep. */
export function sweepSchedule(kind: "open" | "track", now: number, sweeping: boolean): [number | null, number | null] {
  if (!sweeping) return [null, null];
  return kind === "open" ? [now + 1_000, now + WATCH_WINDOW_MS] : [now, now + SWEEP_WINDOW_MS];
}

/** What the tracker knows about the container's life. */
export interface ContainerClock {
  openedAt: number;
  clientActiveAt: number | null;
  expiresAfterMinutes: number | null;
}

/**
 * The computed expiry: the last client activity plus `expires_after` (20 minutes unless upstream
 * said otherwise). Computed, never polled: reading the container may refresh `last_active_at`.
 */
export function computedExpiry(c: ContainerClock | undefined): number {
  if (!c) return Number.MAX_SAFE_INTEGER;
  return (c.clientActiveAt ?? c.openedAt) + (c.expiresAfterMinutes ?? DEFAULT_EXPIRES_AFTER_MIN) * 60_000;
}

/** A client used the container at `now`: its activity time and the final sweep before the new expiry. */
export function clientActivity(c: ContainerClock, now: number): { clientActiveAt: number; finalSweepAt: number } {
  const clientActiveAt = Math.max(now, c.clientActiveAt ?? 0);
  return { clientActiveAt, finalSweepAt: computedExpiry({ ...c, clientActiveAt }) - FINAL_SWEEP_LEAD_MS };
}

/** Whether the container may still be read: not expired, not unavailable, final sweep not done. */
export function isLive(c: { status: string | null; finalSweptAt: number | null } | undefined): boolean {
  return !c || (c.status !== "expired" && c.status !== "unavailable" && c.finalSweptAt === null);
}

/** The state a path that never resolved takes on a container in `status`. */
export function unresolvedClaimState(status: string | null | undefined): "pending" | "missing" | "unavailable" {
  return status === "unavailable" ? "unavailable" : status === "expired" ? "missing" : "pending";
}

/**
 * Why the container is over, and what that does to its rows (one transition, four causes):
 * - `final_sweep`: the last listing before the computed expiry ran; no more reads.
 * - `overdue`: the computed expiry passed (unfinished copies were lost one by one before).
 * - `unavailable`: the upstream has no Containers API; everything unfinished is `unavailable`.
 * - `gone`: upstream says the container expired; everything unfinished is `lost`.
 * - `revoked`: the tenant was revoked or deleted; nothing may be read for it any more, so
 *   everything unfinished is `lost` (retrying would only load the directory, forever).
 */
export type EndCause = "final_sweep" | "overdue" | "unavailable" | "gone" | "revoked";

export interface ContainerEnd {
  /** New `container.status`, or null to keep it. */
  status: "expired" | "unavailable" | null;
  finalSwept: boolean;
  /** What unfinished files (`pending`, `copying`) become, or null to leave them to their jobs. */
  unfinished: { state: FileState; reason: Reason } | null;
  dropJobs: boolean;
  dropParts: boolean;
  /** What pending path claims become. */
  claims: "missing" | "unavailable";
  /** Whether the caller's sealed key is forgotten (nothing left to read with it). */
  forgetKey: boolean;
}

export function containerEnd(cause: EndCause): ContainerEnd {
  switch (cause) {
    case "final_sweep":
      return {
        status: null,
        finalSwept: true,
        unfinished: null,
        dropJobs: false,
        dropParts: false,
        claims: "missing",
        forgetKey: false,
      };
    case "overdue":
      return {
        status: null,
        finalSwept: false,
        unfinished: null,
        dropJobs: false,
        dropParts: false,
        claims: "missing",
        forgetKey: true,
      };
    case "unavailable":
      return {
        status: "unavailable",
        finalSwept: false,
        unfinished: { state: "unavailable", reason: { code: "no_containers_api" } },
        dropJobs: true,
        dropParts: false,
        claims: "unavailable",
        forgetKey: false,
      };
    case "gone":
      return {
        status: "expired",
        finalSwept: false,
        unfinished: { state: "lost", reason: { code: "container_expired" } },
        dropJobs: true,
        dropParts: true,
        claims: "missing",
        forgetKey: true,
      };
    case "revoked":
      return {
        status: null,
        finalSwept: true,
        unfinished: { state: "lost", reason: { code: "tenant_revoked" } },
        dropJobs: true,
        dropParts: true,
        claims: "missing",
        forgetKey: true,
      };
  }
}

// ───────────────────────────── copies ─────────────────────────────

/**
 * The order due copy jobs run in: the files an answer points at (cited or linked in any way but
 * `listing`: an annotation, a link, whether the file was named by id or found for it by a
 * listing, an output item, a shown figure) before the files only a sweep found, then by due time
 * and file id. A container with many files (a paged listing of hundreds) may expire minutes after
 * the answer, and what the text links is what the reader clicks: it must not wait behind the
 * scratch files. The citations are read at each pick, so a file that a later claim resolves to
 * moves up the queue at once.
 */
export function copyOrder<J extends { next_attempt_at: number; file_id: string; cited: readonly string[] }>(
  jobs: readonly J[],
): J[] {
  const named = (j: J) => (j.cited.some((c) => c !== "listing") ? 0 : 1);
  return [...jobs].sort(
    (a, b) =>
      named(a) - named(b) ||
      a.next_attempt_at - b.next_attempt_at ||
      (a.file_id < b.file_id ? -1 : a.file_id > b.file_id ? 1 : 0),
  );
}

/** How many bytes one copy may store: the smaller of the per-file and the tenant's remaining allowance. */
export interface ByteAllowance {
  maxBytes: number;
  /** Why a too-large copy was refused, for its `skipped` reason. */
  refusal: Reason;
  /** The tenant has nothing left: no copy is attempted. */
  full: boolean;
}

export function byteAllowance(limits: StorageLimits, usedByTenant: number): ByteAllowance {
  const tenantRoom = Math.max(0, limits.bytesPerTenant - usedByTenant);
  const maxBytes = Math.min(limits.bytesPerFile, tenantRoom);
  const byFile = maxBytes === limits.bytesPerFile && tenantRoom !== 0;
  return {
    maxBytes,
    full: tenantRoom === 0,
    refusal: byFile
      ? { code: "limit_bytes", which: "file", limit: limits.bytesPerFile, used: usedByTenant }
      : { code: "limit_bytes", which: "tenant", limit: limits.bytesPerTenant, used: usedByTenant },
  };
}

/** What a settled copy step means for the file and its job. */
export type CopyOutcome =
  | { kind: "stored"; retainUntil: number }
  /** The step's part budget ran out: continue at once. */
  | { kind: "continue"; at: number }
  | { kind: "retry"; at: number; attempts: number; lastError: string }
  /** The retries ran into the computed expiry: the file is lost. */
  | { kind: "lost"; reason: Reason }
  /** Upstream says the container is over. */
  | { kind: "container_gone" }
  /** An unexplained 404: the container must be checked once before deciding. */
  | { kind: "check_container" }
  /** The entry has no content: `skipped` (junk) or `missing`. */
  | { kind: "no_content"; state: "skipped" | "missing"; reason: Reason }
  | { kind: "too_large"; reason: Reason };

/**
 * Copy result → state, backoff or loss. Retries continue with backoff and jitter until the
 * container's computed expiry; the last one is pulled in before it (a Retry-After beyond the
 * expiry cannot be honoured).
 */
export function copyOutcome(
  result: CopyResult,
  ctx: {
    now: number;
    attempts: number;
    expiry: number;
    retentionMs: number;
    path: string;
    allowance: ByteAllowance;
    random?: () => number;
  },
): CopyOutcome {
  switch (result.kind) {
    case "stored":
      return { kind: "stored", retainUntil: ctx.now + ctx.retentionMs };
    case "partial":
      return { kind: "continue", at: ctx.now };
    case "too_large":
      return { kind: "too_large", reason: ctx.allowance.refusal };
    case "gone":
      if (result.failure === "expired") return { kind: "container_gone" };
      if (result.failure === "no_api") return { kind: "check_container" };
      return fileWithoutContent(ctx.path, result.reason);
    case "retry":
      return failedAttempt(ctx.attempts, result.reason, ctx, result.retryAfterMs);
  }
}

/**
 * One more failed attempt of a job that failed `attempts` times before: the next one after the
 * backoff, or `lost` when that would not come before the expiry margin.
 */
function failedAttempt(
  attempts: number,
  lastError: string,
  ctx: { now: number; expiry: number; random?: () => number },
  retryAfterMs?: number,
): Extract<CopyOutcome, { kind: "retry" | "lost" }> {
  const n = attempts + 1;
  const deadline = ctx.expiry - EXPIRY_MARGIN_MS;
  const at = Math.min(ctx.now + backoffMs(n, retryAfterMs, ctx.random), deadline);
  if (at <= ctx.now)
    return { kind: "lost", reason: { code: "retries_exhausted", expiry: ctx.expiry, attempts: n, lastError } };
  return { kind: "retry", at, attempts: n, lastError };
}

/** The `last_error` of a copy step whose tracker instance ended while it ran. */
export const INTERRUPTED_STEP = "interrupted: the tracker instance copying this file ended mid-step";

/**
 * A copy step that an earlier instance of this tracker was running (`jobs.runner` names another
 * instance): a Durable Object has at most one live instance
 * (https://developers.cloudflare.com/durable-objects/concepts/what-are-durable-objects/), so that
 * step died with its instance and nothing will settle it. It counts as one failed attempt and is
 * retried after the usual backoff (a second or two the first time) instead of waiting for the
 * heartbeat alarm; a file whose copy kills its instance every time backs off like any failure,
 * and the expiry still bounds it.
 */
export function interruptedStep(
  attempts: number,
  ctx: { now: number; expiry: number; random?: () => number },
): Extract<CopyOutcome, { kind: "retry" | "lost" }> {
  return failedAttempt(attempts, INTERRUPTED_STEP, ctx);
}

/** "Not found on container" on a running container: junk paths are `skipped`, others `missing`. */
export function fileWithoutContent(path: string, upstreamReason: string): Extract<CopyOutcome, { kind: "no_content" }> {
  return isJunkPath(path)
    ? { kind: "no_content", state: "skipped", reason: { code: "junk" } }
    : { kind: "no_content", state: "missing", reason: { code: "no_content", upstream: upstreamReason } };
}

// ───────────────────────────── lifecycle and the alarm ─────────────────────────────

/** The links of a tracker's responses: how many, how many never expire, the latest expiry (ms). */
export interface LinkReach {
  responses: number;
  unbounded: number;
  until: number | null;
}

/** When no issued link can reach the tracker any more (null: never, some links never expire). */
export function unreachableAt(r: LinkReach): number | null {
  return r.responses === 0 || r.unbounded > 0 || r.until === null ? null : r.until;
}

/**
 * When the alarm runs again after a run that failed as a whole (`failures` in a row): never sooner
 * than a jittered backoff, so an error that repeats on every run (a dependency down) cannot make
 * the alarm re-arm at once and spin.
 */
export function alarmRetryAt(next: number | null, now: number, failures: number, random?: () => number): number {
  return Math.max(next ?? now, now + backoffMs(failures, undefined, random));
}

/** How long a tracker trusts the tenant's record (key, limits) before it asks the directory again. */
export const TENANT_REFRESH_MS = 60_000;

/**
 * Whether the tenant's record is due for a refresh: never loaded, older than TENANT_REFRESH_MS, and
 * after a failed refresh not before its backoff (the last good record is used meanwhile).
 */
export function tenantRefreshDue(
  v: { checkedAt: number | null; failures: number; failedAt: number | null },
  now: number,
  random?: () => number,
): boolean {
  if (v.checkedAt === null)
    return v.failedAt === null || now >= v.failedAt + backoffMs(v.failures, undefined, random ?? (() => 1));
  if (now - v.checkedAt < TENANT_REFRESH_MS) return false;
  return v.failedAt === null || now >= v.failedAt + backoffMs(v.failures, undefined, random ?? (() => 1));
}

/** The earliest of the due times the capabilities report (null: nothing is due, no alarm). */
export function nextWake(times: readonly (number | null | undefined)[]): number | null {
  let min: number | null = null;
  for (const t of times) if (t !== null && t !== undefined && (min === null || t < min)) min = t;
  return min;
}

// ───────────────────────────── what outlives the container ─────────────────────────────

/** What decides whether a container's tracker is done with its work (docs/storage.md, "What outlives the objects"). */
export interface WorkLeft {
  /** The container may still be read (`isLive`): its final sweep has not run and it has not ended. */
  live: boolean;
  /** Its computed expiry passed (`computedExpiry`): nothing can be read from it any more either. */
  expired: boolean;
  /** File versions still `pending` or `copying`. */
  unfinished: number;
  /** Copy jobs still queued. */
  jobs: number;
  /** Responses whose sweep window is still open. */
  sweeping: number;
  /** Responses with a repair due or a repair turn still followed. */
  repairs: number;
  /** Stored files not yet metered (the usage outbox). */
  unmetered: boolean;
  /** A copy step is running in this instance right now. */
  copying: boolean;
}

/**
 * A container is over when nothing about it can change any more: it may not be read again, every
 * file is settled, no job, sweep or repair is left, and its usage was sent. Only then does what
 * its links and manifests need move to R2 and the tracker empty itself.
 */
export function containerIsOver(w: WorkLeft): boolean {
  return (
    (!w.live || w.expired) &&
    w.unfinished === 0 &&
    w.jobs === 0 &&
    w.sweeping === 0 &&
    w.repairs === 0 &&
    !w.unmetered &&
    !w.copying
  );
}

/** How long after the last call that named the container its tracker waits before emptying itself (a call still running must not find its tables gone). */
export const SETTLE_QUIET_MS = 60_000;

/** When an over container's tracker empties itself: not before SETTLE_QUIET_MS after the last call that named it (null: not over). */
export function settleAt(w: WorkLeft, lastActivityAt: number, now: number): number | null {
  return containerIsOver(w) ? Math.max(now, lastActivityAt + SETTLE_QUIET_MS) : null;
}

/** One R2 deletion an emptied tracker still owes: an object (or every object under a prefix) at a time. */
export interface DueDeletion {
  key: string;
  /** Ms since the epoch. */
  at: number;
  prefix: boolean;
}

/**
 * What an emptied tracker keeps (its only rows): each stored object is deleted at its
 * `retain_until`, or sooner when every link that could reach it has expired (`unreachable`, as
 * `unreachableAt`); the responses' pins and manifests are deleted when their links can no longer
 * reach them, and kept as the links' tombstones while some link never expires.
 */
export function deletionsAfterEnd(
  stored: readonly { key: string; retainUntil: number | null }[],
  unreachable: number | null,
  statePrefixes: readonly string[],
): DueDeletion[] {
  const out: DueDeletion[] = [];
  for (const s of stored) {
    const at = Math.min(s.retainUntil ?? Number.POSITIVE_INFINITY, unreachable ?? Number.POSITIVE_INFINITY);
    if (Number.isFinite(at)) out.push({ key: s.key, at, prefix: false });
  }
  if (unreachable !== null) for (const p of statePrefixes) out.push({ key: p, at: unreachable, prefix: true });
  return out;
}

/**
 * A pinned file as of `now`: a stored copy past its `retain_until` reads as deleted by retention on
 * that day (the tracker that deleted the bytes no longer holds a row to change), so a pin written
 * once stays right without being rewritten.
 */
export function pinnedState(
  pin: { state: FileState; reason: string | null; stateAt: number; retainUntil: number | null },
  now: number,
): { state: FileState; reason: string | null; reasonCode: "deleted_by_retention" | null; stateAt: number } | null {
  if (pin.state !== "stored" || pin.retainUntil === null || pin.retainUntil > now) return null;
  return {
    state: "deleted",
    reason: reasonText({ code: "deleted_by_retention", at: pin.retainUntil }),
    reasonCode: "deleted_by_retention",
    stateAt: pin.retainUntil,
  };
}
