/**
 * The ResponseIndex's storage (src/tracker/schema.ts; docs/storage.md, "ResponseIndex"): a new
 * index starts from the baseline and makes a capability's table on its first write, so it holds
 * only the pages it uses; an index that an earlier deployment left at schema v5 (its own
 * `response`, `containers` and rowid tables) migrates when it is next started and still answers
 * for the response, its containers, its links and its pinned resolutions.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Bindings } from "../../../src/config";
import { migrate } from "../../../src/durable/sqlite-migrations";
import { ResponseIndex } from "../../../src/tracker/response-index";
import { RESPONSE_INDEX_MIGRATIONS } from "../../../src/tracker/schema";
import { responseIndexFor } from "../../../src/tracker/stubs";

const KIB = 1024;
const fresh = (prefix: string) => `${prefix}_${crypto.randomUUID().slice(0, 8)}`;

/** The tables and indexes an index holds, and its size. */
const layoutOf = (id: string) =>
  runInDurableObject(responseIndexFor(env, id), (_i: ResponseIndex, state) => ({
    names: state.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master ORDER BY name")
      .toArray()
      .map((r) => r.name),
    size: state.storage.sql.databaseSize,
  }));

describe("the response index's tables", () => {
  it("a new index holds the response in `_schema` and makes links and resolutions on their first write", async () => {
    const id = fresh("resp_layout");
    const cid = fresh("cntr_layout");
    const index = responseIndexFor(env, id);
    await index.register({ tenant: "default", responseId: id, createdAt: 1_700_000_000, containerIds: [cid] });
    expect(await layoutOf(id)).toEqual({ names: ["_schema"], size: 8 * KIB });
    await index.register({
      tenant: "default",
      responseId: id,
      previousResponseId: "resp_before",
      createdAt: 1_700_000_000,
      containerIds: ["cntr_b", cid, "cntr_a"],
    });
    await index.recordLinks([{ path: "/mnt/data/a.csv", original: "sandbox:/mnt/data/a.csv", url: "https://u/a" }]);
    expect(await layoutOf(id)).toEqual({ names: ["_schema", "links"], size: 12 * KIB });
    expect(await index.info("default")).toEqual({
      responseId: id,
      previousResponseId: "resp_before",
      createdAt: 1_700_000_000,
      containerIds: [cid, "cntr_a", "cntr_b"],
    });
    expect(await index.info("someone_else")).toBeNull();
    expect(await index.lookupOriginals(["https://u/a", "https://u/nope"])).toEqual({
      "https://u/a": "sandbox:/mnt/data/a.csv",
    });
  });

  it("an index named by a conversation id holds only its turns", async () => {
    const conv = fresh("conv_layout");
    const index = responseIndexFor(env, conv);
    expect(await index.conversationItems({ tenant: "default", itemIds: ["msg_1"] })).toEqual({
      owners: {},
      latest: null,
    });
    expect(await index.conversationTurn({ tenant: "default", responseId: "resp_t1", itemIds: ["msg_1"] })).toBeNull();
    expect(await index.conversationTurn({ tenant: "default", responseId: "resp_t2", itemIds: ["msg_2"] })).toBe(
      "resp_t1",
    );
    expect(await index.conversationItems({ tenant: "default", itemIds: ["msg_1", "msg_2", "msg_3"] })).toEqual({
      owners: { msg_1: "resp_t1", msg_2: "resp_t2" },
      latest: "resp_t2",
    });
    expect(await layoutOf(conv)).toEqual({
      names: ["_schema", "conversation_items", "conversation_turns"],
      size: 16 * KIB,
    });
  });

  it("a background response's index adds the watch and the alarm's page", async () => {
    const id = fresh("resp_bg_layout");
    await responseIndexFor(env, id).watchBackground({ tenant: "default", responseId: id, createdAt: 1_700_000_000 });
    expect(await layoutOf(id)).toEqual({ names: ["_cf_METADATA", "_schema", "background_watch"], size: 16 * KIB });
  });

  it("an index left at schema v5 migrates when next started and still resolves its links", async () => {
    const id = fresh("resp_v5");
    const [c1, c2] = [fresh("cntr_v5a"), fresh("cntr_v5b")];
    const stub = responseIndexFor(env, id);
    const before = await runInDurableObject(stub, (inst: ResponseIndex, state) => {
      // What the deployment before this one wrote: v1..v5, then a registered response with two
      // containers (the later one first by id), two links and one pinned path.
      migrate(state.storage, RESPONSE_INDEX_MIGRATIONS.slice(0, 5));
      const sql = state.storage.sql;
      sql.exec(
        "INSERT INTO response (id, tenant, previous_response_id, created_at, registered_at) VALUES (?, 'default', 'resp_prev', 1700000000, 1)",
        id,
      );
      sql.exec(
        "INSERT INTO containers (container_id, tenant, added_at) VALUES (?, 'default', 2), (?, 'default', 1)",
        c1,
        c2,
      );
      sql.exec(
        `INSERT INTO links (url, tenant, path, original, recorded_at) VALUES
         ('https://u/a', 'default', '/mnt/data/a.csv', 'sandbox:/mnt/data/a.csv', 1),
         ('https://u/b', 'default', '/mnt/data/b.png', '/mnt/data/b.png', 2)`,
      );
      sql.exec(
        `INSERT INTO resolutions (path, tenant, container_id, file_id, version, via_response_id, resolved_at)
         VALUES ('/mnt/data/a.csv', 'default', ?, 'cfile_a', 3, ?, 1)`,
        c1,
        id,
      );
      const size = sql.databaseSize;
      // The next start of the object: its constructor migrates before anything reads it.
      new ResponseIndex(state, (inst as unknown as { env: Bindings }).env);
      return size;
    });
    const after = await layoutOf(id);
    console.log(`INDEX v5 ${before / KIB} KiB, migrated ${after.size / KIB} KiB: ${after.names.join(", ")}`);
    expect(before).toBe(64 * KIB);
    expect(after.names).toEqual([
      "_schema",
      "background_watch",
      "conversation_items",
      "conversation_turns",
      "links",
      "resolutions",
      "sqlite_autoindex_conversation_items_1",
      "sqlite_autoindex_conversation_turns_1",
    ]);
    // Less the `response` and `containers` tables, `links_by_path` and the two rebuilt tables'
    // automatic indexes: the capability tables v2 and v4 made stay.
    expect(after.size).toBe(36 * KIB);
    expect(
      await runInDurableObject(
        stub,
        (_i: ResponseIndex, state) =>
          state.storage.sql.exec<{ version: number }>("SELECT version FROM _schema").one().version,
      ),
    ).toBe(RESPONSE_INDEX_MIGRATIONS.length);

    expect(await stub.info("default")).toEqual({
      responseId: id,
      previousResponseId: "resp_prev",
      createdAt: 1_700_000_000,
      containerIds: [c2, c1],
    });
    // The pinned path answers from the pin, without asking a container.
    expect(await stub.resolve({ tenant: "default", path: "/mnt/data/a.csv" })).toEqual({
      kind: "file",
      containerId: c1,
      fileId: "cfile_a",
      version: 3,
    });
    expect(await stub.resolve({ tenant: "other", path: "/mnt/data/a.csv" })).toEqual({ kind: "unknown" });
    expect(await stub.lookupOriginals(["https://u/a", "https://u/b"])).toEqual({
      "https://u/a": "sandbox:/mnt/data/a.csv",
      "https://u/b": "/mnt/data/b.png",
    });
    // It goes on being written as before.
    await stub.register({
      tenant: "default",
      responseId: id,
      createdAt: 1_700_000_000,
      containerIds: [c1, "cntr_new"],
    });
    await stub.recordLinks([{ path: "/mnt/data/c.txt", original: "sandbox:/mnt/data/c.txt", url: "https://u/c" }]);
    expect((await stub.info("default"))?.containerIds).toEqual([c2, c1, "cntr_new"]);
    expect(await stub.lookupOriginals(["https://u/c"])).toEqual({ "https://u/c": "sandbox:/mnt/data/c.txt" });
  });
});
