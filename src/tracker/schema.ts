/**
 * @module tracker/schema
 * SQLite schemas of the two Durable Objects, applied by the runner in
 * src/durable/sqlite-migrations.ts. Every table is documented in docs/storage.md.
 */

/**
 * The ContainerTracker's tables as v10 made them (v10 and the baseline are built from this; a later
 * change is a migration appended, with the baseline changed to match: test/workers/tracker/schema-v10.test.ts
 * compares a migrated tracker's tables with a new one's), each costing as few 4 KiB pages as it can
 * while the container is live (`databaseSize` counts every table and index as a page of its own,
 * even empty; docs/storage.md, "ContainerTracker"):
 * - Keyed tables are `WITHOUT ROWID` (https://www.sqlite.org/withoutrowid.html): a rowid table
 *   with a TEXT or composite PRIMARY KEY keeps its rows and its automatic index in two B-trees.
 * - No secondary index: the primary keys' order serves the lookups (`citations` by response, and
 *   by (response, path) within it), the rest read a few rows (a response's citations, a
 *   container's files by path) or let SQLite build a transient automatic index for the join
 *   (https://www.sqlite.org/optoverview.html#automatic_indexes).
 * - The container's one row is kept in the runner's one-row `_schema` table (`CONTAINER_IN_SCHEMA_ROW`):
 *   a table of its own would be a page more.
 * - A copy job is columns of its file version's row (`next_attempt_at` … `runner`; a job exists
 *   while `next_attempt_at` is set): the view `jobs` (`JOBS_VIEW`, no page: a view has no B-tree)
 *   reads them as the `jobs` table of v1..v9 did, and ./job-store.ts writes them.
 * - `responses.seq` is the order the tracker first heard of each response (it was the rowid).
 * A row longer than about 1,000 bytes of a `WITHOUT ROWID` table spills to an overflow page of its
 * own (a few `files` rows with very long paths); the rows here are far shorter.
 */
/**
 * DDL as stored: sqlite_master keeps each statement's text, and all of it shares one page while it
 * fits (the layout here is about 2.5 KB of it), so the indentation is left out.
 */
const compact = (ddl: string) => ddl.replace(/\s+/g, " ").trim();

const V10_TABLES = {
  files: `(
    file_id TEXT NOT NULL, version INTEGER NOT NULL, tenant TEXT NOT NULL, container_id TEXT NOT NULL,
    path TEXT NOT NULL, filename TEXT NOT NULL, source TEXT, upstream_created_at INTEGER,
    bytes INTEGER, content_type TEXT NOT NULL, sha256 TEXT, etag TEXT,
    state TEXT NOT NULL, reason TEXT, state_at INTEGER NOT NULL, r2_key TEXT NOT NULL,
    first_seen_at INTEGER NOT NULL, first_response_id TEXT, resumed_from INTEGER, range_honoured INTEGER,
    retain_until INTEGER, reason_code TEXT,
    next_attempt_at INTEGER, attempts INTEGER NOT NULL DEFAULT 0, steps INTEGER NOT NULL DEFAULT 0,
    upload_id TEXT, part_size INTEGER, last_error TEXT, runner TEXT,
    PRIMARY KEY (file_id, version)
  ) WITHOUT ROWID`,
  citations: `(
    response_id TEXT NOT NULL, file_id TEXT NOT NULL, version INTEGER NOT NULL, tenant TEXT NOT NULL,
    path TEXT NOT NULL, cited TEXT NOT NULL, seen_at INTEGER NOT NULL,
    PRIMARY KEY (response_id, file_id, version, cited)
  ) WITHOUT ROWID`,
  claims: `(
    response_id TEXT NOT NULL, path TEXT NOT NULL, tenant TEXT NOT NULL, cited TEXT NOT NULL,
    state TEXT NOT NULL, file_id TEXT, version INTEGER, claimed_at INTEGER NOT NULL,
    PRIMARY KEY (response_id, path)
  ) WITHOUT ROWID`,
  responses: `(
    response_id TEXT NOT NULL PRIMARY KEY, tenant TEXT NOT NULL, created_at INTEGER,
    sweep_next_at INTEGER, sweep_until INTEGER, sweep_attempts INTEGER NOT NULL DEFAULT 0, swept_at INTEGER,
    links_expire INTEGER NOT NULL DEFAULT 0, links_until INTEGER,
    repair_attempted_at INTEGER, repair_model TEXT, repair_due_at INTEGER, repair_response_id TEXT,
    sweep_failures INTEGER NOT NULL DEFAULT 0, seq INTEGER NOT NULL
  ) WITHOUT ROWID`,
} as const;

