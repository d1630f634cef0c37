// A tracker made by v1..v9 of the schema (rowid tables, their automatic and secondary indexes)
// migrates to the v10 layout when its next instance starts, keeping its rows: its stored file
// still answers, its links still resolve, the order of its responses stays, and a copy job it had
// queued (now columns of its file version's row) runs to the end. A new tracker gets the v10
// layout at once (the baseline).
import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { migrate } from "../../../src/durable/sqlite-migrations";
import { fileObjectKey } from "../../../src/storage/keys";
import type { ContainerTracker } from "../../../src/tracker/container-tracker";
import { TRACKER_BASELINE, TRACKER_MIGRATIONS } from "../../../src/tracker/schema";
import { env, query, sim, tracker } from "../support/tracker";

const T = "default";
const PAYLOAD = new TextEncoder().encode("stored by a v9 tracker\n");

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Tables and indexes of the tracker (what `databaseSize` pays a page each for). */
const schemaOf = (cid: string) =>
  query<{ type: string; name: string; sql: string | null }>(
    cid,
    "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE '_cf_%' ORDER BY type, name",
  );

/** Each table's (and view's) columns in order, and whether its rows are keyed `WITHOUT ROWID`. */
const layoutOf = (cid: string) =>
  runInDurableObject(tracker(cid), (_i: ContainerTracker, s) =>
    Object.fromEntries(
      s.storage.sql
        .exec<{ name: string; sql: string }>(
          "SELECT name, sql FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE '_cf_%' ORDER BY name",
        )
        .toArray()
        .map((t) => [
          t.name,
          {
            columns: s.storage.sql.exec(`SELECT * FROM "${t.name}" LIMIT 0`).columnNames,
            withoutRowid: /WITHOUT ROWID$/.test(t.sql),
          },
        ]),
    ),
  );

/** A tracker made now: the baseline at once. */
async function freshTracker(cid: string): Promise<void> {
  await runInDurableObject(tracker(cid), (_i: ContainerTracker, s) => {
    migrate(s.storage, TRACKER_MIGRATIONS, TRACKER_BASELINE);
  });
}

const sizeOf = (cid: string) =>
  runInDurableObject(tracker(cid), (_i: ContainerTracker, s) => s.storage.sql.databaseSize);

