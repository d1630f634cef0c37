/**
 * @module durable/read-memo
 * Reads of one Durable Object's SQLite database, remembered until the database's next write.
 *
 * A tracker asks the same few questions many times per event: its container row, a response's
 * place in the turn order, each capability's next wake time (`nextWake`, ../tracker/context.ts),
 * what work is left. Counted in a 50-conversation two-file bench round (issue #20), a tracker ran
 * about 340 SQL statements per turn, most of them these reads repeated with no write in between,
 * and SQLite statements were the largest single share of the isolate's CPU.
 *
 * Every statement goes through the object's one `SqlStorage` (`ctx.storage.sql` is one object per
 * instance: a lazy instance property in workerd), so the memo wraps that object's `exec` once and
 * counts writes: any statement that is not a `SELECT` starts a new generation, except an
 * `INSERT`/`UPDATE`/`DELETE` that wrote no row (`rowsWritten`, known once `exec` returns for a
 * statement without `RETURNING`:
 * https://developers.cloudflare.com/durable-objects/api/sqlite-storage-api/#exec). A remembered
 * read is served while its generation is current. `deleteAll` runs no statement, so it starts one
 * through `forgetAll`. A rolled-back `transactionSync` would need the same; none of the memo's
 * users writes in one. The memo lives and dies with the instance, like the object's other
 * in-memory state; what it returns is shared, so callers must not change it.
 */

const memos = new WeakMap<SqlStorage, ReadMemo>();

/** A statement that only reads. */
const READ = /^\s*select\b/i;
/** A row write whose `rowsWritten` is final when `exec` returns. */
const ROW_WRITE = /^\s*(insert|update|delete)\b/i;

export class ReadMemo {
  #generation = 0;
  readonly #values = new Map<string, { generation: number; value: unknown }>();

  private constructor(sql: SqlStorage) {
    const exec = sql.exec.bind(sql);
    const wrapped = <T extends Record<string, SqlStorageValue>>(query: string, ...bindings: unknown[]) => {
      if (READ.test(query)) return exec<T>(query, ...bindings);
      let cursor: SqlStorageCursor<T> | undefined;
      try {
        cursor = exec<T>(query, ...bindings);
      } finally {
        // A failed statement may still have changed something (a multi-statement string).
        if (!cursor || !ROW_WRITE.test(query) || /\breturning\b/i.test(query) || cursor.rowsWritten > 0) this.forget();
      }
      return cursor;
    };
    Object.defineProperty(sql, "exec", { value: wrapped, configurable: true, writable: true });
  }

  /** The memo of `sql`'s object (made, and its `exec` wrapped, on first use). */
  static of(sql: SqlStorage): ReadMemo {
    let memo = memos.get(sql);
    if (!memo) memos.set(sql, (memo = new ReadMemo(sql)));
    return memo;
  }

  /** `read()`'s result, computed once per generation for `key` (which must name the bindings too). */
  read<T>(key: string, read: () => T): T {
    const hit = this.#values.get(key);
    if (hit && hit.generation === this.#generation) return hit.value as T;
    const value = read();
    this.#values.set(key, { generation: this.#generation, value });
    return value;
  }

  /** Forgets `sql`'s remembered reads, if it has a memo (after `deleteAll`, which runs no statement). */
  static forgetAll(sql: SqlStorage): void {
    memos.get(sql)?.forget();
  }

  /** Everything remembered is stale: a write, a rollback, `deleteAll`. */
  forget(): void {
    this.#generation++;
    if (this.#values.size > 256) this.#values.clear();
  }
}