/** A copy job's own columns of its `files` row (set while it has a job; ./job-store.ts). */
export const JOB_COLUMNS = [
  "next_attempt_at",
  "attempts",
  "steps",
  "upload_id",
  "part_size",
  "last_error",
  "runner",
] as const;

/** The copy jobs: the file versions with a job, and its columns (those of the `jobs` table of v1..v9). */
const JOBS_VIEW =
  compact(`CREATE VIEW jobs AS SELECT file_id, version, tenant, next_attempt_at, attempts, steps, upload_id,
    part_size, last_error, resumed_from, range_honoured, runner FROM files WHERE next_attempt_at IS NOT NULL`);

/**
 * Multipart parts (./job-store.ts): made by a copy's first part, so a tracker whose copies are all
 * single `put`s (every file below 100 MB with a length) keeps no such table.
 */
export const TRACKER_PARTS_TABLE = compact(`CREATE TABLE IF NOT EXISTS parts (
    file_id TEXT NOT NULL, version INTEGER NOT NULL, tenant TEXT NOT NULL,
    part_number INTEGER NOT NULL, etag TEXT NOT NULL, size INTEGER NOT NULL, stored_at INTEGER NOT NULL,
    PRIMARY KEY (file_id, version, part_number)
  ) WITHOUT ROWID`);

/**
 * The container (what the `container` table held up to v9), as columns of the `_schema` row
 * (`id = 1`): `container_id` is the container's id, NULL until the first `open`/`track` records it.
 */
const CONTAINER_COLUMNS = [
  "container_id TEXT",
  "tenant TEXT",
  "status TEXT",
  "last_active_at INTEGER",
  "expires_after_minutes INTEGER",
  "checked_at INTEGER",
  "opened_at INTEGER",
  "client_active_at INTEGER",
  "final_sweep_at INTEGER",
  "final_swept_at INTEGER",
  "upstream_key_sealed TEXT",
  "tenant_checked_at INTEGER",
] as const;
const CONTAINER_IN_SCHEMA_ROW = CONTAINER_COLUMNS.map((c) => `ALTER TABLE _schema ADD COLUMN ${c}`);
const containerColumn = (c: string) => c.split(" ")[0]!;

/** The select list that reads the `_schema` row as the `ContainerRow` of ./rows.ts (`id` the container's). */
export const CONTAINER_ROW_SELECT = CONTAINER_COLUMNS.map(containerColumn)
  .map((c) => (c === "container_id" ? "container_id AS id" : c))
  .join(", ");

/** What a new tracker starts with (`migrate`'s baseline): the layout `TRACKER_MIGRATIONS` ends at. */
export const TRACKER_BASELINE = [
  ...CONTAINER_IN_SCHEMA_ROW,
  ...Object.entries(V10_TABLES).map(([name, columns]) => compact(`CREATE TABLE ${name} ${columns}`)),
  JOBS_VIEW,
].join(";\n");

/** How v10 reads each rebuilt table's rows from its v9 table, in the new column order. */
const V10_ROWS: Record<keyof typeof V10_TABLES, string> = {
  files: `SELECT f.*, j.next_attempt_at, coalesce(j.attempts, 0), coalesce(j.steps, 0), j.upload_id, j.part_size,
     j.last_error, j.runner FROM files f LEFT JOIN jobs j ON j.file_id = f.file_id AND j.version = f.version`,
  citations: "SELECT * FROM citations",
  claims: "SELECT * FROM claims",
  responses: "SELECT *, rowid FROM responses",
};

/**
 * v10 on a tracker made by v1..v9: the container row moves into `_schema`, each job into its file
 * version's row (a job with no file row could not run: it goes), each other table is rebuilt in
 * the layout above with its rows (`V10_ROWS`; a response's `seq` is its rowid), its indexes
 * dropped with it.
 */
const TRACKER_V10 = [
  // First what goes, so the schema (sqlite_master, a page) never holds the old and the new at once.
  "DROP INDEX files_by_path",
  "DROP INDEX citations_by_path",
  "DROP INDEX citations_by_file",
  ...CONTAINER_IN_SCHEMA_ROW,
  `UPDATE _schema SET (${CONTAINER_COLUMNS.map(containerColumn).join(", ")}) =
     (SELECT ${CONTAINER_COLUMNS.map(containerColumn)
       .map((c) => (c === "container_id" ? "id" : c))
       .join(", ")} FROM container LIMIT 1)
   WHERE id = 1`,
  "DROP TABLE container",
  ...Object.entries(V10_TABLES).flatMap(([name, columns]) => [
    compact(`CREATE TABLE ${name}_v10 ${columns}`),
    `INSERT INTO ${name}_v10 ${V10_ROWS[name as keyof typeof V10_TABLES]}`,
    `DROP TABLE ${name}`,
    `ALTER TABLE ${name}_v10 RENAME TO ${name}`,
  ]),
  "DROP TABLE jobs",
  JOBS_VIEW,
  TRACKER_PARTS_TABLE.replace("IF NOT EXISTS parts", "parts_v10"),
  "INSERT INTO parts_v10 SELECT * FROM parts",
  "DROP TABLE parts",
  "ALTER TABLE parts_v10 RENAME TO parts",
].join(";\n");

