/**
 * @module tracker/store
 * Every SQL statement of the ContainerTracker, one method each, over the tables of ./schema.ts
 * (documented in docs/storage.md, "ContainerTracker"); those of its copy jobs and of its end are
 * its parts ./job-store.ts (`copyJobs`) and ./ended-store.ts (`ended`). No rule lives here: what to write comes
 * from ./policy.ts; the capabilities call these methods and do the I/O. Times are ms since the
 * epoch, except `upstream_created_at` and `responses.created_at` (unix seconds, as the API gives them).
 */
import type { ContainerInfo } from "../upstream/containers";
import { containerEnd, reasonText, type EndCause, type LinkReach, type Reason } from "./policy";
import { EndedStore } from "./ended-store";
import { JobStore } from "./job-store";
import { VersionReads } from "./version-reads";
import {
  fileRecord,
  type ClaimRow,
  type ContainerRow,
  type FileRow,
  type JobRow,
  type ResponseRow,
  type VersionKey,
} from "./rows";
import { CONTAINER_ROW_SELECT } from "./schema";
import { ReadMemo } from "../durable/read-memo";
import type { Cited, FileState } from "./types";

/** The `_schema` row holds the container once one was recorded (./schema.ts); until then nothing is updated. */
const CONTAINER = "WHERE id = 1 AND container_id IS NOT NULL";

export class TrackerStore {
  /** @param changed called after every file state change, claim resolution and closed sweep window, so waiters re-check. */
  /** Copy jobs and their parts (./job-store.ts). */
  readonly copyJobs: JobStore;
  /** What the version decision reads (./version-reads.ts). */
  readonly versions: VersionReads;
  /** What an emptied tracker keeps (./ended-store.ts). */
  readonly ended: EndedStore;
  /** The reads every capability repeats, served again until the next write (../durable/read-memo.ts). */
  readonly #memo: ReadMemo;

  constructor(
    private readonly sql: SqlStorage,
    private readonly changed: () => void,
  ) {
    this.#memo = ReadMemo.of(sql);
    this.copyJobs = new JobStore(sql);
    this.versions = new VersionReads(sql);
    this.ended = new EndedStore(sql);
  }

  // ───────────────────────────── container ─────────────────────────────

