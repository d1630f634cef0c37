/**
 * @module tracker/container-tracker
 * ContainerTracker: one Durable Object per upstream container id (`getByName(containerId)`).
 *
 * It is the single writer for everything about its container: which files exist (by version),
 * which responses cited them and how, which link paths are still unresolved, and the copy jobs
 * that move bytes into R2. Two requests citing the same file therefore copy it once.
 *
 * Why alarms drive the copies (cloudflare-platform reference §3): a Durable Object awaiting a
 * `fetch` with no incoming event is evicted after 70–140 s, while an alarm handler may run for
 * 15 minutes. RPC calls only record work in the `jobs` table and set the alarm; `alarm()` runs the
 * due jobs (at most two at a time, a bounded number of parts each) and sets the next alarm itself.
 * Nothing relies on the platform's throw-retries, which give up after six attempts (~2 minutes).
 * Progress is saved per part in SQLite, so an eviction costs at most the part in flight.
 */
import { DurableObject } from "cloudflare:workers";
import { loadConfig, type Bindings } from "../config";
import { contentTypeFor } from "../http/content-type";
import { copyStep, PART_SIZE, type CopyHooks, type CopyResult, type CopyState } from "../storage/copy";
import { fileObjectKey, inlineObjectKey } from "../storage/keys";
import { blockedExtension, deploymentLimits, effectiveLimits, type StorageLimits, type TenantLimitOverrides } from "../storage/limits";
import {
  fetchFileContent,
  listContainerFiles,
  retrieveContainer,
  retrieveContainerFile,
  UpstreamError,
  type ContainerFile,
  type ContainerInfo,
  type UpstreamAccess,
} from "../storage/upstream";
import { reportCopyJob } from "../observability/copy-job";
import { meterFor } from "../metering/record";
import { directory, keyForLaterWork } from "../tenants/store";
import { startRepairTurn } from "../harvest/repair";
import { targetOf } from "../upstream/fetch";
import { backoffMs } from "./backoff";
import { openMigrated, migrate, TRACKER_MIGRATIONS } from "./schema";
import {
  DeleteFilesSchema,
  MarkMissingSchema,
  OpenSchema,
  StoreInlineSchema,
  TrackSchema,
  type Cited,
  type ContainerFileRecord,
  type DeletedFile,
  type DeleteFilesInput,
  type FileRecord,
  type FileState,
  type ManifestEntry,
  type MarkMissingInput,
  type OpenInput,
  type PathResolution,
  type StoreInlineInput,
  type TrackInput,
} from "./types";

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
/**
 * Kept for the copy_job log line only: retries are bounded by the container's computed expiry,
 * not by a count (a flaky upstream may need many attempts; after the expiry the bytes are gone).
 */
export const MAX_ATTEMPTS = 8;
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

const FINAL: ReadonlySet<FileState> = new Set(["stored", "failed", "missing", "lost", "skipped", "deleted", "unavailable"]);

/** Why nothing can be copied through an upstream without the Containers API. */
export const UNAVAILABLE_REASON = "the upstream has no Containers API (404 on the route itself), so unsandbox cannot copy files from it";

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const isoTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");

interface FileRow {
  file_id: string;
  version: number;
  tenant: string;
  container_id: string;
  path: string;
  filename: string;
  upstream_created_at: number | null;
  bytes: number | null;
  content_type: string;
  sha256: string | null;
  etag: string | null;
  state: FileState;
  reason: string | null;
  state_at: number;
  r2_key: string;
  retain_until: number | null;
  [k: string]: SqlStorageValue;
}

interface ContainerRow {
  id: string;
  tenant: string;
  status: string | null;
  expires_after_minutes: number | null;
  opened_at: number;
  client_active_at: number | null;
  final_sweep_at: number | null;
  final_swept_at: number | null;
  [k: string]: SqlStorageValue;
}

/** A `files` row as the RPC surface returns it. */
function fileRecord(f: FileRow): FileRecord {
  return {
    tenant: f.tenant,
    containerId: f.container_id,
    fileId: f.file_id,
    version: f.version,
    path: f.path,
    filename: f.filename,
    state: f.state,
    reason: f.reason,
    stateAt: f.state_at,
    bytes: f.bytes,
    contentType: f.content_type,
    sha256: f.sha256,
    r2Key: f.r2_key,
  };
}

interface JobRow {
  file_id: string;
  version: number;
  tenant: string;
  next_attempt_at: number;
  attempts: number;
  upload_id: string | null;
  part_size: number;
  [k: string]: SqlStorageValue;
}

interface ResponseRow {
  response_id: string;
  tenant: string;
  created_at: number | null;
  sweep_next_at: number | null;
  sweep_until: number | null;
  sweep_attempts: number;
  links_expire: number;
  links_until: number | null;
  repair_attempted_at: number | null;
  repair_model: string | null;
  repair_due_at: number | null;
  repair_response_id: string | null;
  [k: string]: SqlStorageValue;
}

/**
 * Paths that are scratch, not output: hidden files, caches, editor and notebook leftovers, and
 * listing entries whose path is several paths run together (observed: "files with data appended to
 * their names", openai-code-interpreter-files reference §6.3), which have no content.
 */