describe("tracker schema v10", () => {
  it("a tracker made by v1..v9 migrates and keeps serving its files", { timeout: 30_000 }, async () => {
    // One file the old tracker stored, one it still had to copy (a queued job).
    const ct = await sim.container([
      { path: "/mnt/data/old.txt", size: 100 },
      { path: "/mnt/data/queued.csv", size: 4_000 },
    ]);
    const [old, queued] = ct.files as [(typeof ct.files)[0], (typeof ct.files)[0]];
    const cid = ct.id;
    const r2Key = fileObjectKey({ tenant: T, containerId: cid, fileId: old.id, version: 1 });
    await env.FILES.put(r2Key, PAYLOAD);
    const sha = await sha256Hex(PAYLOAD);
    const now = Date.now();

    // The old tracker: the DDL of v1..v9 exactly as they ran, and rows as that code wrote them.
    await runInDurableObject(tracker(cid), (_i: ContainerTracker, s) => {
      migrate(s.storage, TRACKER_MIGRATIONS.slice(0, 9));
      const q = s.storage.sql;
      q.exec(
        `INSERT INTO container (id, tenant, status, opened_at, client_active_at, expires_after_minutes, final_sweep_at)
         VALUES (?, ?, 'running', ?, ?, 20, ?)`,
        cid,
        T,
        now,
        now,
        now + 17 * 60_000,
      );
      // Two responses created in the same second: their order is the order the tracker heard of them.
      for (const r of ["resp_v9_b", "resp_v9_a"])
        q.exec("INSERT INTO responses (response_id, tenant, created_at) VALUES (?, ?, ?)", r, T, old.created_at);
      q.exec(
        `INSERT INTO files (file_id, version, tenant, container_id, path, filename, source, upstream_created_at, bytes,
           content_type, sha256, etag, state, state_at, r2_key, first_seen_at, first_response_id, retain_until)
         VALUES (?, 1, ?, ?, ?, 'old.txt', 'assistant', ?, ?, 'text/plain', ?, 'e1', 'stored', ?, ?, ?, 'resp_v9_b', ?)`,
        old.id,
        T,
        cid,
        old.path,
        old.created_at,
        PAYLOAD.byteLength,
        sha,
        now,
        r2Key,
        now,
        now + 30 * 86_400_000,
      );
      q.exec(
        `INSERT INTO files (file_id, version, tenant, container_id, path, filename, source, upstream_created_at,
           content_type, state, state_at, r2_key, first_seen_at, first_response_id)
         VALUES (?, 1, ?, ?, ?, 'queued.csv', 'assistant', ?, 'text/csv', 'pending', ?, ?, ?, 'resp_v9_a')`,
        queued.id,
        T,
        cid,
        queued.path,
        queued.created_at,
        now,
        fileObjectKey({ tenant: T, containerId: cid, fileId: queued.id, version: 1 }),
        now,
      );
      q.exec(
        "INSERT INTO citations (response_id, file_id, version, tenant, path, cited, seen_at) VALUES ('resp_v9_b', ?, 1, ?, ?, 'annotation', ?)",
        old.id,
        T,
        old.path,
        now,
      );
      q.exec(
        "INSERT INTO citations (response_id, file_id, version, tenant, path, cited, seen_at) VALUES ('resp_v9_a', ?, 1, ?, ?, 'listing', ?)",
        queued.id,
        T,
        queued.path,
        now,
      );
      q.exec(
        `INSERT INTO claims (response_id, path, tenant, cited, state, file_id, version, claimed_at)
         VALUES ('resp_v9_b', ?, ?, 'link', 'resolved', ?, 1, ?)`,
        old.path,
        T,
        old.id,
        now,
      );
      q.exec(
        "INSERT INTO jobs (file_id, version, tenant, next_attempt_at, part_size) VALUES (?, 1, ?, ?, ?)",
        queued.id,
        T,
        now,
        8 * 1024 * 1024,
      );
      // A part of some earlier multipart copy, kept as its record.
      q.exec(
        "INSERT INTO parts (file_id, version, tenant, part_number, etag, size, stored_at) VALUES ('cfile_earlier', 1, ?, 1, 'p1', 5, ?)",
        T,
        now,
      );
    });
    const before = await schemaOf(cid);
    expect(before.filter((r) => r.type === "index").map((r) => r.name)).toEqual(
      expect.arrayContaining(["citations_by_file", "citations_by_path", "files_by_path", "sqlite_autoindex_files_1"]),
    );
    const sizeBefore = await sizeOf(cid);

    // The object restarts (a deployment): its new instance migrates in its constructor.
    await abortAllDurableObjects();
    const t = tracker(cid);
    expect((await t.lookup({ tenant: T, fileId: old.id, version: 1 }))?.sha256).toBe(sha);

    const after = await schemaOf(cid);
    expect(await query(cid, "SELECT version FROM _schema")).toEqual([{ version: TRACKER_MIGRATIONS.length }]);
    expect(after.filter((r) => r.type === "index")).toEqual([]);
    expect(after.map((r) => r.name).sort()).toEqual(
      ["_schema", "citations", "claims", "files", "jobs", "parts", "responses"].sort(),
    );
    // The queued job moved into its file version's row, read through the view `jobs`.
    expect(after.find((r) => r.name === "jobs")?.type).toBe("view");
    expect(await query(cid, "SELECT file_id, version, attempts, part_size FROM jobs")).toEqual([
      { file_id: queued.id, version: 1, attempts: 0, part_size: 8 * 1024 * 1024 },
    ]);
    // The container's row moved into the `_schema` row.
    expect(
      await query(
        cid,
        "SELECT container_id, tenant, status, opened_at, expires_after_minutes, final_sweep_at FROM _schema",
      ),
    ).toEqual([
      {
        container_id: cid,
        tenant: T,
        status: "running",
        opened_at: now,
        expires_after_minutes: 20,
        final_sweep_at: now + 17 * 60_000,
      },
    ]);
    // The same tables, column for column, as a tracker made now from the baseline (`parts` comes
    // with a multipart copy there).
    await freshTracker("cntr_schema_v10_compare");
    const { parts, ...migrated } = await layoutOf(cid);
    expect(migrated).toEqual(await layoutOf("cntr_schema_v10_compare"));
    expect(parts?.withoutRowid).toBe(true);
    for (const name of ["files", "citations", "claims", "responses"])
      expect(migrated[name]?.withoutRowid, name).toBe(true);
    // Every row came along; the responses keep the order the tracker heard of them.
    expect(await query(cid, "SELECT response_id, seq FROM responses ORDER BY seq")).toEqual([
      { response_id: "resp_v9_b", seq: 1 },
      { response_id: "resp_v9_a", seq: 2 },
    ]);
    expect(await query(cid, "SELECT file_id, etag FROM parts")).toEqual([{ file_id: "cfile_earlier", etag: "p1" }]);
    // 12 pages fewer (4 KiB each): the container's and the jobs' tables and their automatic indexes,
    // three secondary indexes and the automatic indexes of the five other tables.
    const sizeAfter = await sizeOf(cid);
    expect(sizeAfter).toBe(sizeBefore - 12 * 4096);

    // It keeps serving: the manifest, the link's path, the stored bytes, and the later response
    // sorts after the earlier one (`latestResponse`, the final sweep's response).
    const m = await t.manifest("resp_v9_b");
    expect(m).toEqual([
      expect.objectContaining({ file_id: old.id, state: "stored", sha256: sha, cited: ["annotation"] }),
    ]);
    expect(await t.resolvePath({ tenant: T, responseId: "resp_v9_b", path: old.path })).toEqual({
      kind: "file",
      containerId: cid,
      fileId: old.id,
      version: 1,
    });
    expect(await (await env.FILES.get(r2Key))!.text()).toBe(new TextDecoder().decode(PAYLOAD));
    // The queued job runs in the new layout: the file is copied and stored.
    await runInDurableObject(t, (inst: ContainerTracker) => inst.alarm());
    const [copied] = await t.waitForStored("resp_v9_a", 15_000);
    expect(copied).toMatchObject({ file_id: queued.id, state: "stored", sha256: (await sim.truth(queued.id)).sha256 });
    expect(await query(cid, "SELECT * FROM jobs")).toEqual([]);
    console.log(`TRACKER v9→v10 ${JSON.stringify({ sizeBefore, sizeAfter })}`);
  });

  it("a new tracker gets the v10 layout directly", async () => {
    const cid = "cntr_schema_v10_fresh";
    await freshTracker(cid);
    const fresh = await schemaOf(cid);
    expect(fresh.map((r) => r.name).sort()).toEqual(
      ["_schema", "citations", "claims", "files", "jobs", "responses"].sort(),
    );
    expect(await query(cid, "SELECT version FROM _schema")).toEqual([{ version: TRACKER_MIGRATIONS.length }]);
    expect(await query(cid, "SELECT container_id FROM _schema")).toEqual([{ container_id: null }]);
    // sqlite_master and one page per table (`_schema` among them): no index anywhere, and the
    // view `jobs` has no B-tree of its own.
    expect(fresh.find((r) => r.name === "jobs")?.type).toBe("view");
    expect(await sizeOf(cid)).toBe((1 + fresh.filter((r) => r.type === "table").length) * 4096);
  });
});