/** ContainerTracker: one container, its files (by version), citations, claims, sweeps and copy jobs. */
export const TRACKER_MIGRATIONS = [
  `
  CREATE TABLE container (
    id TEXT PRIMARY KEY, tenant TEXT NOT NULL,
    status TEXT, last_active_at INTEGER, expires_after_minutes INTEGER, checked_at INTEGER,
    opened_at INTEGER NOT NULL
  );
  CREATE TABLE files (
    file_id TEXT NOT NULL, version INTEGER NOT NULL, tenant TEXT NOT NULL, container_id TEXT NOT NULL,
    path TEXT NOT NULL, filename TEXT NOT NULL, source TEXT, upstream_created_at INTEGER,
    bytes INTEGER, content_type TEXT NOT NULL, sha256 TEXT, etag TEXT,
    state TEXT NOT NULL, reason TEXT, state_at INTEGER NOT NULL, r2_key TEXT NOT NULL,
    first_seen_at INTEGER NOT NULL, first_response_id TEXT, resumed_from INTEGER, range_honoured INTEGER,
    PRIMARY KEY (file_id, version)
  );
  CREATE INDEX files_by_path ON files (path, upstream_created_at);
  CREATE TABLE citations (
    response_id TEXT NOT NULL, file_id TEXT NOT NULL, version INTEGER NOT NULL, tenant TEXT NOT NULL,
    path TEXT NOT NULL, cited TEXT NOT NULL, seen_at INTEGER NOT NULL,
    PRIMARY KEY (response_id, file_id, version, cited)
  );
  CREATE INDEX citations_by_path ON citations (response_id, path);
  CREATE TABLE claims (
    response_id TEXT NOT NULL, path TEXT NOT NULL, tenant TEXT NOT NULL, cited TEXT NOT NULL,
    state TEXT NOT NULL, file_id TEXT, version INTEGER, claimed_at INTEGER NOT NULL,
    PRIMARY KEY (response_id, path)
  );
  CREATE TABLE responses (
    response_id TEXT PRIMARY KEY, tenant TEXT NOT NULL, created_at INTEGER,
    sweep_next_at INTEGER, sweep_until INTEGER, sweep_attempts INTEGER NOT NULL DEFAULT 0, swept_at INTEGER
  );
  CREATE TABLE jobs (
    file_id TEXT NOT NULL, version INTEGER NOT NULL, tenant TEXT NOT NULL,
    next_attempt_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, steps INTEGER NOT NULL DEFAULT 0,
    upload_id TEXT, part_size INTEGER NOT NULL, last_error TEXT,
    resumed_from INTEGER, range_honoured INTEGER,
    PRIMARY KEY (file_id, version)
  );
  CREATE TABLE parts (
    file_id TEXT NOT NULL, version INTEGER NOT NULL, tenant TEXT NOT NULL,
    part_number INTEGER NOT NULL, etag TEXT NOT NULL, size INTEGER NOT NULL, stored_at INTEGER NOT NULL,
    PRIMARY KEY (file_id, version, part_number)
  )
  `,
  // v2: lifecycle. Client activity drives the computed expiry and the final sweep; stored files
  // carry their retention deadline; responses say until when their links can reach this tracker.
  `
  ALTER TABLE container ADD COLUMN client_active_at INTEGER;
  ALTER TABLE container ADD COLUMN final_sweep_at INTEGER;
  ALTER TABLE container ADD COLUMN final_swept_at INTEGER;
  ALTER TABLE files ADD COLUMN retain_until INTEGER;
  ALTER TABLE responses ADD COLUMN links_expire INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE responses ADD COLUMN links_until INTEGER
  `,
  // v3: optional repair (src/tracker/repair.ts) is attempted at most once per response.
  `ALTER TABLE responses ADD COLUMN repair_attempted_at INTEGER`,
  // v4: repair runs from the alarm: a response that asked for it remembers its model, and the
  // repair turn is followed until its files are adopted (docs/storage.md, "Repair").
  `
  ALTER TABLE responses ADD COLUMN repair_model TEXT;
  ALTER TABLE responses ADD COLUMN repair_due_at INTEGER;
  ALTER TABLE responses ADD COLUMN repair_response_id TEXT
  `,
  // v5: pass-through mode: the caller's own upstream key, sealed, for the listings and copies
  // after the request (the deployment's key cannot see that caller's containers).
  `ALTER TABLE container ADD COLUMN upstream_key_sealed TEXT`,
  // v6: a machine reason code beside the human `reason` of a file (`ReasonCode` in src/tracker/types.ts).
  `ALTER TABLE files ADD COLUMN reason_code TEXT`,
  // v7: failures that don't become load: listings that failed in a row (their backoff), and when
  // the tenant's record was last read from the directory (multi-tenant mode).
  `
  ALTER TABLE responses ADD COLUMN sweep_failures INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE container ADD COLUMN tenant_checked_at INTEGER
  `,
  // v8: copies after a crash: the instance running a job's step (a later instance resumes what an
  // earlier one left mid-step at once).
  `ALTER TABLE jobs ADD COLUMN runner TEXT`,
  // v9: the copy order (linked and cited files first) reads each due job's citations by file
  // version, without a scan of every citation per job.
  `CREATE INDEX citations_by_file ON citations (file_id, version)`,
  // v10: fewer pages (`V10_TABLES` above): keyed tables WITHOUT ROWID, no secondary index.
  TRACKER_V10,
] as const;