export function isJunkPath(path: string): boolean {
  const name = path.slice(path.lastIndexOf("/") + 1);
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

const basename = (path: string) => path.slice(path.lastIndexOf("/") + 1);

export class ContainerTracker extends DurableObject<Bindings> {
  readonly #sql: SqlStorage;
  /** Jobs being copied by this instance; an eviction empties it along with the copies themselves. */
  readonly #running = new Set<string>();
  /** Part uploads the current alarm run may still make (see PARTS_PER_RUN). */
  #partsLeft = PARTS_PER_RUN;
  readonly #waiters = new Set<() => void>();
  /** Effective limits per tenant, loaded once per instance (tenant records change rarely). */
  readonly #limits = new Map<string, StorageLimits>();
  /** Test hook: milliseconds added to the wall clock (see `now()`). */
  clockSkewMs = 0;

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    this.#sql = openMigrated(ctx, TRACKER_MIGRATIONS);
  }

  /** The clock every schedule uses. Tests move it with `clockSkewMs` inside `runInDurableObject`. */
  now(): number {
    return Date.now() + this.clockSkewMs;
  }

  // ───────────────────────────── RPC ─────────────────────────────

  /**
   * Called as soon as a stream shows the container: records it and starts watching its listing
   * so that large files begin copying while the model is still talking.
   */
  async open(input: OpenInput): Promise<void> {
    const p = OpenSchema.parse(input);
    this.#claimContainer(p.tenant, p.containerId, p.upstreamKeySealed);
    const now = this.now();
    const live = this.#live();
    this.#upsertResponse(p.tenant, p.responseId, p.responseCreatedAt ?? Math.floor(now / 1000), live ? now + 1_000 : null, live ? now + WATCH_WINDOW_MS : null);
    this.#noteLinks(p.responseId, p.linksExpireAt);
    this.#clientActivity(now);
    await this.#scheduleAlarm();
  }

  /**
   * Records what a finished response referenced, sweeps the listing (when `sweep`), creates copy
   * jobs for every new file version and returns the response's manifest. Idempotent.
   */
  async track(input: TrackInput): Promise<ManifestEntry[]> {
    const p = TrackSchema.parse(input);
    this.#claimContainer(p.tenant, p.containerId, p.upstreamKeySealed);
    const now = this.now();
    const live = this.#live();
    const sweep = p.sweep && live;
    this.#upsertResponse(p.tenant, p.responseId, p.responseCreatedAt, sweep ? now : null, sweep ? now + SWEEP_WINDOW_MS : null);
    if (p.repairModel) this.#sql.exec("UPDATE responses SET repair_model = ? WHERE response_id = ?", p.repairModel, p.responseId);
    this.#noteLinks(p.responseId, p.linksExpireAt);
    this.#clientActivity(now);
    await this.#loadLimits(p.tenant);
    const up = await this.#upstream();

    // The container's own record (status, last activity, expiry) comes along with the listing:
    // read once per response, never polled (a read may refresh `last_active_at`).
    const [listing, info] = live
      ? await Promise.all([sweep ? this.#list(up) : Promise.resolve(null), this.#retrieve(up, p.containerId)])
      : [null, undefined];
    if (info === null) this.#containerGone("the container expired before the file was copied");
    else if (info) {
      this.#sql.exec(
        // A verdict reached by the listing in parallel (unavailable, expired) is not overwritten.
        `UPDATE container SET status = CASE WHEN status IN ('unavailable', 'expired') THEN status ELSE ? END,
           last_active_at = ?, expires_after_minutes = ?, checked_at = ?`,
        info.status ?? null, info.last_active_at ?? null, info.expires_after?.minutes ?? null, now,
      );
      if (info.status === "expired" || info.status === "deleted") this.#containerGone("the container expired before the file was copied");
      else this.#clientActivity(now);
    }

    for (const ref of p.refs) {
      const path = ref.path ?? (ref.filename ? `/mnt/data/${ref.filename}` : null);
      let file = ref.fileId ? listing?.find((f) => f.id === ref.fileId) ?? null : null;
      if (ref.fileId && !file && this.#live()) file = await retrieveContainerFile(up, p.containerId, ref.fileId).catch(() => null);
      if (file) {
        const v = this.#ensureVersion(p.tenant, file, p.responseId);
        this.#cite(p.tenant, p.responseId, v.fileId, v.version, file.path, ref.cited);
        if (path && path !== file.path) this.#resolveClaim(p.responseId, path, v.fileId, v.version);
      } else if (path) {
        // On a container that is over, a path that never resolved cannot resolve any more.
        const status = this.#container()?.status;
        const state = status === "unavailable" ? "unavailable" : status === "expired" ? "missing" : "pending";
        this.#sql.exec(
          `INSERT INTO claims (response_id, path, tenant, cited, state, claimed_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (response_id, path) DO NOTHING`,
          p.responseId, path, p.tenant, ref.cited, state, now,
        );
      }
    }
    // A linked path that names a file this response also cited by id needs no listing.
    for (const claim of this.#sql
      .exec<{ path: string; file_id: string; version: number }>(
        `SELECT cl.path, c.file_id, c.version FROM claims cl JOIN citations c ON c.response_id = cl.response_id AND c.path = cl.path
         WHERE cl.response_id = ? AND cl.state = 'pending' AND c.cited != 'listing'`,
        p.responseId,
      )
      .toArray()) {
      this.#resolveClaim(p.responseId, claim.path, claim.file_id, claim.version);
    }
    // The listing made here is the window's first sweep: the next is due a second later, not at
    // once (a second listing at once found nothing new and held up the first copy by a round trip).
    // A failed listing leaves `sweep_next_at` due, so the alarm lists again.
    if (listing) {
      this.#applyListing(p.responseId, listing);
      this.#swept(p.responseId, now);
    }
    await this.#scheduleAlarm();
    return this.manifest(p.responseId);
  }

  /**
   * A later response (a turn without a tool call) linked files this container holds for an earlier
   * turn of its chain: it cites those versions as links, so its own manifest lists them, and its
   * links' expiry counts for this tracker's self-clearing. No upstream read; a version this tracker
   * does not hold for the tenant is ignored.
   */
  citeFromChain(input: { tenant: string; responseId: string; responseCreatedAt: number; linksExpireAt?: number | null; files: { fileId: string; version: number }[] }): ManifestEntry[] {
    this.#checkTenant(input.tenant);
    this.#upsertResponse(input.tenant, input.responseId, input.responseCreatedAt, null, null);
    this.#noteLinks(input.responseId, input.linksExpireAt);
    for (const f of input.files) {
      const row = this.#sql.exec<FileRow>("SELECT * FROM files WHERE file_id = ? AND version = ? AND tenant = ?", f.fileId, f.version, input.tenant).toArray()[0];
      if (row) this.#cite(input.tenant, input.responseId, row.file_id, row.version, row.path, "link");
    }
    this.#notify();
    return this.manifest(input.responseId);
  }

  /** The files of one response: everything it cited or its sweep found, plus unresolved paths. */
  manifest(responseId: string): ManifestEntry[] {
    const files = this.#sql
      .exec<FileRow & { cited_list: string }>(
        `SELECT f.*, group_concat(DISTINCT c.cited) AS cited_list FROM citations c
         JOIN files f ON f.file_id = c.file_id AND f.version = c.version
         WHERE c.response_id = ? GROUP BY f.file_id, f.version ORDER BY min(c.seen_at), f.path`,
        responseId,
      )
      .toArray();
    const entries: ManifestEntry[] = files.map((f) => ({
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
    const containerId = this.#containerId();
    for (const c of this.#sql
      .exec<{ path: string; cited: string; state: string }>(
        "SELECT path, cited, state FROM claims WHERE response_id = ? AND state != 'resolved' ORDER BY claimed_at, path",
        responseId,
      )
      .toArray()) {
      entries.push({
        container_id: containerId ?? "",
        file_id: null,
        version: null,
        path: c.path,
        filename: basename(c.path),
        state: c.state === "missing" ? "missing" : c.state === "unavailable" ? "unavailable" : "pending",
        bytes: null,
        content_type: null,
        sha256: null,
        cited: [c.cited as Cited],
        reason:
          c.state === "missing"
            ? "the model referred to this path but no such file was ever listed"
            : c.state === "unavailable"
              ? UNAVAILABLE_REASON
              : null,
      });
    }
    return entries;
  }

  /**
   * Waits up to `ms` until no entry of the response's manifest is `pending` or `copying`, then
   * returns the manifest as it stands (the caller decides what to do with files still copying).
   */
  async waitForStored(responseId: string, ms: number): Promise<ManifestEntry[]> {
    const deadline = Date.now() + Math.max(0, Math.min(ms, 120_000));
    for (;;) {
      const m = this.manifest(responseId);
      if (m.every((e) => FINAL.has(e.state)) || Date.now() >= deadline) return m;
      await this.#changed(deadline - Date.now());
    }
  }

  /**
   * Stores a figure that arrived inline in a tool output (`data:image/png;base64,…`). It is
   * content-addressed, cited as `figure`, and immediately `stored`.
   */
  async storeInline(input: StoreInlineInput): Promise<ManifestEntry> {
    const p = StoreInlineSchema.parse(input);
    const containerId = this.#containerId();
    if (!containerId) throw new Error("storeInline needs the container to be opened or tracked first");
    this.#checkTenant(p.tenant);
    const sha256 = [...new Uint8Array(await crypto.subtle.digest("SHA-256", p.bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
    const key = inlineObjectKey({ tenant: p.tenant, responseId: p.responseId, sha256 });
    const obj = await this.env.FILES.put(key, p.bytes, {
      httpMetadata: { contentType: p.contentType },
      customMetadata: { tenant: p.tenant, container: containerId, file: `inline_${sha256.slice(0, 32)}`, version: "1", sha256, response: p.responseId },
    });
    const fileId = `inline_${sha256.slice(0, 32)}`;
    const path = p.path ?? `/mnt/data/${p.filename}`;
    const now = this.now();
    this.#sql.exec(
      `INSERT INTO files (file_id, version, tenant, container_id, path, filename, source, upstream_created_at, bytes, content_type,
         sha256, etag, state, reason, state_at, r2_key, first_seen_at, first_response_id, retain_until)
       VALUES (?, 1, ?, ?, ?, ?, 'inline', NULL, ?, ?, ?, ?, 'stored', NULL, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      fileId, p.tenant, containerId, path, p.filename, p.bytes.byteLength, p.contentType, sha256, obj?.httpEtag ?? null, now, key, now, p.responseId,
      now + (await this.#loadLimits(p.tenant)).retentionMs,
    );
    this.#cite(p.tenant, p.responseId, fileId, 1, path, "figure");
    this.#notify();
    return this.manifest(p.responseId).find((e) => e.file_id === fileId)!;
  }

  /** Marks paths the proxy knows will never resolve (e.g. the harvest is over) as `missing`. */
  async markMissing(input: MarkMissingInput): Promise<void> {
    const p = MarkMissingSchema.parse(input);
    this.#checkTenant(p.tenant);
    for (const path of p.paths) {
      this.#sql.exec(
        `INSERT INTO claims (response_id, path, tenant, cited, state, claimed_at) VALUES (?, ?, ?, 'link', 'missing', ?)
         ON CONFLICT (response_id, path) DO UPDATE SET state = 'missing' WHERE state = 'pending'`,
        p.responseId, path, p.tenant, this.now(),
      );
    }
    this.#notify();
  }

  /**
   * What a link path of `responseId` means in this container: the version first seen while
   * harvesting that response, else the newest version written at that path no later than the
   * response, else pending/missing depending on whether the harvest still runs.
   */
  resolvePath(input: { tenant: string; responseId: string; path: string }): PathResolution {
    const containerId = this.#containerId();
    const resp = this.#sql.exec<ResponseRow>("SELECT * FROM responses WHERE response_id = ?", input.responseId).toArray()[0];
    if (!containerId || !resp || resp.tenant !== input.tenant) return { kind: "unknown" };
    const hit = (fileId: string, version: number): PathResolution => ({ kind: "file", containerId, fileId, version });

    const cited = this.#sql
      .exec<{ file_id: string; version: number }>(
        // An explicit citation beats a sweep find; among sweep finds, the newest write at the path.
        `SELECT c.file_id, c.version FROM citations c JOIN files f ON f.file_id = c.file_id AND f.version = c.version
         WHERE c.response_id = ? AND c.path = ?
         ORDER BY (c.cited = 'listing'), f.upstream_created_at DESC, f.rowid DESC LIMIT 1`,
        input.responseId, input.path,
      )
      .toArray()[0];
    if (cited) return hit(cited.file_id, cited.version);
    const claim = this.#sql
      .exec<{ state: string; file_id: string | null; version: number | null }>(
        "SELECT state, file_id, version FROM claims WHERE response_id = ? AND path = ?",
        input.responseId, input.path,
      )
      .toArray()[0];
    if (claim?.state === "resolved" && claim.file_id) return hit(claim.file_id, claim.version!);
    if (claim?.state === "missing") return { kind: "missing" };
    const older = this.#sql
      .exec<{ file_id: string; version: number }>(
        `SELECT file_id, version FROM files WHERE path = ? AND (upstream_created_at IS NULL OR upstream_created_at <= ?)
         ORDER BY upstream_created_at DESC, rowid DESC LIMIT 1`,
        input.path, (resp.created_at ?? Number.MAX_SAFE_INTEGER) + CREATED_SLACK_S,
      )
      .toArray()[0];
    if (older) return hit(older.file_id, older.version);
    return resp.sweep_next_at !== null || claim?.state === "pending" ? { kind: "pending" } : { kind: "missing" };
  }

  /** One file version, or null if unknown here or owned by another tenant. */
  lookup(input: { tenant: string; fileId: string; version: number }): FileRecord | null {
    const f = this.#sql.exec<FileRow>("SELECT * FROM files WHERE file_id = ? AND version = ?", input.fileId, input.version).toArray()[0];
    if (!f || f.tenant !== input.tenant) return null;
    return fileRecord(f);
  }

  /**
   * Every file of the container this tenant owns, newest version of each, oldest first: what the
   * `/v1/containers/{id}/files` routes serve once the container is gone upstream.
   */
  files(input: { tenant: string }): ContainerFileRecord[] {
    return this.#sql
      .exec<FileRow & { first_response_id: string | null; source: string | null }>(
        `SELECT f.* FROM files f WHERE f.tenant = ? AND f.version = (SELECT max(version) FROM files g WHERE g.file_id = f.file_id)
         ORDER BY f.upstream_created_at, f.file_id`,
        input.tenant,
      )
      .toArray()
      .map((f) => ({ ...fileRecord(f), upstreamCreatedAt: f.upstream_created_at, firstResponseId: f.first_response_id, source: f.source }));
  }

  /**
   * Deletes unsandbox's copies: every version a response cited (or its sweep found), or every
   * version of one file id. Objects go from R2, unfinished copies are cancelled, and each row
   * stays as a `deleted` tombstone so its links answer 410. Upstream is not touched here (the
   * route does that only when asked explicitly).
   * @throws Error when the container belongs to another tenant.
   */
  async deleteFiles(input: DeleteFilesInput): Promise<DeletedFile[]> {
    const p = DeleteFilesSchema.parse(input);
    const containerId = this.#containerId();
    if (!containerId) return [];
    this.#checkTenant(p.tenant);
    const rows = p.responseId
      ? this.#sql
          .exec<FileRow>(
            `SELECT f.* FROM files f WHERE EXISTS (SELECT 1 FROM citations c WHERE c.response_id = ? AND c.file_id = f.file_id AND c.version = f.version)
             ORDER BY f.path, f.version`,
            p.responseId,
          )
          .toArray()
      : this.#sql.exec<FileRow>("SELECT * FROM files WHERE file_id = ? ORDER BY version", p.fileId!).toArray();
    const now = this.now();
    const out: DeletedFile[] = [];
    for (const f of rows) {
      if (f.tenant !== p.tenant) continue;
      const job = this.#sql.exec<JobRow>("SELECT * FROM jobs WHERE file_id = ? AND version = ?", f.file_id, f.version).toArray()[0];
      if (job) {
        this.#sql.exec("DELETE FROM jobs WHERE file_id = ? AND version = ?", f.file_id, f.version);
        await this.#abortUpload(job);
      }
      await this.env.FILES.delete(f.r2_key);
      if (f.state !== "deleted") this.#setState(f.file_id, f.version, "deleted", `deleted on request on ${isoDay(now)}`);
      out.push({ container_id: f.container_id, file_id: f.file_id, version: f.version, path: f.path, previous_state: f.state });
    }
    // A copy running right now may still finish its step; its result is ignored (see #settle).
    await this.#scheduleAlarm();
    return out;
  }

  /**
   * Optional repair, step 1: claims the response's one repair attempt. Returns the paths still
   * unresolved (missing or pending) when this call took the attempt, or null when an attempt
   * was already made (or the response is unknown here).
   */
  beginRepair(input: { tenant: string; responseId: string }): string[] | null {
    const row = this.#sql.exec<ResponseRow>("SELECT * FROM responses WHERE response_id = ?", input.responseId).toArray()[0];
    if (!row || row.tenant !== input.tenant || row.repair_attempted_at !== null) return null;
    this.#sql.exec("UPDATE responses SET repair_attempted_at = ? WHERE response_id = ?", this.now(), input.responseId);
    return this.#sql
      .exec<{ path: string }>("SELECT path FROM claims WHERE response_id = ? AND state IN ('missing', 'pending') ORDER BY path", input.responseId)
      .toArray()
      .map((r) => r.path);
  }

  /**
   * Optional repair, step 2: the files the repair turn wrote at the original response's missing
   * paths are attributed to the original response (cited as `link`), so its links start working.
   * @returns the paths that now resolve.
   */
  adoptRepair(input: { tenant: string; responseId: string; repairResponseId: string; paths: string[] }): string[] {
    this.#checkTenant(input.tenant);
    const repaired: string[] = [];
    for (const path of input.paths) {
      const hit = this.#sql
        .exec<{ file_id: string; version: number; path: string }>(
          `SELECT c.file_id, c.version, c.path FROM citations c JOIN files f ON f.file_id = c.file_id AND f.version = c.version
           WHERE c.response_id = ? AND c.path = ? AND f.state NOT IN ('skipped', 'missing', 'unavailable')
           ORDER BY f.upstream_created_at DESC, f.rowid DESC LIMIT 1`,
          input.repairResponseId, path,
        )
        .toArray()[0];
      if (!hit) continue;
      this.#cite(input.tenant, input.responseId, hit.file_id, hit.version, hit.path, "link");
      this.#sql.exec(
        "UPDATE claims SET state = 'resolved', file_id = ?, version = ? WHERE response_id = ? AND path = ?",
        hit.file_id, hit.version, input.responseId, path,
      );
      repaired.push(path);
    }
    this.#notify();
    return repaired;
  }

  /**
   * Optional repair, run from the alarm (a model turn plus its late listing outlasts a request's
   * `waitUntil`): a response that asked for it (`repairModel`) and whose window closed with paths
   * never written gets one more turn in the same chain; that turn is tracked like any response, and
   * each run adopts what it wrote at the missing paths until its own window closes.
   */
  #scheduleRepair(responseId: string, now: number): void {
    this.#sql.exec(
      `UPDATE responses SET repair_due_at = ? WHERE response_id = ? AND repair_model IS NOT NULL AND repair_attempted_at IS NULL
         AND EXISTS (SELECT 1 FROM claims WHERE claims.response_id = responses.response_id AND claims.state = 'missing')`,
      now, responseId,
    );
  }

  async #runRepairs(now: number): Promise<void> {
    for (const r of this.#sql.exec<ResponseRow>("SELECT * FROM responses WHERE repair_due_at IS NOT NULL AND repair_due_at <= ?", now).toArray()) {
      this.#sql.exec("UPDATE responses SET repair_due_at = NULL WHERE response_id = ?", r.response_id);
      const paths = this.beginRepair({ tenant: r.tenant, responseId: r.response_id });
      if (!paths?.length) continue;
      const started = await startRepairTurn(await this.#upstream(), { responseId: r.response_id, containerId: this.#containerId()!, model: r.repair_model!, paths });
      if (!started) continue;
      this.#sql.exec("UPDATE responses SET repair_response_id = ? WHERE response_id = ?", started.id, r.response_id);
      await this.track({
        tenant: r.tenant,
        containerId: this.#containerId()!,
        responseId: started.id,
        responseCreatedAt: started.createdAt,
        refs: paths.map((path) => ({ path, cited: "link" as const })),
        sweep: true,
      });
    }
    // Adopt what the repair turns wrote; a repair is followed until its own window closes.
    for (const r of this.#sql.exec<ResponseRow>("SELECT * FROM responses WHERE repair_response_id IS NOT NULL").toArray()) {
      const missing = this.#sql
        .exec<{ path: string }>("SELECT path FROM claims WHERE response_id = ? AND state = 'missing'", r.response_id)
        .toArray()
        .map((c) => c.path);
      if (missing.length) this.adoptRepair({ tenant: r.tenant, responseId: r.response_id, repairResponseId: r.repair_response_id!, paths: missing });
      const repair = this.#sql.exec<ResponseRow>("SELECT * FROM responses WHERE response_id = ?", r.repair_response_id).toArray()[0];
      const done = missing.length === 0 || !repair || repair.sweep_next_at === null;
      if (done) this.#sql.exec("UPDATE responses SET repair_response_id = NULL WHERE response_id = ?", r.response_id);
    }
  }

  /** Like `lookup`, but waits up to `ms` while the file is `pending` or `copying`. */
  async waitForFile(input: { tenant: string; fileId: string; version: number }, ms: number): Promise<FileRecord | null> {
    const deadline = Date.now() + Math.max(0, Math.min(ms, 60_000));
    for (;;) {
      const rec = this.lookup(input);
      if (!rec || FINAL.has(rec.state) || Date.now() >= deadline) return rec;
      await this.#changed(deadline - Date.now());
    }
  }

  // ───────────────────────────── alarm ─────────────────────────────

  /**
   * Runs due sweeps and up to `MAX_CONCURRENT_COPIES` due copy steps, then re-arms the alarm for
   * the next due item. Never throws: a failure becomes a job's backoff, not a platform retry.
   */
  override async alarm(): Promise<void> {
    try {
      // If this instance is evicted mid-copy, this heartbeat brings the work back.
      await this.ctx.storage.setAlarm(Date.now() + HEARTBEAT_MS);
      const now = this.now();
      await this.#finalSweep(now);
      await this.#expireOverdue(now);
      for (const r of this.#sql
        .exec<ResponseRow>("SELECT * FROM responses WHERE sweep_next_at IS NOT NULL AND sweep_next_at <= ?", now)
        .toArray()) {
        await this.#sweep(r);
      }
      await this.#runRepairs(now);
      // Two workers pull due jobs until none is due or the run's step or part budget is spent.
      // Each job runs at most one step per alarm run, so a large file cannot starve the others,
      // and the subrequests of one run stay bounded (PARTS_PER_RUN part uploads, a few calls per step).
      const ran = new Set<string>();
      this.#partsLeft = PARTS_PER_RUN;
      const pick = (): JobRow | undefined =>
        ran.size >= STEPS_PER_RUN || this.#partsLeft <= 0
          ? undefined
          : this.#sql
              .exec<JobRow>("SELECT * FROM jobs WHERE next_attempt_at <= ? ORDER BY next_attempt_at, file_id", this.now())
              .toArray()
              .find((j) => !this.#running.has(`${j.file_id}/${j.version}`) && !ran.has(`${j.file_id}/${j.version}`));
      const worker = async () => {
        for (let job = pick(); job; job = pick()) {
          // No await between picking and #runJob marking the job as running: the other worker
          // cannot pick it too.
          ran.add(`${job.file_id}/${job.version}`);
          await this.#runJob(job);
        }
      };
      const free = Math.max(0, MAX_CONCURRENT_COPIES - this.#running.size);
      await Promise.all(Array.from({ length: free }, worker));
      await this.#applyRetention(this.now());
      if (await this.#clearIfUnreachable(this.now())) return;
    } catch (err) {
      console.error(JSON.stringify({ level: "error", where: "ContainerTracker.alarm", error: String(err) }));
    }
    await this.#scheduleAlarm();
  }

  // ───────────────────────────── lifecycle ─────────────────────────────

  /**
   * The final sweep, once, shortly before the computed expiry: one listing that attributes files
   * written since to the newest response. After it this tracker reads the container no more
   * (only the copies of what it found remain), so it never keeps a container alive on its own.
   */
  async #finalSweep(now: number): Promise<void> {
    const c = this.#container();
    if (!c || c.final_sweep_at === null || c.final_sweep_at > now || !this.#live()) return;
    const latest = this.#sql.exec<ResponseRow>("SELECT * FROM responses ORDER BY created_at DESC, rowid DESC LIMIT 1").toArray()[0];
    const listing = await this.#list(await this.#upstream());
    if (listing && latest) this.#applyListing(latest.response_id, listing);
    this.#sql.exec("UPDATE container SET final_sweep_at = NULL, final_swept_at = ?", now);
    this.#sql.exec("UPDATE responses SET sweep_next_at = NULL");
    this.#sql.exec("UPDATE claims SET state = 'missing' WHERE state = 'pending'");
    this.#notify();
  }

  /** Past the computed expiry nothing can be fetched: unfinished copies are `lost`, with no read. */
  async #expireOverdue(now: number): Promise<void> {
    const expiry = this.#expiry();
    if (now < expiry) return;
    const jobs = this.#sql.exec<JobRow>("SELECT * FROM jobs").toArray().filter((j) => !this.#running.has(`${j.file_id}/${j.version}`));
    for (const job of jobs) {
      this.#setState(job.file_id, job.version, "lost", `the container expired (about ${isoTime(expiry)}) before the copy succeeded`);
      this.#sql.exec("DELETE FROM jobs WHERE file_id = ? AND version = ?", job.file_id, job.version);
      await this.#abortUpload(job);
    }
    this.#sql.exec("UPDATE responses SET sweep_next_at = NULL");
    this.#sql.exec("UPDATE claims SET state = 'missing' WHERE state = 'pending'");
    // Nothing left to read with a caller's key (a copy still running holds its own upstream).
    this.#sql.exec("UPDATE container SET upstream_key_sealed = NULL");
  }

  /**
   * Retention: stored files past `retain_until` are deleted from R2. The row stays as a
   * tombstone (`deleted`, "deleted by retention on <date>"), so their links answer 410 instead of
   * an unknown 404.
   */
  async #applyRetention(now: number): Promise<void> {
    const due = this.#sql.exec<FileRow>("SELECT * FROM files WHERE state = 'stored' AND retain_until IS NOT NULL AND retain_until <= ?", now).toArray();
    for (const f of due) {
      await this.env.FILES.delete(f.r2_key);
      this.#setState(f.file_id, f.version, "deleted", `deleted by retention on ${isoDay(now)}`);
    }
  }

  /**
   * Once no issued link can reach this tracker (every response's links have an expiry, and all
   * have passed), it deletes its remaining objects and then all of its storage. With links that
   * never expire the tombstones stay: a link must keep answering 410, not become an unknown 404.
   */
  async #clearIfUnreachable(now: number): Promise<boolean> {
    const r = this.#sql
      .exec<{ n: number; open: number; until: number | null }>(
        "SELECT count(*) AS n, sum(links_expire = 0) AS open, max(links_until) AS until FROM responses",
      )
      .one();
    if (r.n === 0 || r.open > 0 || r.until === null || r.until > now || this.#running.size > 0) return false;
    for (const f of this.#sql.exec<FileRow>("SELECT * FROM files WHERE state = 'stored'").toArray()) await this.env.FILES.delete(f.r2_key);
    for (const job of this.#sql.exec<JobRow>("SELECT * FROM jobs").toArray()) await this.#abortUpload(job);
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    // deleteAll drops the tables too; recreate them empty so a later call finds a fresh tracker.
    migrate(this.ctx.storage, TRACKER_MIGRATIONS);
    this.#limits.clear();
    this.#notify();
    return true;
  }

  async #abortUpload(job: JobRow): Promise<void> {
    if (!job.upload_id) return;
    const file = this.#sql.exec<FileRow>("SELECT r2_key FROM files WHERE file_id = ? AND version = ?", job.file_id, job.version).toArray()[0];
    if (file) await this.env.FILES.resumeMultipartUpload(file.r2_key, job.upload_id).abort().catch(() => {});
    this.#sql.exec("DELETE FROM parts WHERE file_id = ? AND version = ?", job.file_id, job.version);
  }

  /** Bytes the tenant has stored, as metered (src/metering); 0 when the meter cannot answer. */
  async #tenantBytes(tenant: string): Promise<number> {
    try {
      return (await meterFor(this.env, tenant).report(tenant)).totals.bytes_stored;
    } catch {
      return 0;
    }
  }

  // ───────────────────────────── internals ─────────────────────────────

  /**
   * The upstream as the container's tenant reaches it: through the same helper as the proxy (so
   * UPSTREAM_AUTH_HEADER and UPSTREAM_QUERY apply), and in multi-tenant mode with the tenant's own
   * upstream key when it has one, since the container lives in that key's organisation.
   */
  /**
   * Upstream with the key this container's work needs: a pass-through caller's own (kept sealed,
   * since the deployment's key cannot see that caller's containers), a multi-tenant tenant's, or
   * the deployment's.
   */
  async #upstream(): Promise<UpstreamAccess> {
    const cfg = loadConfig(this.env);
    const row = this.#sql.exec<{ tenant: string; upstream_key_sealed: string | null }>("SELECT tenant, upstream_key_sealed FROM container LIMIT 1").toArray()[0];
    if (!row) return targetOf(cfg);
    return targetOf({ ...cfg, OPENAI_API_KEY: await keyForLaterWork(this.env, cfg, row.tenant, row.upstream_key_sealed) });
  }

  #containerId(): string | null {
    return this.#sql.exec<{ id: string }>("SELECT id FROM container LIMIT 1").toArray()[0]?.id ?? null;
  }

  #checkTenant(tenant: string): void {
    const row = this.#sql.exec<{ tenant: string }>("SELECT tenant FROM container LIMIT 1").toArray()[0];
    if (row && row.tenant !== tenant) throw new Error("this container belongs to another tenant");
  }

  /**
   * The first tenant to name a container owns it; everyone else is refused. A pass-through
   * caller's sealed key (the tenant is derived from that key, so it is always the same key) is
   * kept for the reads after the request, and forgotten once the container is over.
   */
  #claimContainer(tenant: string, containerId: string, upstreamKeySealed?: string | null): void {
    const row = this.#sql.exec<{ id: string; tenant: string }>("SELECT id, tenant FROM container LIMIT 1").toArray()[0];
    if (!row) {
      this.#sql.exec("INSERT INTO container (id, tenant, opened_at, upstream_key_sealed) VALUES (?, ?, ?, ?)", containerId, tenant, this.now(), upstreamKeySealed ?? null);
      return;
    }
    if (row.id !== containerId) throw new Error(`this tracker tracks ${row.id}, not ${containerId}`);
    if (row.tenant !== tenant) throw new Error("this container belongs to another tenant");
    if (upstreamKeySealed) this.#sql.exec("UPDATE container SET upstream_key_sealed = ?", upstreamKeySealed);
  }

  #upsertResponse(tenant: string, responseId: string, createdAt: number, sweepNextAt: number | null, sweepUntil: number | null): void {
    const row = this.#sql.exec<ResponseRow>("SELECT * FROM responses WHERE response_id = ?", responseId).toArray()[0];
    if (row && row.tenant !== tenant) throw new Error("this response belongs to another tenant");
    if (!row) {
      this.#sql.exec(
        "INSERT INTO responses (response_id, tenant, created_at, sweep_next_at, sweep_until) VALUES (?, ?, ?, ?, ?)",
        responseId, tenant, createdAt, sweepNextAt, sweepUntil,
      );
    } else if (sweepNextAt !== null) {
      // A later `track` restarts the sweep window from its own time.
      this.#sql.exec(
        "UPDATE responses SET created_at = ?, sweep_next_at = ?, sweep_until = ?, sweep_attempts = 0 WHERE response_id = ?",
        createdAt, sweepNextAt, sweepUntil, responseId,
      );
    }
  }

  /**
   * Lists the container. "Container is expired." ends it; a 404 on the route itself means the
   * upstream has no Containers API (`unavailable`, no retry loop); other failures leave the
   * bounded sweep schedule to try again.
   */
  async #list(up: UpstreamAccess): Promise<ContainerFile[] | null> {
    const containerId = this.#containerId()!;
    try {
      return await listContainerFiles(up, containerId);
    } catch (err) {
      if (err instanceof UpstreamError && err.failure === "expired") this.#containerGone("the container expired before the file was copied");
      if (err instanceof UpstreamError && err.failure === "no_api") this.#unavailable();
      return null;
    }
  }

  /** Retrieves the container once: null = gone, undefined = unknown (a transient failure). */
  async #retrieve(up: UpstreamAccess, containerId: string): Promise<ContainerInfo | null | undefined> {
    try {
      return await retrieveContainer(up, containerId);
    } catch (err) {
      if (err instanceof UpstreamError && err.failure === "no_api") this.#unavailable();
      return undefined;
    }
  }

  #container(): ContainerRow | undefined {
    return this.#sql.exec<ContainerRow>("SELECT * FROM container LIMIT 1").toArray()[0];
  }

  /** Whether the container may still be read: not expired, not unavailable, final sweep not done. */
  #live(): boolean {
    const c = this.#container();
    return !c || (c.status !== "expired" && c.status !== "unavailable" && c.final_swept_at === null);
  }

  /**
   * The computed expiry: the last client activity (a response opened or tracked here) plus
   * `expires_after` (20 minutes unless upstream said otherwise). Computed, never polled: reading
   * the container to learn its status may itself refresh `last_active_at` and keep it alive.
   */
  #expiry(c: ContainerRow | undefined = this.#container()): number {
    if (!c) return Number.MAX_SAFE_INTEGER;
    return (c.client_active_at ?? c.opened_at) + (c.expires_after_minutes ?? DEFAULT_EXPIRES_AFTER_MIN) * 60_000;
  }

  /** A client used the container: its expiry moves, and so does the final sweep before it. */
  #clientActivity(now: number): void {
    const c = this.#container();
    if (!c || !this.#live()) return;
    const at = Math.max(now, c.client_active_at ?? 0);
    this.#sql.exec("UPDATE container SET client_active_at = ?", at);
    this.#sql.exec("UPDATE container SET final_sweep_at = ?", this.#expiry() - FINAL_SWEEP_LEAD_MS);
  }

  /** Records until when the response's links can reach this tracker (`undefined` = unchanged). */
  #noteLinks(responseId: string, expiresAt: number | null | undefined): void {
    if (expiresAt === undefined) return;
    if (expiresAt === null) {
      this.#sql.exec("UPDATE responses SET links_expire = 0, links_until = NULL WHERE response_id = ?", responseId);
      return;
    }
    this.#sql.exec(
      "UPDATE responses SET links_expire = 1, links_until = max(coalesce(links_until, 0), ?) WHERE response_id = ?",
      expiresAt * 1000, responseId,
    );
  }

  /** The tenant's effective limits (tenant record over deployment defaults), cached per instance. */
  async #loadLimits(tenant: string): Promise<StorageLimits> {
    const hit = this.#limits.get(tenant);
    if (hit) return hit;
    let overrides: TenantLimitOverrides | null = null;
    try {
      overrides = ((await directory(this.env).tenantRecord(tenant))?.limits as TenantLimitOverrides | undefined) ?? null;
    } catch {
      // No directory answer (single-tenant mode has no records): the deployment's defaults.
    }
    const limits = effectiveLimits(deploymentLimits(this.env), overrides);
    this.#limits.set(tenant, limits);
    return limits;
  }

  #limitsFor(tenant: string): StorageLimits {
    return this.#limits.get(tenant) ?? deploymentLimits(this.env);
  }

  /**
   * The upstream has no Containers API (a 404 on the route itself, e.g. a gateway that only
   * proxies /v1/responses): nothing can be listed or copied, ever. Everything unfinished becomes
   * `unavailable` at once; no retry loop keeps asking.
   */
  #unavailable(): void {
    const now = this.now();
    this.#sql.exec("UPDATE container SET status = 'unavailable', checked_at = ?, final_sweep_at = NULL", now);
    this.#sql.exec("UPDATE files SET state = 'unavailable', reason = ?, state_at = ? WHERE state IN ('pending', 'copying')", UNAVAILABLE_REASON, now);
    this.#sql.exec("DELETE FROM jobs");
    this.#sql.exec("UPDATE claims SET state = 'unavailable' WHERE state = 'pending'");
    this.#sql.exec("UPDATE responses SET sweep_next_at = NULL");
    this.#notify();
  }

  /**
   * Files first listed for a response: assistant output created no earlier than the response
   * (with slack), minus junk. Also resolves the response's pending path claims.
   */
  #applyListing(responseId: string, listing: ContainerFile[]): void {
    const resp = this.#sql.exec<ResponseRow>("SELECT * FROM responses WHERE response_id = ?", responseId).toArray()[0];
    if (!resp) return;
    const since = (resp.created_at ?? 0) - CREATED_SLACK_S;
    // A file created once a later response in this container had started is that response's (a
    // chat's next turn often starts inside this one's sweep window); it is never listed as this one's.
    const next = this.#sql
      .exec<{ at: number | null }>("SELECT min(created_at) AS at FROM responses WHERE created_at > ?", resp.created_at ?? 0)
      .one().at;
    const inWindow = (f: ContainerFile) => f.created_at >= since && (next === null || f.created_at < next);
    for (const f of listing) {
      if ((f.source ?? "assistant") !== "assistant" || !inWindow(f) || isJunkPath(f.path)) continue;
      const v = this.#ensureVersion(resp.tenant, f, responseId);
      this.#cite(resp.tenant, responseId, v.fileId, v.version, f.path, "listing");
    }
    for (const claim of this.#sql
      .exec<{ path: string; cited: string }>("SELECT path, cited FROM claims WHERE response_id = ? AND state = 'pending'", responseId)
      .toArray()) {
      const bare = !claim.path.includes("/");
      // Newest first; within one second of `created_at`, the later listing position (the listing
      // is oldest first) is the later write.
      const matches = listing
        .map((f, i) => ({ f, i }))
        .filter(({ f }) => f.path === claim.path || (bare && basename(f.path) === claim.path))
        .sort((a, b) => b.f.created_at - a.f.created_at || b.i - a.i)
        .map(({ f }) => f);
      // This response's own write first; else an earlier one (a link to a file of a previous turn);
      // never a later response's rewrite of the path.
      const match = matches.find(inWindow) ?? matches.find((f) => f.created_at < since);
      if (!match) continue;
      const v = this.#ensureVersion(resp.tenant, match, responseId);
      this.#cite(resp.tenant, responseId, v.fileId, v.version, match.path, claim.cited as Cited);
      this.#resolveClaim(responseId, claim.path, v.fileId, v.version);
    }
    this.#notify();
  }

  #resolveClaim(responseId: string, path: string, fileId: string, version: number): void {
    this.#sql.exec(
      "UPDATE claims SET state = 'resolved', file_id = ?, version = ? WHERE response_id = ? AND path = ? AND state != 'resolved'",
      fileId, version, responseId, path,
    );
  }

  /**
   * The version of a listed file: the newest one if upstream still describes the same bytes (same
   * path and `created_at`), else a new version with its own copy job. A `failed` version cited
   * again gets a fresh job.
   */
  #ensureVersion(tenant: string, f: ContainerFile, responseId: string): { fileId: string; version: number } {
    const latest = this.#sql.exec<FileRow>("SELECT * FROM files WHERE file_id = ? ORDER BY version DESC LIMIT 1", f.id).toArray()[0];
    const now = this.now();
    if (latest && latest.tenant !== tenant) throw new Error("this file belongs to another tenant");
    if (latest && latest.upstream_created_at === f.created_at && latest.path === f.path) {
      if (latest.state === "failed") {
        this.#setState(latest.file_id, latest.version, "pending", null);
        this.#addJob(tenant, latest.file_id, latest.version, now);
      }
      return { fileId: latest.file_id, version: latest.version };
    }
    const version = (latest?.version ?? 0) + 1;
    const containerId = this.#containerId()!;
    const filename = basename(f.path) || f.id;
    // Limits against runaway answers: past `filesPerResponse` files (explicit citations are
    // recorded first, so they win), a new file is recorded as `skipped`, with no copy job.
    const limit = this.#limitsFor(tenant).filesPerResponse;
    const counted = this.#sql
      .exec<{ n: number }>(
        `SELECT count(*) AS n FROM (SELECT DISTINCT c.file_id, c.version FROM citations c
           JOIN files g ON g.file_id = c.file_id AND g.version = c.version WHERE c.response_id = ? AND g.state != 'skipped')`,
        responseId,
      )
      .one().n;
    const blocked = blockedExtension(filename, this.#limitsFor(tenant).blockedExtensions);
    const skipped = counted >= limit || blocked !== null;
    const skipReason = blocked !== null ? `blocked: .${blocked} files are not stored (blocked_extensions)` : `limit: the response already has ${limit} files (files_per_response)`;
    this.#sql.exec(
      `INSERT INTO files (file_id, version, tenant, container_id, path, filename, source, upstream_created_at, bytes, content_type,
         state, reason, state_at, r2_key, first_seen_at, first_response_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      f.id, version, tenant, containerId, f.path, filename, f.source ?? null, f.created_at, f.bytes ?? null, contentTypeFor(filename),
      skipped ? "skipped" : "pending", skipped ? skipReason : null,
      now, fileObjectKey({ tenant, containerId, fileId: f.id, version }), now, responseId,
    );
    if (!skipped) this.#addJob(tenant, f.id, version, now);
    return { fileId: f.id, version };
  }

  #addJob(tenant: string, fileId: string, version: number, at: number): void {
    this.#sql.exec(
      `INSERT INTO jobs (file_id, version, tenant, next_attempt_at, part_size) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (file_id, version) DO UPDATE SET next_attempt_at = excluded.next_attempt_at, attempts = 0`,
      fileId, version, tenant, at, PART_SIZE,
    );
  }

  #cite(tenant: string, responseId: string, fileId: string, version: number, path: string, cited: Cited): void {
    this.#sql.exec(
      `INSERT INTO citations (response_id, file_id, version, tenant, path, cited, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING`,
      responseId, fileId, version, tenant, path, cited, this.now(),
    );
  }

  #setState(fileId: string, version: number, state: FileState, reason: string | null): void {
    this.#sql.exec("UPDATE files SET state = ?, reason = ?, state_at = ? WHERE file_id = ? AND version = ?", state, reason, this.now(), fileId, version);
    this.#notify();
  }

  /** The container is gone upstream: nothing more can be copied or listed. */
  #containerGone(reason: string): void {
    const now = this.now();
    this.#sql.exec("UPDATE container SET status = 'expired', checked_at = ?, final_sweep_at = NULL, upstream_key_sealed = NULL", now);
    this.#sql.exec("UPDATE files SET state = 'lost', reason = ?, state_at = ? WHERE state IN ('pending', 'copying')", reason, now);
    this.#sql.exec("DELETE FROM jobs");
    this.#sql.exec("DELETE FROM parts");
    this.#sql.exec("UPDATE claims SET state = 'missing' WHERE state = 'pending'");
    this.#sql.exec("UPDATE responses SET sweep_next_at = NULL");
    this.#notify();
  }

  async #sweep(r: ResponseRow): Promise<void> {
    const listing = await this.#list(await this.#upstream());
    if (listing) this.#applyListing(r.response_id, listing);
    this.#swept(r.response_id, this.now());
  }

  /** Counts one sweep of a response and schedules the next, or closes its window. */
  #swept(responseId: string, now: number): void {
    const current = this.#sql.exec<ResponseRow>("SELECT * FROM responses WHERE response_id = ?", responseId).toArray()[0];
    if (!current || current.sweep_next_at === null) return;
    const attempts = current.sweep_attempts + 1;
    // Re-list at 1, 2, 4, 8 s… (capped at 10 s) until the window closes.
    const next = now + Math.min(10_000, 1_000 * 2 ** (attempts - 1));
    if (current.sweep_until !== null && next > current.sweep_until) {
      this.#sql.exec("UPDATE responses SET sweep_next_at = NULL, sweep_attempts = ?, swept_at = ? WHERE response_id = ?", attempts, now, responseId);
      this.#sql.exec("UPDATE claims SET state = 'missing' WHERE response_id = ? AND state = 'pending'", responseId);
      this.#scheduleRepair(responseId, now);
      this.#notify();
    } else {
      this.#sql.exec("UPDATE responses SET sweep_next_at = ?, sweep_attempts = ?, swept_at = ? WHERE response_id = ?", next, attempts, now, responseId);
    }
  }

  async #runJob(job: JobRow): Promise<void> {
    const id = `${job.file_id}/${job.version}`;
    const file = this.#sql.exec<FileRow>("SELECT * FROM files WHERE file_id = ? AND version = ?", job.file_id, job.version).toArray()[0];
    if (!file) {
      this.#sql.exec("DELETE FROM jobs WHERE file_id = ? AND version = ?", job.file_id, job.version);
      return;
    }
    this.#running.add(id);
    try {
      if (file.state !== "copying") this.#setState(file.file_id, file.version, "copying", null);
      this.#sql.exec("UPDATE jobs SET steps = steps + 1 WHERE file_id = ? AND version = ?", job.file_id, job.version);
      const key = [job.file_id, job.version] as const;
      const state: CopyState = {
        key: file.r2_key,
        partSize: job.part_size,
        uploadId: job.upload_id,
        parts: this.#sql
          .exec<{ part_number: number; etag: string; size: number }>(
            "SELECT part_number, etag, size FROM parts WHERE file_id = ? AND version = ? ORDER BY part_number",
            ...key,
          )
          .toArray()
          .map((p) => ({ partNumber: p.part_number, etag: p.etag, size: p.size })),
        httpMetadata: { contentType: file.content_type },
        customMetadata: {
          tenant: file.tenant,
          container: file.container_id,
          file: file.file_id,
          version: String(file.version),
          path: file.path,
        },
      };
      const up = await this.#upstream();
      const hooks: CopyHooks = {
        fetchContent: (rangeStart) => fetchFileContent(up, file.container_id, file.file_id, rangeStart),
        uploadStarted: (uploadId) => this.#sql.exec("UPDATE jobs SET upload_id = ? WHERE file_id = ? AND version = ?", uploadId, ...key),
        partStored: (p) => {
          this.#partsLeft--;
          this.#sql.exec(
            "INSERT OR REPLACE INTO parts (file_id, version, tenant, part_number, etag, size, stored_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            ...key, file.tenant, p.partNumber, p.etag, p.size, this.now(),
          );
        },
        uploadDiscarded: () => {
          this.#sql.exec("DELETE FROM parts WHERE file_id = ? AND version = ?", ...key);
          this.#sql.exec("UPDATE jobs SET upload_id = NULL WHERE file_id = ? AND version = ?", ...key);
        },
        resumed: ({ offset, rangeHonoured }) => {
          for (const table of ["jobs", "files"]) {
            this.#sql.exec(`UPDATE ${table} SET resumed_from = ?, range_honoured = ? WHERE file_id = ? AND version = ?`, offset, rangeHonoured ? 1 : 0, ...key);
          }
        },
      };
      // Bytes per file and per tenant: the smaller allowance bounds this copy.
      const limits = await this.#loadLimits(file.tenant);
      const used = await this.#tenantBytes(file.tenant);
      const tenantRoom = Math.max(0, limits.bytesPerTenant - used);
      const maxBytes = Math.min(limits.bytesPerFile, tenantRoom);
      const result: CopyResult =
        tenantRoom === 0
          ? { kind: "too_large", reason: "tenant storage limit reached", limit: 0 }
          : await copyStep(this.env.FILES, state, hooks, { maxParts: Math.max(1, Math.min(PARTS_PER_STEP, this.#partsLeft)), maxBytes });
      if (result.kind === "too_large") {
        const which = maxBytes === limits.bytesPerFile && tenantRoom !== 0 ? `bytes_per_file (${limits.bytesPerFile} bytes)` : `bytes_per_tenant (${limits.bytesPerTenant} bytes, ${used} already stored)`;
        this.#setState(file.file_id, file.version, "skipped", `limit: larger than allowed by ${which}`);
        this.#sql.exec("DELETE FROM jobs WHERE file_id = ? AND version = ?", ...key);
        this.#sql.exec("DELETE FROM parts WHERE file_id = ? AND version = ?", ...key);
        return;
      }
      await this.#settle(job, file, result);
    } finally {
      this.#running.delete(id);
    }
  }

  /** Records the outcome of a copy step and schedules what follows. */
  async #settle(job: JobRow, file: FileRow, result: CopyResult): Promise<void> {
    const key = [job.file_id, job.version] as const;
    const now = this.now();
    // The copy_job log line, and metering of stored files (src/observability/copy-job.ts); never throws.
    const current = this.#sql.exec<{ state: string }>("SELECT state FROM files WHERE file_id = ? AND version = ?", ...key).toArray()[0];
    if (!current || current.state === "deleted") {
      // Deleted while this step ran: whatever it stored goes too.
      if (result.kind === "stored") await this.env.FILES.delete(file.r2_key);
      this.#sql.exec("DELETE FROM jobs WHERE file_id = ? AND version = ?", ...key);
      return;
    }
    const deadline = this.#expiry() - EXPIRY_MARGIN_MS;
    const nextAt = result.kind === "retry" ? Math.min(now + backoffMs(job.attempts + 1, result.retryAfterMs), deadline) : 0;
    if (result.kind === "too_large") return; // handled by #runJob
    await reportCopyJob(this.env, { tenant: file.tenant, containerId: file.container_id, fileId: file.file_id, version: file.version, result, attempts: job.attempts + 1, gaveUp: result.kind === "retry" && nextAt <= now });
    switch (result.kind) {
      case "stored":
        this.#sql.exec(
          "UPDATE files SET state = 'stored', reason = NULL, state_at = ?, bytes = ?, sha256 = ?, etag = ?, retain_until = ? WHERE file_id = ? AND version = ?",
          now, result.bytes, result.sha256, result.etag, now + this.#limitsFor(file.tenant).retentionMs, ...key,
        );
        // The parts rows stay as the record of how the object was assembled (docs/storage.md).
        this.#sql.exec("DELETE FROM jobs WHERE file_id = ? AND version = ?", ...key);
        this.#notify();
        return;
      case "partial":
        this.#sql.exec("UPDATE jobs SET next_attempt_at = ?, attempts = 0, last_error = NULL WHERE file_id = ? AND version = ?", now, ...key);
        return;
      case "gone": {
        // The failure classes (storage/upstream.ts): "Container is expired." ends the container;
        // "not found on container" on a running one means the entry had no content (junk, or a
        // file removed before it could be read); an unexplained 404 is checked once.
        if (result.failure === "expired") {
          this.#containerGone("the container expired before the file was copied");
          return;
        }
        let failure = result.failure;
        if (failure === "no_api") {
          const info = await this.#retrieve(await this.#upstream(), file.container_id);
          if (info === null || info?.status === "expired" || info?.status === "deleted") {
            this.#containerGone("the container expired before the file was copied");
            return;
          }
          if (this.#container()?.status === "unavailable") return;
          failure = "file_gone";
        }
        this.#sql.exec("DELETE FROM jobs WHERE file_id = ? AND version = ?", ...key);
        if (isJunkPath(file.path)) this.#setState(file.file_id, file.version, "skipped", "junk: a listing entry with no content");
        else this.#setState(file.file_id, file.version, "missing", `the container listed this file but has no content for it (${result.reason})`);
        return;
      }
      case "retry": {
        const attempts = job.attempts + 1;
        // Retries continue with backoff and jitter until the container's computed expiry; the
        // last one is pulled in before it (a Retry-After beyond the expiry cannot be honoured).
        if (nextAt <= now) {
          this.#setState(file.file_id, file.version, "lost", `the container expired (about ${isoTime(deadline + EXPIRY_MARGIN_MS)}) before the copy succeeded; last error after ${attempts} attempts: ${result.reason}`);
          this.#sql.exec("DELETE FROM jobs WHERE file_id = ? AND version = ?", ...key);
          await this.#abortUpload(job);
          return;
        }
        this.#sql.exec(
          "UPDATE jobs SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE file_id = ? AND version = ?",
          attempts, nextAt, result.reason, ...key,
        );
        // Still copying as far as downloads are concerned: the next attempt is scheduled.
        return;
      }
    }
  }

  /**
   * Arms the alarm for the earliest due job or sweep, or clears it when there is none. Jobs this
   * instance is copying right now are left out (their step re-arms on completion), but while any
   * runs, the alarm stays within a heartbeat so an eviction cannot strand them.
   */
  async #scheduleAlarm(): Promise<void> {
    const times = this.#sql
      .exec<{ file_id: string; version: number; next_attempt_at: number }>("SELECT file_id, version, next_attempt_at FROM jobs")
      .toArray()
      .filter((j) => !this.#running.has(`${j.file_id}/${j.version}`))
      .map((j) => j.next_attempt_at - this.clockSkewMs);
    const sweep = this.#sql.exec<{ at: number | null }>("SELECT min(sweep_next_at) AS at FROM responses").toArray()[0]?.at;
    if (sweep !== null && sweep !== undefined) times.push(sweep - this.clockSkewMs);
    const repair = this.#sql.exec<{ at: number | null }>("SELECT min(repair_due_at) AS at FROM responses").one().at;
    if (repair !== null) times.push(repair - this.clockSkewMs);
    const c = this.#container();
    if (c?.final_sweep_at !== null && c?.final_sweep_at !== undefined && this.#live()) times.push(c.final_sweep_at - this.clockSkewMs);
    const retain = this.#sql.exec<{ at: number | null }>("SELECT min(retain_until) AS at FROM files WHERE state = 'stored'").one().at;
    if (retain !== null) times.push(retain - this.clockSkewMs);
    const links = this.#sql
      .exec<{ n: number; open: number; until: number | null }>("SELECT count(*) AS n, sum(links_expire = 0) AS open, max(links_until) AS until FROM responses")
      .one();
    if (links.n > 0 && links.open === 0 && links.until !== null) times.push(links.until - this.clockSkewMs);
    if (this.#running.size > 0) times.push(Date.now() + HEARTBEAT_MS);
    if (times.length === 0) {
      await this.ctx.storage.deleteAlarm();
      return;
    }
    // Due times are on the (possibly skewed) clock; the alarm needs wall-clock time.
    await this.ctx.storage.setAlarm(Math.max(Date.now(), Math.min(...times)));
  }

  #notify(): void {
    for (const w of this.#waiters) w();
    this.#waiters.clear();
  }

  /** Resolves on the next state change or after `ms`, whichever is first. */
  #changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(done);
        resolve();
      }, Math.max(0, ms));
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#waiters.add(done);
    });
  }
}
