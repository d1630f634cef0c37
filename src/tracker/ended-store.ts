/**
 * @module tracker/ended-store
 * The SQL of a ContainerTracker's end (./outlive.ts; docs/storage.md, "What outlives the
 * objects"): what is left to do and what outlives the container, read before it empties itself,
 * and the `ended` rows it keeps after, the R2 deletions it still owes. That table is made after
 * `deleteAll`, not by a migration: a tracker that never ended has none.
 */
import { ensureTable, hasTable, unmigrated } from "../durable/sqlite-migrations";
import { ReadMemo } from "../durable/read-memo";
import type { DueDeletion } from "./policy";
import type { FileRow, ResponseRow } from "./rows";
import { JOB_COLUMNS } from "./schema";

/**
 * The columns of a stored object's `files` row worth keeping: those with a value, less the copy
 * job's (a stored version has none). A reopened tracker's `restoreFiles` gives the others their
 * defaults. Short rows keep the `ended` rows of a few files within one page.
 */
function keptColumns(file: FileRow): Partial<FileRow> {
  return Object.fromEntries(
    Object.entries(file).filter(
      ([column, value]) => value !== null && !(JOB_COLUMNS as readonly string[]).includes(column),
    ),
  ) as Partial<FileRow>;
}

/** The R2 records naming a stored object: rewritten as `deleted` when the emptied tracker deletes it. */
export interface EndedRefs {
  pins: string[];
  manifests: string[];
  /** The object is deleted by retention (not because its links expired first): the records say so. */
  retention: boolean;
}

/** An owed deletion as an emptied tracker keeps it: for a stored object, its `files` row and the records naming it. */
export interface EndedRow extends DueDeletion {
  file?: FileRow | null;
  refs?: EndedRefs | null;
}

export class EndedStore {
  readonly #memo: ReadMemo;

  constructor(private readonly sql: SqlStorage) {
    this.#memo = ReadMemo.of(sql);
  }

  // ───────────────── before the end: what is left to do, what outlives it ─────────────────

  /** Counts of what is still to do, for `containerIsOver` in ./policy.ts. */
  workLeft(): { unfinished: number; jobs: number; sweeping: number; repairs: number } {
    return this.#memo.read("workLeft", () =>
      this.sql
        .exec<{ unfinished: number; jobs: number; sweeping: number; repairs: number }>(
          `SELECT (SELECT count(*) FROM files WHERE state IN ('pending', 'copying')) AS unfinished,
           (SELECT count(*) FROM jobs) AS jobs,
           (SELECT count(*) FROM responses WHERE sweep_next_at IS NOT NULL) AS sweeping,
           (SELECT count(*) FROM responses WHERE repair_due_at IS NOT NULL OR repair_response_id IS NOT NULL) AS repairs`,
        )
        .one(),
    );
  }

  responses(): ResponseRow[] {
    return this.sql.exec<ResponseRow>("SELECT * FROM responses ORDER BY created_at, response_id").toArray();
  }

  /** Every path a response linked or cited here (its links' paths are among them). */
  responsePaths(responseId: string): string[] {
    return this.sql
      .exec<{ path: string }>(
        "SELECT path FROM claims WHERE response_id = ? UNION SELECT path FROM citations WHERE response_id = ? ORDER BY path",
        responseId,
        responseId,
      )
      .toArray()
      .map((r) => r.path);
  }

  /** The container is over: a path still pending can no longer be found. */
  settleClaims(): void {
    this.sql.exec("UPDATE claims SET state = 'missing' WHERE state = 'pending'");
  }

  // ───────────────── after the end: the `ended` rows ─────────────────

  /** Whether the tracker emptied itself (`deleteAll`) and keeps only its `ended` rows. */
  isEmptied(): boolean {
    return unmigrated(this.sql);
  }

  /**
   * After `deleteAll`: the R2 deletions still owed, the only rows an emptied tracker keeps. A
   * stored object's row also keeps its `files` row as JSON (`files`, by R2 key), so a tracker
   * reopened later knows the versions it numbered.
   */
  write(tenant: string, containerId: string, due: readonly EndedRow[]): void {
    // A rowid table with no index: one page holds a few rows inline (a WITHOUT ROWID row this
    // long would spill to an overflow page of its own), and an emptied tracker keeps few.
    ensureTable(
      this.sql,
      "ended",
      "CREATE TABLE IF NOT EXISTS ended (key TEXT NOT NULL, at INTEGER NOT NULL, prefix INTEGER NOT NULL, tenant TEXT NOT NULL, container_id TEXT NOT NULL, file TEXT, refs TEXT)",
    );
    for (const d of due) {
      this.sql.exec(
        "INSERT INTO ended (key, at, prefix, tenant, container_id, file, refs) VALUES (?, ?, ?, ?, ?, ?, ?)",
        d.key,
        d.at,
        d.prefix ? 1 : 0,
        tenant,
        containerId,
        d.file ? JSON.stringify(keptColumns(d.file)) : null,
        d.refs ? JSON.stringify(d.refs) : null,
      );
    }
  }

  /** A reopened tracker takes back the `files` rows its `ended` rows kept. */
  restoreFiles(): void {
    const kept = this.sql.exec<{ file: string }>("SELECT file FROM ended WHERE file IS NOT NULL").toArray();
    for (const { file } of kept) {
      const row = JSON.parse(file) as Record<string, SqlStorageValue>;
      const cols = Object.keys(row).filter((c) => /^[a-z0-9_]+$/.test(c));
      this.sql.exec(
        `INSERT INTO files (${cols.join(", ")}) VALUES (${cols.map(() => "?").join(", ")}) ON CONFLICT DO NOTHING`,
        ...cols.map((c) => row[c]!),
      );
    }
  }

  #hasEnded(): boolean {
    return hasTable(this.sql, "ended");
  }

  /** Who the emptied tracker belonged to (null when it keeps nothing). */
  owner(): { tenant: string; container_id: string } | null {
    // The tracker's own rows, before it emptied itself or once reopened, say whose it is.
    if (!this.isEmptied()) return null;
    if (!this.#hasEnded()) return null;
    return (
      this.sql
        .exec<{ tenant: string; container_id: string }>("SELECT tenant, container_id FROM ended LIMIT 1")
        .toArray()[0] ?? null
    );
  }

  due(now: number): EndedRow[] {
    if (!this.#hasEnded()) return [];
    return this.sql
      .exec<{ key: string; at: number; prefix: number; file: string | null; refs: string | null }>(
        "SELECT key, at, prefix, file, refs FROM ended WHERE at <= ? ORDER BY at",
        now,
      )
      .toArray()
      .map((r) => ({
        key: r.key,
        at: r.at,
        prefix: r.prefix === 1,
        file: r.file ? (JSON.parse(r.file) as FileRow) : null,
        refs: r.refs ? (JSON.parse(r.refs) as EndedRefs) : null,
      }));
  }

  drop(key: string): void {
    this.sql.exec("DELETE FROM ended WHERE key = ?", key);
  }

  earliest(): number | null {
    if (!this.#hasEnded()) return null;
    return this.sql.exec<{ at: number | null }>("SELECT min(at) AS at FROM ended").one().at;
  }
}