/**
 * The ResponseIndex's one-row state (the response, its containers as a JSON array) lives in the
 * runner's own one-row `_schema` table: every table and index is a page of its own (4 KiB) even
 * when it holds one row, so a separate `response` table and a `containers` table would cost two.
 */
const RESPONSE_IN_SCHEMA_ROW = `
  ALTER TABLE _schema ADD COLUMN response_id TEXT;
  ALTER TABLE _schema ADD COLUMN tenant TEXT;
  ALTER TABLE _schema ADD COLUMN previous_response_id TEXT;
  ALTER TABLE _schema ADD COLUMN created_at INTEGER;
  ALTER TABLE _schema ADD COLUMN registered_at INTEGER;
  ALTER TABLE _schema ADD COLUMN container_ids TEXT NOT NULL DEFAULT '[]'
`;

/**
 * The ResponseIndex's other tables belong to a capability and are made by its first write
 * (`CREATE TABLE IF NOT EXISTS`), so an index only pays the pages of what it uses: links only once
 * it issued one, `resolutions` once a path resolved, the watch only for a background response, the
 * turns only in the index named by a conversation id. Keyed tables are `WITHOUT ROWID`: a rowid
 * table with a TEXT primary key keeps a second B-tree (its automatic index), a page more
 * (https://www.sqlite.org/withoutrowid.html). Objects migrated from v1..v5 keep their tables as they
 * were (same columns; readers check that a table exists), so a later migration that alters one of
 * these tables must allow for its absence and change the DDL here as well.
 */
export const RESPONSE_INDEX_TABLES = {
  links: `CREATE TABLE IF NOT EXISTS links (
    url TEXT PRIMARY KEY, tenant TEXT NOT NULL, path TEXT NOT NULL, original TEXT NOT NULL, recorded_at INTEGER NOT NULL
  ) WITHOUT ROWID`,
  resolutions: `CREATE TABLE IF NOT EXISTS resolutions (
    path TEXT PRIMARY KEY, tenant TEXT NOT NULL, container_id TEXT NOT NULL, file_id TEXT NOT NULL,
    version INTEGER NOT NULL, via_response_id TEXT NOT NULL, resolved_at INTEGER NOT NULL
  ) WITHOUT ROWID`,
  background_watch: `CREATE TABLE IF NOT EXISTS background_watch (
    id INTEGER PRIMARY KEY CHECK (id = 1), tenant TEXT NOT NULL, previous_response_id TEXT,
    next_poll_at INTEGER NOT NULL, polls INTEGER NOT NULL DEFAULT 0, until INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'watching', last_error TEXT, upstream_key_sealed TEXT,
    key_failures INTEGER NOT NULL DEFAULT 0
  )`,
  conversation_turns: `CREATE TABLE IF NOT EXISTS conversation_turns (
    response_id TEXT PRIMARY KEY, tenant TEXT NOT NULL, seq INTEGER NOT NULL, previous_response_id TEXT
  ) WITHOUT ROWID`,
  conversation_items: `CREATE TABLE IF NOT EXISTS conversation_items (
    item_id TEXT PRIMARY KEY, tenant TEXT NOT NULL, response_id TEXT NOT NULL
  ) WITHOUT ROWID`,
} as const;
export type ResponseIndexTable = keyof typeof RESPONSE_INDEX_TABLES;

