/**
 * @module tracker/version-reads
 * The SQL statements the version decision reads besides a file's latest version (`versionDecision`
 * and `copyBeganBefore` in ./policy.ts, applied by ./sweeps.ts): a response's place in the
 * container's order of responses, the version a response already cites, and the copies running
 * when a turn ended. Part of the ContainerTracker's store (./store.ts, `versions`); tables in
 * ./schema.ts, documented in docs/storage.md.
 */
import type { TurnOrder } from "./version-policy";
import type { FileRow } from "./rows";
import { ReadMemo } from "../durable/read-memo";

export class VersionReads {
  readonly #memo: ReadMemo;

  constructor(private readonly sql: SqlStorage) {
    this.#memo = ReadMemo.of(sql);
  }

  /** The response's place in the container's order (`TurnOrder`): `created_at`, then when first heard of. */
  turnOrder(responseId: string): TurnOrder | null {
    return this.#memo.read(`turnOrder ${responseId}`, () => {
      const r = this.sql
        .exec<{ created_at: number | null; seq: number }>(
          "SELECT created_at, seq FROM responses WHERE response_id = ?",
          responseId,
        )
        .toArray()[0];
      return r ? [r.created_at ?? 0, r.seq] : null;
    });
  }

  /** The newest version of a file id that a response cites. */
  citedVersion(responseId: string, fileId: string): FileRow | undefined {
    return this.#memo.read(
      `citedVersion ${responseId} ${fileId}`,
      () =>
        this.sql
          .exec<FileRow>(
            `SELECT f.* FROM files f WHERE f.file_id = ? AND EXISTS
           (SELECT 1 FROM citations c WHERE c.response_id = ? AND c.file_id = f.file_id AND c.version = f.version)
         ORDER BY f.version DESC LIMIT 1`,
            fileId,
            responseId,
          )
          .toArray()[0],
    );
  }

  /** The versions (`<file id>/<version>`) being copied now. */
  copying(): Set<string> {
    return new Set(
      this.sql
        .exec<{ file_id: string; version: number }>("SELECT file_id, version FROM files WHERE state = 'copying'")
        .toArray()
        .map((r) => `${r.file_id}/${r.version}`),
    );
  }
}
