/**
 * @module tracker/job-store
 * The SQL statements of the ContainerTracker's copy jobs and their multipart parts (./schema.ts,
 * documented in docs/storage.md, "ContainerTracker"). Only the copies capability (./copies.ts) and
 * the container's end (./store.ts, ./lifecycle.ts) use them. A job is columns of its file
 * version's `files` row, set while `next_attempt_at` is: read through the view `jobs`, written
 * here, each write to a job that exists only (a step that ends after its job was cancelled writes
 * nothing, as when a job was a row of its own). `parts` is made by the first multipart part
 * (`TRACKER_PARTS_TABLE`): most trackers never need it.
 */
import { ensureTable, hasTable } from "../durable/sqlite-migrations";
import { ReadMemo } from "../durable/read-memo";
import type { JobRow, VersionKey } from "./rows";
import { TRACKER_PARTS_TABLE } from "./schema";

/** The job of a file version (`file_id`, `version`), when there is one. */
const JOB = "file_id = ? AND version = ? AND next_attempt_at IS NOT NULL";

export class JobStore {
  readonly #memo: ReadMemo;

  constructor(private readonly sql: SqlStorage) {
    this.#memo = ReadMemo.of(sql);
  }

  #hasParts(): boolean {
    return hasTable(this.sql, "parts");
  }

  /**
   * Queues the file version's copy at `at` (its `files` row exists: the job is columns of it); a job
   * it already has is due at `at` with its attempts reset, keeping its upload and part size.
   */
  add(tenant: string, fileId: string, version: number, at: number, partSize: number): void {
    this.sql.exec(
      `UPDATE files SET next_attempt_at = ?, attempts = 0, part_size = coalesce(part_size, ?)
       WHERE file_id = ? AND version = ? AND tenant = ?`,
      at,
      partSize,
      fileId,
      version,
      tenant,
    );
  }

  get(fileId: string, version: number): JobRow | undefined {
    return this.sql.exec<JobRow>("SELECT * FROM jobs WHERE file_id = ? AND version = ?", fileId, version).toArray()[0];
  }

  all(): JobRow[] {
    return this.#memo.read("jobs", () => this.sql.exec<JobRow>("SELECT * FROM jobs").toArray());
  }

  /** The jobs due at `now`, each with how its file version was cited (any response; `copyOrder` ranks them). */
  due(now: number): (JobRow & { cited: string[] })[] {
    return this.sql
      .exec<JobRow & { cited_list: string | null }>(
        `SELECT j.*, group_concat(DISTINCT c.cited) AS cited_list FROM jobs j
         LEFT JOIN citations c ON c.file_id = j.file_id AND c.version = j.version
         WHERE j.next_attempt_at <= ? GROUP BY j.file_id, j.version`,
        now,
      )
      .toArray()
      .map(
        ({ cited_list, ...j }) =>
          ({ ...j, cited: cited_list ? cited_list.split(",") : [] }) as JobRow & { cited: string[] },
      );
  }

  /** Jobs whose step was started by another instance of this tracker (`runner`), which is over. */
  interrupted(runner: string): JobRow[] {
    return this.sql.exec<JobRow>("SELECT * FROM jobs WHERE runner IS NOT NULL AND runner != ?", runner).toArray();
  }

  delete(key: VersionKey): void {
    this.sql.exec(
      `UPDATE files SET next_attempt_at = NULL, attempts = 0, steps = 0, upload_id = NULL, part_size = NULL,
         last_error = NULL, runner = NULL WHERE file_id = ? AND version = ?`,
      ...key,
    );
  }

  /** Every job (the container is over): the file versions keep their rows. */
  deleteAll(): void {
    this.sql.exec(
      `UPDATE files SET next_attempt_at = NULL, attempts = 0, steps = 0, upload_id = NULL, part_size = NULL,
         last_error = NULL, runner = NULL WHERE next_attempt_at IS NOT NULL`,
    );
  }

  /** A step starts: counted, and marked with the instance running it (see `interruptedStep` in ./policy.ts). */
  startStep(key: VersionKey, runner: string): void {
    this.sql.exec(`UPDATE files SET steps = steps + 1, runner = ? WHERE ${JOB}`, runner, ...key);
  }

  /** The step of `runner` ended (a rescheduled job is released by `reschedule` already). */
  endStep(key: VersionKey, runner: string): void {
    this.sql.exec(`UPDATE files SET runner = NULL WHERE ${JOB} AND runner = ?`, ...key, runner);
  }

  /** The job's multipart upload (null: none), and the part size its parts have (kept when not given). */
  setUploadId(key: VersionKey, uploadId: string | null, partSize?: number): void {
    this.sql.exec(
      `UPDATE files SET upload_id = ?, part_size = coalesce(?, part_size) WHERE ${JOB}`,
      uploadId,
      partSize ?? null,
      ...key,
    );
  }

  /** Continue (`attempts` 0, no error) or retry (`attempts`, the error) at `at`; no step of it runs. */
  reschedule(key: VersionKey, at: number, attempts: number, lastError: string | null): void {
    this.sql.exec(
      `UPDATE files SET attempts = ?, next_attempt_at = ?, last_error = ?, runner = NULL WHERE ${JOB}`,
      attempts,
      at,
      lastError,
      ...key,
    );
  }

  parts(key: VersionKey): { partNumber: number; etag: string; size: number }[] {
    if (!this.#hasParts()) return [];
    return this.sql
      .exec<{ part_number: number; etag: string; size: number }>(
        "SELECT part_number, etag, size FROM parts WHERE file_id = ? AND version = ? ORDER BY part_number",
        ...key,
      )
      .toArray()
      .map((p) => ({ partNumber: p.part_number, etag: p.etag, size: p.size }));
  }

  storePart(key: VersionKey, tenant: string, p: { partNumber: number; etag: string; size: number }, now: number): void {
    ensureTable(this.sql, "parts", TRACKER_PARTS_TABLE);
    this.sql.exec(
      "INSERT OR REPLACE INTO parts (file_id, version, tenant, part_number, etag, size, stored_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      ...key,
      tenant,
      p.partNumber,
      p.etag,
      p.size,
      now,
    );
  }

  deleteParts(key: VersionKey): void {
    if (this.#hasParts()) this.sql.exec("DELETE FROM parts WHERE file_id = ? AND version = ?", ...key);
  }

  /** Every part of every copy (the container is over and its uploads were aborted). */
  deleteAllParts(): void {
    if (this.#hasParts()) this.sql.exec("DELETE FROM parts");
  }
}