/**
 * What a new ResponseIndex starts with (`migrate`'s baseline: the schema `RESPONSE_INDEX_MIGRATIONS`
 * ends at, without the tables v1..v5 made and v6 dropped): the response in the `_schema` row, no
 * table yet. One page for `sqlite_master`, one for `_schema`.
 */
export const RESPONSE_INDEX_BASELINE = RESPONSE_IN_SCHEMA_ROW;

/** ResponseIndex: one response, its containers, its place in the chain and the links it issued. */
export const RESPONSE_INDEX_MIGRATIONS = [
  `
  CREATE TABLE response (
    id TEXT PRIMARY KEY, tenant TEXT NOT NULL, previous_response_id TEXT, created_at INTEGER NOT NULL,
    registered_at INTEGER NOT NULL
  );
  CREATE TABLE containers (container_id TEXT PRIMARY KEY, tenant TEXT NOT NULL, added_at INTEGER NOT NULL);
  CREATE TABLE links (
    url TEXT PRIMARY KEY, tenant TEXT NOT NULL, path TEXT NOT NULL, original TEXT NOT NULL, recorded_at INTEGER NOT NULL
  );
  CREATE INDEX links_by_path ON links (path);
  CREATE TABLE resolutions (
    path TEXT PRIMARY KEY, tenant TEXT NOT NULL, container_id TEXT NOT NULL, file_id TEXT NOT NULL,
    version INTEGER NOT NULL, via_response_id TEXT NOT NULL, resolved_at INTEGER NOT NULL
  )
  `,
  // v2: a background response is polled by the index's own alarm until it ends, then harvested.
  `
  CREATE TABLE background_watch (
    id INTEGER PRIMARY KEY CHECK (id = 1), tenant TEXT NOT NULL, previous_response_id TEXT,
    next_poll_at INTEGER NOT NULL, polls INTEGER NOT NULL DEFAULT 0, until INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'watching', last_error TEXT
  )
  `,
  // v3: pass-through mode: the caller's own upstream key, sealed, for the polls and the harvest.
  `ALTER TABLE background_watch ADD COLUMN upstream_key_sealed TEXT`,
  // v4: the index named by a conversation id keeps the conversation's turns in order (each turn's
  // previous one, so a turn resolves links through the earlier turns) and which turn made each item.
  `
  CREATE TABLE conversation_turns (
    response_id TEXT PRIMARY KEY, tenant TEXT NOT NULL, seq INTEGER NOT NULL, previous_response_id TEXT
  );
  CREATE TABLE conversation_items (item_id TEXT PRIMARY KEY, tenant TEXT NOT NULL, response_id TEXT NOT NULL)
  `,
  // v5: failed key lookups of the background watch in a row (its backoff, tracker/backoff.ts).
  `ALTER TABLE background_watch ADD COLUMN key_failures INTEGER NOT NULL DEFAULT 0`,
  // v6: fewer pages (RESPONSE_INDEX_BASELINE above): the response and its containers move into the
  // `_schema` row; `links` and `resolutions` are rebuilt `WITHOUT ROWID`, and `links_by_path`
  // (nothing reads links by path) goes with the old `links`. The capability tables stay as they are.
  // A dropped table's pages leave the file (measured in workerd: `databaseSize` falls).
  `${RESPONSE_IN_SCHEMA_ROW};
  UPDATE _schema SET
    (response_id, tenant, previous_response_id, created_at, registered_at) =
      (SELECT id, tenant, previous_response_id, created_at, registered_at FROM response LIMIT 1),
    container_ids = (SELECT json_group_array(container_id) FROM
      (SELECT container_id FROM containers ORDER BY added_at, container_id))
  WHERE id = 1;
  DROP TABLE response;
  DROP TABLE containers;
  ALTER TABLE links RENAME TO links_v5;
  ${RESPONSE_INDEX_TABLES.links};
  INSERT INTO links SELECT url, tenant, path, original, recorded_at FROM links_v5;
  DROP TABLE links_v5;
  ALTER TABLE resolutions RENAME TO resolutions_v5;
  ${RESPONSE_INDEX_TABLES.resolutions};
  INSERT INTO resolutions SELECT path, tenant, container_id, file_id, version, via_response_id, resolved_at FROM resolutions_v5;
  DROP TABLE resolutions_v5`,
] as const;
