/**
 * @module tracker/job-store
 * The SQL statements of the ContainerTracker's copy jobs and their multipart parts (tables `jobs`
 * and `parts` of ./schema.ts, documented in docs/storage.md, "ContainerTracker"). Only the copies
 * capability (./copies.ts) and the container's end (./store.ts, ./lifecycle.ts) use them. `parts`
 * is made by the first multipart part (`TRACKER_PARTS_TABLE`): most trackers never need it.
 */
import { hasTable } from "../durable/sqlite-migrations";
import type { JobRow, VersionKey } from "./rows";
import { TRACKER_PARTS_TABLE } from "./schema";

export class JobStore {
  constructor(private readonly sql: SqlStorage) {}

  #hasParts(): boolean {
    return hasTable(this.sql, "parts");
  }

  add(tenant: string, fileId: string, version: number, at: number, partSize: number): void {
    this.sql.exec(
      `INSERT INTO jobs (file_id, version, tenant, next_attempt_at, part_size) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (file_id, version) DO UPDATE SET next_attempt_at = excluded.next_attempt_at, attempts = 0`,
      fileId,
      version,
      tenant,
      at,
      partSize,
    );
  }

  get(fileId: string, version: number): JobRow | undefined {
    return this.sql.exec<JobRow>("SELECT * FROM jobs WHERE file_id = ? AND version = ?", fileId, version).toArray()[0];
  }

  all(): JobRow[] {
    return this.sql.exec<JobRow>("SELECT * FROM jobs").toArray();
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
    this.sql.exec("DELETE FROM jobs WHERE file_id = ? AND version = ?", ...key);
  }

  /** A step starts: counted, and marked with the instance running it (see `interruptedStep` in ./policy.ts). */
  startStep(key: VersionKey, runner: string): void {
    this.sql.exec("UPDATE jobs SET steps = steps + 1, runner = ? WHERE file_id = ? AND version = ?", runner, ...key);
  }

  /** The step of `runner` ended (a rescheduled job is released by `reschedule` already). */
  endStep(key: VersionKey, runner: string): void {
    this.sql.exec("UPDATE jobs SET runner = NULL WHERE file_id = ? AND version = ? AND runner = ?", ...key, runner);
  }

  /** The job's multipart upload (null: none), and the part size its parts have (kept when not given). */
  setUploadId(key: VersionKey, uploadId: string | null, partSize?: number): void {
    this.sql.exec(
      "UPDATE jobs SET upload_id = ?, part_size = coalesce(?, part_size) WHERE file_id = ? AND version = ?",
      uploadId,
      partSize ?? null,
      ...key,
    );
  }

  /** Continue (`attempts` 0, no error) or retry (`attempts`, the error) at `at`; no step of it runs. */
  reschedule(key: VersionKey, at: number, attempts: number, lastError: string | null): void {
    this.sql.exec(
      "UPDATE jobs SET attempts = ?, next_attempt_at = ?, last_error = ?, runner = NULL WHERE file_id = ? AND version = ?",
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
    this.sql.exec(TRACKER_PARTS_TABLE);
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