  /** The container: columns of the `_schema` row (./schema.ts), none until the first `open`/`track`. */
  container(): ContainerRow | undefined {
    return this.#memo.read(
      "container",
      () =>
        this.sql
          .exec<ContainerRow>(`SELECT ${CONTAINER_ROW_SELECT} FROM _schema WHERE container_id IS NOT NULL`)
          .toArray()[0],
    );
  }

  insertContainer(id: string, tenant: string, now: number, upstreamKeySealed: string | null): void {
    this.sql.exec(
      "UPDATE _schema SET container_id = ?, tenant = ?, opened_at = ?, upstream_key_sealed = ? WHERE id = 1",
      id,
      tenant,
      now,
      upstreamKeySealed,
    );
  }

  noteTenantChecked(now: number): void {
    this.sql.exec(`UPDATE _schema SET tenant_checked_at = ? ${CONTAINER}`, now);
  }

  keepSealedKey(upstreamKeySealed: string): void {
    this.sql.exec(`UPDATE _schema SET upstream_key_sealed = ? ${CONTAINER}`, upstreamKeySealed);
  }

  /** The container as retrieved; a verdict reached by the listing in parallel (unavailable, expired) is kept. */
  recordContainerInfo(info: ContainerInfo, now: number): void {
    this.sql.exec(
      `UPDATE _schema SET status = CASE WHEN status IN ('unavailable', 'expired') THEN status ELSE ? END,
         last_active_at = ?, expires_after_minutes = ?, checked_at = ? ${CONTAINER}`,
      info.status ?? null,
      info.last_active_at ?? null,
      info.expires_after?.minutes ?? null,
      now,
    );
  }

  setClientActivity(clientActiveAt: number, finalSweepAt: number): void {
    this.sql.exec(
      `UPDATE _schema SET client_active_at = ?, final_sweep_at = ? ${CONTAINER}`,
      clientActiveAt,
      finalSweepAt,
    );
  }

  /**
   * The one "container is over" transition (causes and their effects: `containerEnd` in
   * ./policy.ts). Files still copying under an `overdue` end were settled one by one before.
   */
  endContainer(cause: EndCause, now: number): void {
    const end = containerEnd(cause);
    this.sql.exec(
      `UPDATE _schema SET status = coalesce(?, status), checked_at = CASE WHEN ? IS NULL THEN checked_at ELSE ? END,
         final_sweep_at = NULL, final_swept_at = CASE WHEN ? THEN ? ELSE final_swept_at END,
         upstream_key_sealed = CASE WHEN ? THEN NULL ELSE upstream_key_sealed END ${CONTAINER}`,
      end.status,
      end.status,
      now,
      end.finalSwept ? 1 : 0,
      now,
      end.forgetKey ? 1 : 0,
    );
    if (end.unfinished) {
      this.sql.exec(
        "UPDATE files SET state = ?, reason = ?, reason_code = ?, state_at = ? WHERE state IN ('pending', 'copying')",
        end.unfinished.state,
        reasonText(end.unfinished.reason),
        end.unfinished.reason.code,
        now,
      );
    }
    if (end.dropJobs) this.copyJobs.deleteAll();
    if (end.dropParts) this.copyJobs.deleteAllParts();
    this.sql.exec("UPDATE claims SET state = ? WHERE state = 'pending'", end.claims);
    this.sql.exec("UPDATE responses SET sweep_next_at = NULL");
    this.changed();
  }

  // ───────────────────────────── responses ─────────────────────────────

  response(responseId: string): ResponseRow | undefined {
    return this.#memo.read(
      `response ${responseId}`,
      () => this.sql.exec<ResponseRow>("SELECT * FROM responses WHERE response_id = ?", responseId).toArray()[0],
    );
  }

  insertResponse(
    tenant: string,
    responseId: string,
    createdAt: number,
    sweepNextAt: number | null,
    sweepUntil: number | null,
  ): void {
    this.sql.exec(
      `INSERT INTO responses (response_id, tenant, created_at, sweep_next_at, sweep_until, seq)
       VALUES (?, ?, ?, ?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM responses))`,
      responseId,
      tenant,
      createdAt,
      sweepNextAt,
      sweepUntil,
    );
  }

  /** A later `track` restarts the sweep window from its own time. */
  restartSweep(responseId: string, createdAt: number, sweepNextAt: number, sweepUntil: number | null): void {
    this.sql.exec(
      "UPDATE responses SET created_at = ?, sweep_next_at = ?, sweep_until = ?, sweep_attempts = 0, sweep_failures = 0 WHERE response_id = ?",
      createdAt,
      sweepNextAt,
      sweepUntil,
      responseId,
    );
  }

  latestResponse(): ResponseRow | undefined {
    return this.sql
      .exec<ResponseRow>("SELECT * FROM responses ORDER BY created_at DESC, seq DESC LIMIT 1")
      .toArray()[0];
  }

  /** The `created_at` of the first response that started after `createdAt` (unix s), or null. */
  nextResponseStart(createdAt: number): number | null {
    return this.#memo.read(
      `nextResponseStart ${createdAt}`,
      () =>
        this.sql
          .exec<{ at: number | null }>("SELECT min(created_at) AS at FROM responses WHERE created_at > ?", createdAt)
          .one().at,
    );
  }

  dueSweeps(now: number): ResponseRow[] {
    return this.sql
      .exec<ResponseRow>("SELECT * FROM responses WHERE sweep_next_at IS NOT NULL AND sweep_next_at <= ?", now)
      .toArray();
  }

  earliestSweep(): number | null {
    return this.#memo.read(
      "earliestSweep",
      () => this.sql.exec<{ at: number | null }>("SELECT min(sweep_next_at) AS at FROM responses").one().at,
    );
  }

  scheduleSweep(responseId: string, next: number, attempts: number, now: number): void {
    this.sql.exec(
      "UPDATE responses SET sweep_next_at = ?, sweep_attempts = ?, sweep_failures = 0, swept_at = ? WHERE response_id = ?",
      next,
      attempts,
      now,
      responseId,
    );
  }

  /** A listing failed: the next attempt and the window moved on by the wait (`failedSweep`). */
  retrySweep(responseId: string, next: number, until: number | null, failures: number): void {
    this.sql.exec(
      "UPDATE responses SET sweep_next_at = ?, sweep_until = ?, sweep_failures = ? WHERE response_id = ?",
      next,
      until,
      failures,
      responseId,
    );
  }

  /** The sweep window closed: paths never listed are `missing`. */
  closeSweep(responseId: string, attempts: number, now: number): void {
    this.sql.exec(
      "UPDATE responses SET sweep_next_at = NULL, sweep_attempts = ?, swept_at = ? WHERE response_id = ?",
      attempts,
      now,
      responseId,
    );
    this.sql.exec("UPDATE claims SET state = 'missing' WHERE response_id = ? AND state = 'pending'", responseId);
    this.changed();
  }

  /** Records until when the response's links can reach this tracker (`undefined` = unchanged). */
  noteLinks(responseId: string, expiresAt: number | null | undefined): void {
    if (expiresAt === undefined) return;
    if (expiresAt === null) {
      this.sql.exec("UPDATE responses SET links_expire = 0, links_until = NULL WHERE response_id = ?", responseId);
      return;
    }
    this.sql.exec(
      "UPDATE responses SET links_expire = 1, links_until = max(coalesce(links_until, 0), ?) WHERE response_id = ?",
      expiresAt * 1000,
      responseId,
    );
  }

  linkReach(): LinkReach {
    return this.#memo.read("linkReach", () => {
      const r = this.sql
        .exec<{ n: number; open: number | null; until: number | null }>(
          "SELECT count(*) AS n, sum(links_expire = 0) AS open, max(links_until) AS until FROM responses",
        )
        .one();
      return { responses: r.n, unbounded: r.open ?? 0, until: r.until };
    });
  }

  // ───────────────────────────── repair ─────────────────────────────

  setRepairModel(responseId: string, model: string): void {
    this.sql.exec("UPDATE responses SET repair_model = ? WHERE response_id = ?", model, responseId);
  }

  /** A response that asked for repair and was never repaired is due when it has `missing` claims. */
  scheduleRepair(responseId: string, now: number): void {
    this.sql.exec(
      `UPDATE responses SET repair_due_at = ? WHERE response_id = ? AND repair_model IS NOT NULL AND repair_attempted_at IS NULL
         AND EXISTS (SELECT 1 FROM claims WHERE claims.response_id = responses.response_id AND claims.state = 'missing')`,
      now,
      responseId,
    );
  }

  dueRepairs(now: number): ResponseRow[] {
    return this.sql
      .exec<ResponseRow>("SELECT * FROM responses WHERE repair_due_at IS NOT NULL AND repair_due_at <= ?", now)
      .toArray();
  }

  earliestRepair(): number | null {
    return this.#memo.read(
      "earliestRepair",
      () => this.sql.exec<{ at: number | null }>("SELECT min(repair_due_at) AS at FROM responses").one().at,
    );
  }

  clearRepairDue(responseId: string): void {
    this.sql.exec("UPDATE responses SET repair_due_at = NULL WHERE response_id = ?", responseId);
  }

  markRepairAttempted(responseId: string, now: number): void {
    this.sql.exec("UPDATE responses SET repair_attempted_at = ? WHERE response_id = ?", now, responseId);
  }

  /** `repairResponseId` null: the repair turn is no longer followed. */
  setRepairResponse(responseId: string, repairResponseId: string | null): void {
    this.sql.exec("UPDATE responses SET repair_response_id = ? WHERE response_id = ?", repairResponseId, responseId);
  }

  followedRepairs(): ResponseRow[] {
    return this.#memo.read("followedRepairs", () =>
      this.sql.exec<ResponseRow>("SELECT * FROM responses WHERE repair_response_id IS NOT NULL").toArray(),
    );
  }

  // ───────────────────────────── files ─────────────────────────────

  file(fileId: string, version: number): FileRow | undefined {
    return this.#memo.read(
      `file ${fileId} ${version}`,
      () =>
        this.sql.exec<FileRow>("SELECT * FROM files WHERE file_id = ? AND version = ?", fileId, version).toArray()[0],
    );
  }

  latestVersion(fileId: string): FileRow | undefined {
    return this.#memo.read(
      `latestVersion ${fileId}`,
      () =>
        this.sql
          .exec<FileRow>("SELECT * FROM files WHERE file_id = ? ORDER BY version DESC LIMIT 1", fileId)
          .toArray()[0],
    );
  }

  insertListedFile(f: {
    fileId: string;
    version: number;
    tenant: string;
    containerId: string;
    path: string;
    filename: string;
    source: string | null;
    upstreamCreatedAt: number;
    bytes: number | null;
    contentType: string;
    skipped: Reason | null;
    r2Key: string;
    responseId: string;
    now: number;
  }): void {
    this.sql.exec(
      `INSERT INTO files (file_id, version, tenant, container_id, path, filename, source, upstream_created_at, bytes, content_type,
         state, reason, reason_code, state_at, r2_key, first_seen_at, first_response_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      f.fileId,
      f.version,
      f.tenant,
      f.containerId,
      f.path,
      f.filename,
      f.source,
      f.upstreamCreatedAt,
      f.bytes,
      f.contentType,
      f.skipped ? "skipped" : "pending",
      f.skipped ? reasonText(f.skipped) : null,
      f.skipped?.code ?? null,
      f.now,
      f.r2Key,
      f.now,
      f.responseId,
    );
  }

  insertInlineFile(f: {
    fileId: string;
    tenant: string;
    containerId: string;
    path: string;
    filename: string;
    bytes: number;
    contentType: string;
    sha256: string;
    etag: string | null;
    r2Key: string;
    responseId: string;
    retainUntil: number;
    now: number;
  }): void {
    this.sql.exec(
      `INSERT INTO files (file_id, version, tenant, container_id, path, filename, source, upstream_created_at, bytes, content_type,
         sha256, etag, state, reason, state_at, r2_key, first_seen_at, first_response_id, retain_until)
       VALUES (?, 1, ?, ?, ?, ?, 'inline', NULL, ?, ?, ?, ?, 'stored', NULL, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      f.fileId,
      f.tenant,
      f.containerId,
      f.path,
      f.filename,
      f.bytes,
      f.contentType,
      f.sha256,
      f.etag,
      f.now,
      f.r2Key,
      f.now,
      f.responseId,
      f.retainUntil,
    );
  }

  setState(fileId: string, version: number, state: FileState, reason: Reason | null, now: number): void {
    this.sql.exec(
      "UPDATE files SET state = ?, reason = ?, reason_code = ?, state_at = ? WHERE file_id = ? AND version = ?",
      state,
      reason ? reasonText(reason) : null,
      reason?.code ?? null,
      now,
      fileId,
      version,
    );
    this.changed();
  }

  markStored(
    key: VersionKey,
    s: { bytes: number; sha256: string; etag: string; retainUntil: number },
    now: number,
  ): void {
    this.sql.exec(
      `UPDATE files SET state = 'stored', reason = NULL, reason_code = NULL, state_at = ?, bytes = ?, sha256 = ?, etag = ?, retain_until = ?
       WHERE file_id = ? AND version = ?`,
      now,
      s.bytes,
      s.sha256,
      s.etag,
      s.retainUntil,
      ...key,
    );
    this.changed();
  }

  /** How the last resume of a copy went (the job's and the file's). */
  noteResume(key: VersionKey, offset: number, rangeHonoured: boolean): void {
    // One row: a job is columns of its file version's row (./schema.ts).
    this.sql.exec(
      "UPDATE files SET resumed_from = ?, range_honoured = ? WHERE file_id = ? AND version = ?",
      offset,
      rangeHonoured ? 1 : 0,
      ...key,
    );
  }

  /** Files of a response that count against `files_per_response` (recorded and not skipped). */
  countedFiles(responseId: string): number {
    return this.sql
      .exec<{ n: number }>(
        `SELECT count(*) AS n FROM (SELECT DISTINCT c.file_id, c.version FROM citations c
           JOIN files g ON g.file_id = c.file_id AND g.version = c.version WHERE c.response_id = ? AND g.state != 'skipped')`,
        responseId,
      )
      .one().n;
  }

  /** Every version a response cited (or its sweep found), with how, in the order first seen. */
  responseFiles(responseId: string): (FileRow & { cited_list: string })[] {
    return this.sql
      .exec<FileRow & { cited_list: string }>(
        `SELECT f.*, group_concat(DISTINCT c.cited) AS cited_list FROM citations c
         JOIN files f ON f.file_id = c.file_id AND f.version = c.version
         WHERE c.response_id = ? GROUP BY f.file_id, f.version ORDER BY min(c.seen_at), f.path`,
        responseId,
      )
      .toArray();
  }

  /** The newest version of every file the tenant owns here, oldest first. */
  tenantFiles(tenant: string): FileRow[] {
    return this.sql
      .exec<FileRow>(
        `SELECT f.* FROM files f WHERE f.tenant = ? AND f.version = (SELECT max(version) FROM files g WHERE g.file_id = f.file_id)
         ORDER BY f.upstream_created_at, f.file_id`,
        tenant,
      )
      .toArray();
  }

  citedVersions(responseId: string): FileRow[] {
    return this.sql
      .exec<FileRow>(
        `SELECT f.* FROM files f WHERE EXISTS (SELECT 1 FROM citations c WHERE c.response_id = ? AND c.file_id = f.file_id AND c.version = f.version)
         ORDER BY f.path, f.version`,
        responseId,
      )
      .toArray();
  }

  versionsOf(fileId: string): FileRow[] {
    return this.sql.exec<FileRow>("SELECT * FROM files WHERE file_id = ? ORDER BY version", fileId).toArray();
  }

  storedFiles(): FileRow[] {
    return this.sql.exec<FileRow>("SELECT * FROM files WHERE state = 'stored'").toArray();
  }

  dueRetention(now: number): FileRow[] {
    return this.sql
      .exec<FileRow>(
        "SELECT * FROM files WHERE state = 'stored' AND retain_until IS NOT NULL AND retain_until <= ?",
        now,
      )
      .toArray();
  }

  earliestRetention(): number | null {
    return this.#memo.read(
      "earliestRetention",
      () =>
        this.sql.exec<{ at: number | null }>("SELECT min(retain_until) AS at FROM files WHERE state = 'stored'").one()
          .at,
    );
  }

  /** The newest version written at `path` no later than `beforeS` (unix s), for a link of an older response. */
  writtenBefore(path: string, beforeS: number): { file_id: string; version: number } | undefined {
    return this.sql
      .exec<{ file_id: string; version: number }>(
        `SELECT file_id, version FROM files WHERE path = ? AND (upstream_created_at IS NULL OR upstream_created_at <= ?)
         ORDER BY upstream_created_at DESC, first_seen_at DESC, version DESC LIMIT 1`,
        path,
        beforeS,
      )
      .toArray()[0];
  }

  // ───────────────────────────── citations ─────────────────────────────

  cite(
    tenant: string,
    responseId: string,
    fileId: string,
    version: number,
    path: string,
    cited: Cited,
    now: number,
  ): void {
    this.sql.exec(
      `INSERT INTO citations (response_id, file_id, version, tenant, path, cited, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING`,
      responseId,
      fileId,
      version,
      tenant,
      path,
      cited,
      now,
    );
  }

  /** What a response cited at `path`: an explicit citation beats a sweep find; among those, the newest write. */
  citedAt(responseId: string, path: string): { file_id: string; version: number } | undefined {
    return this.sql
      .exec<{ file_id: string; version: number }>(
        `SELECT c.file_id, c.version FROM citations c JOIN files f ON f.file_id = c.file_id AND f.version = c.version
         WHERE c.response_id = ? AND c.path = ?
         ORDER BY (c.cited = 'listing'), f.upstream_created_at DESC, f.first_seen_at DESC, f.version DESC LIMIT 1`,
        responseId,
        path,
      )
      .toArray()[0];
  }

  /** A usable file the repair turn wrote at `path` (newest first). */
  repairedAt(repairResponseId: string, path: string): { file_id: string; version: number; path: string } | undefined {
    return this.sql
      .exec<{ file_id: string; version: number; path: string }>(
        `SELECT c.file_id, c.version, c.path FROM citations c JOIN files f ON f.file_id = c.file_id AND f.version = c.version
         WHERE c.response_id = ? AND c.path = ? AND f.state NOT IN ('skipped', 'missing', 'unavailable')
         ORDER BY f.upstream_created_at DESC, f.first_seen_at DESC, f.version DESC LIMIT 1`,
        repairResponseId,
        path,
      )
      .toArray()[0];
  }

  /** Pending linked paths that name a file the response also cited by id (no listing needed). */
  pendingClaimsCitedById(responseId: string): { path: string; file_id: string; version: number }[] {
    return this.sql
      .exec<{ path: string; file_id: string; version: number }>(
        `SELECT cl.path, c.file_id, c.version FROM claims cl JOIN citations c ON c.response_id = cl.response_id AND c.path = cl.path
         WHERE cl.response_id = ? AND cl.state = 'pending' AND c.cited != 'listing'`,
        responseId,
      )
      .toArray();
  }

  // ───────────────────────────── claims ─────────────────────────────

  insertClaim(
    responseId: string,
    path: string,
    tenant: string,
    cited: Cited,
    state: ClaimRow["state"],
    now: number,
  ): void {
    this.sql.exec(
      `INSERT INTO claims (response_id, path, tenant, cited, state, claimed_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (response_id, path) DO NOTHING`,
      responseId,
      path,
      tenant,
      cited,
      state,
      now,
    );
  }

  claim(responseId: string, path: string): ClaimRow | undefined {
    return this.sql
      .exec<ClaimRow>(
        "SELECT path, cited, state, file_id, version FROM claims WHERE response_id = ? AND path = ?",
        responseId,
        path,
      )
      .toArray()[0];
  }

  /** Resolves a claim; `force` also re-points one already resolved (a repair's adoption). */
  resolveClaim(responseId: string, path: string, fileId: string, version: number, force = false): void {
    this.sql.exec(
      `UPDATE claims SET state = 'resolved', file_id = ?, version = ? WHERE response_id = ? AND path = ?${force ? "" : " AND state != 'resolved'"}`,
      fileId,
      version,
      responseId,
      path,
    );
    this.changed();
  }

  /** The response's claims in `states`, oldest first. */
  claimsIn(responseId: string, states: readonly ClaimRow["state"][]): ClaimRow[] {
    return this.#memo.read(`claimsIn ${responseId} ${states.join(",")}`, () =>
      this.sql
        .exec<ClaimRow>(
          `SELECT path, cited, state, file_id, version FROM claims WHERE response_id = ? AND state IN (${states.map(() => "?").join(", ")})
         ORDER BY claimed_at, path`,
          responseId,
          ...states,
        )
        .toArray(),
    );
  }
}
