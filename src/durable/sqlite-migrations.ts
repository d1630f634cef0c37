/**
 * @module durable/sqlite-migrations
 * A tiny migration runner for the SQLite storage of every Durable Object (trackers, tenants,
 * metering). workerd's SQLite authorizer denies `PRAGMA user_version`, so the applied version lives
 * in a one-row table of our own (`_schema`). Migrations run in the constructor under
 * `blockConcurrencyWhile`, before any request or alarm sees the object
 * (https://developers.cloudflare.com/durable-objects/api/storage-api/#sql-api). Migrations are only
 * ever appended; each object's list lives beside it (docs/storage.md).
 */
import { ReadMemo } from "./read-memo";

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
  try {
    return applyMigrations(storage, migrations, baseline);
  } finally {
    tablesChanged(sql);
  }
}

function applyMigrations(storage: DurableObjectStorage, migrations: readonly string[], baseline?: string): number {
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

/**
 * The tables of each object's storage, read from `sqlite_master` once and remembered until they may
 * change: most calls of a tracker or index ask whether a lazily made table exists, and reading the
 * schema each time was a measurable share of their CPU (issue #20). Keyed by the object's
 * `SqlStorage` (`ctx.storage.sql` is one object per instance: a lazy instance property in workerd),
 * so an instance forgets it with everything else when it is evicted.
 */
const known = new WeakMap<SqlStorage, Set<string>>();

/** Whether the object's storage holds table `name` (remembered per instance; see `tablesChanged`). */
export function hasTable(sql: SqlStorage, name: string): boolean {
  let names = known.get(sql);
  if (!names) {
    names = new Set(
      sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
        .toArray()
        .map((r) => r.name),
    );
    known.set(sql, names);
  }
  return names.has(name);
}

/**
 * Call after anything that makes or drops tables (a migration, `CREATE TABLE`, `deleteAll`): the
 * next `hasTable` reads `sqlite_master` again.
 */
export function tablesChanged(sql: SqlStorage): void {
  known.delete(sql);
}

/** Runs `ddl` (which makes table `name`) unless the table is known to exist already. */
export function ensureTable(sql: SqlStorage, name: string, ddl: string): void {
  if (hasTable(sql, name)) return;
  try {
    sql.exec(ddl);
  } finally {
    tablesChanged(sql);
  }
}

/** Empties the object's storage (tables, rows and alarm: `deleteAll`) and forgets its tables. */
export async function deleteAllStorage(storage: DurableObjectStorage): Promise<void> {
  try {
    await storage.deleteAll();
  } finally {
    tablesChanged(storage.sql);
    ReadMemo.forgetAll(storage.sql);
  }
}

/** Never migrated, or emptied by `deleteAll`: the object holds no `_schema` table. */
export const unmigrated = (sql: SqlStorage): boolean => !hasTable(sql, "_schema");
