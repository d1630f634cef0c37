/**
 * The read memo (src/durable/read-memo.ts) on a real Durable Object's SQLite storage: a read is
 * served again until a statement writes, a write that changed no row keeps it, `deleteAll` forgets
 * it, and every user of the object's `ctx.storage.sql` (not only the memo's caller) counts.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ReadMemo } from "../../../src/durable/read-memo";
import { deleteAllStorage } from "../../../src/durable/sqlite-migrations";
import { trackerFor } from "../../../src/tracker/stubs";
import type { ContainerTracker } from "../../../src/tracker/container-tracker";

describe("read memo", () => {
  it("serves a read until a write changes a row, through the object's own storage.sql", async () => {
    await runInDurableObject(trackerFor(env, "cntr_read_memo"), async (_inst: ContainerTracker, state) => {
      const sql = state.storage.sql;
      sql.exec("CREATE TABLE IF NOT EXISTS memo_t (k TEXT PRIMARY KEY, v INTEGER)");
      sql.exec("INSERT INTO memo_t (k, v) VALUES ('a', 1)");
      const memo = ReadMemo.of(sql);
      let reads = 0;
      const v = () =>
        memo.read("memo_t.a", () => {
          reads++;
          return sql.exec<{ v: number }>("SELECT v FROM memo_t WHERE k = 'a'").one().v;
        });
      expect([v(), v(), v()]).toEqual([1, 1, 1]);
      expect(reads).toBe(1);
      // A write through `state.storage.sql` (the same object) makes the next read real.
      state.storage.sql.exec("UPDATE memo_t SET v = 2 WHERE k = 'a'");
      expect(v()).toBe(2);
      expect(reads).toBe(2);
      // A write that changed no row keeps what was read.
      sql.exec("INSERT INTO memo_t (k, v) VALUES ('a', 9) ON CONFLICT DO NOTHING");
      sql.exec("UPDATE memo_t SET v = 3 WHERE k = 'nobody'");
      expect(v()).toBe(2);
      expect(reads).toBe(2);
      // A failed statement forgets too.
      expect(() => sql.exec("INSERT INTO memo_t (k, v) VALUES ('a', 9)")).toThrow();
      expect(v()).toBe(2);
      expect(reads).toBe(3);
      // `deleteAll` runs no statement: `deleteAllStorage` forgets.
      await deleteAllStorage(state.storage);
      expect(() => v()).toThrow(/no such table/);
    });
  });
});
