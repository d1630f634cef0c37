/**
 * @module durable/sqlite-migrations
 * A tiny migration runner for the SQLite storage of every Durable Object (trackers, tenants,
 * metering). workerd's SQLite authorizer denies `PRAGMA user_version`, so the applied version lives
 * in a one-row table of our own (`_schema`). Migrations run in the constructor under
 * `blockConcurrencyWhile`, before any request or alarm sees the object
 * (https://developers.cloudflare.com/durable-objects/api/storage-api/#sql-api). Migrations are only
 * ever appended; each object's list lives beside it (docs/storage.md).
 */

/**
 * The SQLite storage of a Durable Object, migrated before any request or alarm sees it: call it
 * from the constructor. `blockConcurrencyWhile` holds events back until the migrations ran (and
 * resets the object if they throw), which is the one use it is meant for.
 */
export function openMigrated(
  ctx: DurableObjectState,
  migrations: readonly string[],
  /** Leaves the storage as it is when this says so (an object that emptied itself and keeps only a few rows). */
  unless?: (sql: SqlStorage) => boolean,
  /** The schema the migrations end at, for an object that has none yet (see `migrate`). */
  baseline?: string,
): SqlStorage {
  void ctx.blockConcurrencyWhile(async () => {
    if (!unless?.(ctx.storage.sql)) migrate(ctx.storage, migrations, baseline);
  });
  return ctx.storage.sql;
}

/**
 * Applies the migrations after the stored version, in one synchronous transaction. With a
 * `baseline` (the schema the migrations end at), an object that has no version yet gets it instead
 * of every migration in turn: the final layout at once, with no table made only to be rebuilt or
 * dropped by a later migration.
 */
export function migrate(storage: DurableObjectStorage, migrations: readonly string[], baseline?: string): number {
  const sql = storage.sql;
  sql.exec("CREATE TABLE IF NOT EXISTS _schema (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)");
  const row = sql.exec<{ version: number }>("SELECT version FROM _schema WHERE id = 1").toArray()[0];
  const current = row?.version ?? 0;
  if (current >= migrations.length) return current;
  storage.transactionSync(() => {
    const steps = current === 0 && baseline !== undefined ? [baseline] : migrations.slice(current);
    for (const step of steps) {
      for (const stmt of step
        .split(";")
        .map((s) => s.trim())
        .filter(Boolean))
        sql.exec(stmt);
    }
    sql.exec(
      "INSERT INTO _schema (id, version) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version",
      migrations.length,
    );
  });
  return migrations.length;
}

export const hasTable = (sql: SqlStorage, name: string) =>
  sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", name).toArray().length > 0;

/** Never migrated, or emptied by `deleteAll`: the object holds no `_schema` table. */
export const unmigrated = (sql: SqlStorage): boolean => !hasTable(sql, "_schema");
