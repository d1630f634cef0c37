/**
 * Owner records without a Durable Object per id (issues 19 and 20; src/tenants/owner-records.ts,
 * src/tenants/item-sets.ts): a multi-tenant create whose answer has no container and no link
 * creates no Durable Object of its own, and every id kind a create reveals is refused to another
 * tenant, and usable by its owner, from the moment the answer (or a stream's terminal event)
 * reaches the client. Every check after a create first forgets the isolate's cached owners, so it
 * reads what another isolate would: the R2 record.
 */
import { env } from "cloudflare:workers";
import {
  createExecutionContext,
  listDurableObjectIds,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import app from "../../../src/index";
import { shardName, METER_SHARDS } from "../../../src/metering/shards";
import { ITEM_SHARDS, ITEM_TTL_MS, itemShard, type OwnershipLedger } from "../../../src/tenants/item-sets";
import { forgetCachedOwners, ownerKey } from "../../../src/tenants/owner-records";
import { ownerOf, recordOwner } from "../../../src/tenants/ownership";
import type { Bindings } from "../../../src/config";
import { counted, installCounters } from "../budgets/counting";
import { as, BASE, ENVS, makeTenant, type TestTenant } from "../support/tenants";

const bindings = env as unknown as Bindings & Record<string, DurableObjectNamespace>;
const NAMESPACES = [
  "CONTAINER_TRACKER",
  "RESPONSE_INDEX",
  "TENANT_DIRECTORY",
  "OWNERSHIP_LEDGER",
  "RATE_COUNTER",
  "USAGE_METER",
] as const;
const TOOLS = [{ type: "code_interpreter", container: { type: "auto" } }];

async function objectIds(): Promise<Record<string, Set<string>>> {
  const out: Record<string, Set<string>> = {};
  for (const name of NAMESPACES)
    out[name] = new Set(
      (await listDurableObjectIds(bindings[name] as DurableObjectNamespace)).map((id) => id.toString()),
    );
  return out;
}

/** One request through the Worker, answered before the request's `waitUntil` work is waited for. */
async function start(key: string, path: string, json?: unknown, method = json === undefined ? "GET" : "POST") {
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request(`${BASE}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(json === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
    }),
    ENVS.multi as never,
    ctx,
  );
  return { res, done: () => waitOnExecutionContext(ctx) };
}

async function verdict(res: Response): Promise<{ status: number; code: string | null }> {
  const body = (await res.json().catch(() => ({}))) as { error?: { code?: string | null } };
  return { status: res.status, code: body.error?.code ?? null };
}
const REFUSED = { status: 404, code: "not_found" };

describe("owner records", () => {
  let a: TestTenant;
  let b: TestTenant;
  beforeAll(async () => {
    installCounters();
    [a, b] = await Promise.all([makeTenant(), makeTenant()]);
  });

  it("a create with neither links nor containers creates no Durable Object", async () => {
    const create = { model: "gpt-5", input: "2+2?\nsim: scenario=no-tool", tools: TOOLS };
    // The tenant's first create meets its per-tenant objects (its rate counters, meter shards).
    const warm = await as("multi", a.secret, "/v1/responses", { method: "POST", json: create });
    expect(warm.status).toBe(200);
    const before = await objectIds();
    const ids: string[] = [];
    const { tally } = await counted(async () => {
      for (let i = 0; i < 3; i++) {
        const res = await as("multi", a.secret, "/v1/responses", { method: "POST", json: create });
        expect(res.status).toBe(200);
        ids.push(((await res.json()) as { id: string }).id);
      }
    });
    const after = await objectIds();
    // No per-response object was called: no index, no tracker, no owner object.
    expect(tally.objects.ResponseIndex ?? 0).toBe(0);
    expect(tally.objects.ContainerTracker ?? 0).toBe(0);
    // Each answer's one output item went to one item-set shard; its response id to R2 (1 put each).
    expect(tally.methods["OwnershipLedger.recordItems"] ?? 0).toBe(3);
    expect(tally.objects.OwnershipLedger ?? 0).toBe(3);
    expect(tally.r2.put ?? 0).toBe(3);
    // The only objects that may appear are the tenant's own shards (bounded per tenant, not per
    // response): an item-set or meter shard that the first answer did not reach yet.
    const tenantShards = new Set(
      [
        ...Array.from({ length: ITEM_SHARDS }, (_, n) => bindings.OWNERSHIP_LEDGER.idFromName(`items:${a.id}:${n}`)),
        ...Array.from({ length: METER_SHARDS }, (_, n) => bindings.USAGE_METER.idFromName(shardName(a.id, n))),
      ].map((id) => id.toString()),
    );
    for (const name of NAMESPACES) {
      const fresh = [...after[name]!].filter((id) => !before[name]!.has(id) && !tenantShards.has(id));
      expect({ name, fresh }).toEqual({ name, fresh: [] });
    }
    for (const id of ids)
      expect((await bindings.FILES.head(ownerKey(id)))?.customMetadata).toEqual({ tenant: a.id, kind: "response" });
  });

  it("every id kind is refused to another tenant, and usable by its owner, right after the create", async () => {
    // A plain create with a container and output items, checked before its waitUntil work ends.
    const made = await start(a.secret, "/v1/responses", {
      model: "gpt-5",
      input: "Make a csv.\nsim: scenario=one-file",
      tools: TOOLS,
    });
    expect(made.res.status).toBe(200);
    const answer = (await made.res.json()) as { id: string; output: { id: string; container_id?: string }[] };
    const container = answer.output.find((o) => o.container_id)!.container_id!;
    const item = answer.output.at(-1)!.id;
    const conv = await start(a.secret, "/v1/conversations", {});
    expect(conv.res.status).toBe(200);
    const conversation = ((await conv.res.json()) as { id: string }).id;
    // The simulator has no Files API: a file id is recorded as the guard records a created one.
    const file = `file-own${crypto.randomUUID().replace(/-/g, "")}`;
    await recordOwner(bindings, { tenant: a.id, kind: "file", id: file });

    const byId = (key: string, id: string) => {
      const path = id.startsWith("resp_")
        ? `/v1/responses/${id}`
        : id.startsWith("cntr_")
          ? `/v1/containers/${id}`
          : id.startsWith("conv_")
            ? `/v1/conversations/${id}`
            : `/v1/files/${id}`;
      return start(key, path);
    };
    const byItem = (key: string) =>
      start(key, "/v1/responses", {
        model: "gpt-5",
        input: [{ type: "item_reference", id: item }],
        tools: TOOLS,
      });
    for (const fresh of [true, false]) {
      for (const id of [answer.id, container, conversation, file]) {
        if (fresh) forgetCachedOwners();
        expect({ id, ...(await verdict((await byId(b.secret, id)).res)) }).toEqual({ id, ...REFUSED });
        if (fresh) forgetCachedOwners();
        expect({ id, ...(await verdict((await byId(a.secret, id)).res)) }).not.toMatchObject(REFUSED);
      }
      expect(await verdict((await byItem(b.secret)).res)).toEqual(REFUSED);
      expect(await verdict((await byItem(a.secret)).res)).not.toMatchObject(REFUSED);
    }
    await made.done();
    await conv.done();
  });

  it("a stream's ids: never usable by another tenant, usable by the owner once the terminal event is out", async () => {
    const made = await start(a.secret, "/v1/responses", {
      model: "gpt-5",
      input: "Make a csv.\nsim: scenario=one-file",
      tools: TOOLS,
      stream: true,
    });
    expect(made.res.status).toBe(200);
    const reader = made.res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    let responseId: string | undefined;
    let container: string | undefined;
    let checkedEarly = false;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
      responseId ??= /"id":"(resp_[A-Za-z0-9_-]+)"/.exec(text)?.[1];
      container ??= /"container_id":"(cntr_[A-Za-z0-9_-]+)"/.exec(text)?.[1];
      if (responseId && !checkedEarly && !text.includes("response.completed")) {
        // Mid-stream: recorded for A or not yet, another tenant is refused either way.
        checkedEarly = true;
        forgetCachedOwners();
        expect(await verdict((await start(b.secret, `/v1/responses/${responseId}`)).res)).toEqual(REFUSED);
      }
      if (text.includes("event: response.completed")) break;
    }
    expect(checkedEarly).toBe(true);
    expect(responseId && container).toBeTruthy();
    // The terminal event is out (the rest of the stream still unread): every id is recorded.
    for (const [id, path] of [
      [responseId!, `/v1/responses/${responseId}`],
      [container!, `/v1/containers/${container}`],
    ] as const) {
      forgetCachedOwners();
      expect({ id, ...(await verdict((await start(b.secret, path)).res)) }).toEqual({ id, ...REFUSED });
      forgetCachedOwners();
      expect({ id, ...(await verdict((await start(a.secret, path)).res)) }).not.toMatchObject(REFUSED);
    }
    while (!(await reader.read()).done);
    await made.done();
  });

  it("records of the per-id ledger of earlier versions move to R2 when first looked up", async () => {
    const container = `cntr_legacy${crypto.randomUUID().replace(/-/g, "")}`;
    const item = `msg_legacy${crypto.randomUUID().replace(/-/g, "")}`;
    // As an earlier version stored them: one object per id, and one unsharded item set per tenant.
    const old = bindings.OWNERSHIP_LEDGER.getByName(container);
    await runInDurableObject(old, (_i, state: DurableObjectState) => {
      state.storage.sql.exec(
        "CREATE TABLE owner (id TEXT PRIMARY KEY, kind TEXT NOT NULL, tenant TEXT NOT NULL, visitor TEXT, recorded_at INTEGER NOT NULL)",
      );
      state.storage.sql.exec("INSERT INTO owner VALUES (?, 'container', ?, NULL, 1)", container, a.id);
    });
    await runInDurableObject(bindings.OWNERSHIP_LEDGER.getByName(`items:${a.id}`), (_i, state: DurableObjectState) => {
      state.storage.sql.exec("CREATE TABLE item (id TEXT PRIMARY KEY, visitor TEXT, recorded_at INTEGER NOT NULL)");
      state.storage.sql.exec("INSERT INTO item VALUES (?, NULL, ?)", item, Date.now());
    });
    forgetCachedOwners();
    expect(await verdict((await start(b.secret, `/v1/containers/${container}`)).res)).toEqual(REFUSED);
    expect((await bindings.FILES.head(ownerKey(container)))?.customMetadata).toEqual({
      tenant: a.id,
      kind: "container",
    });
    // The old object's storage is gone.
    expect(
      await runInDurableObject(old, (_i, state: DurableObjectState) =>
        state.storage.sql.exec("SELECT count(*) AS n FROM sqlite_master WHERE name = 'owner'").one(),
      ),
    ).toEqual({ n: 0 });
    forgetCachedOwners();
    expect(await verdict((await start(a.secret, `/v1/containers/${container}`)).res)).not.toMatchObject(REFUSED);
    const byItem = (key: string) =>
      start(key, "/v1/responses", { model: "gpt-5", input: [{ type: "item_reference", id: item }] });
    expect(await verdict((await byItem(b.secret)).res)).toEqual(REFUSED);
    expect(await verdict((await byItem(a.secret)).res)).not.toMatchObject(REFUSED);
  });

  it("an item set ends: rows expire after their lifetime and the object's storage goes with the last", async () => {
    const tenant = `texp${crypto.randomUUID().slice(0, 8)}`;
    const shard = itemShard(bindings, tenant, 0);
    await shard.recordItems(["msg_old1", "msg_old2"], null);
    await shard.recordItems(["msg_new1"], "v1");
    const tables = (state: DurableObjectState) =>
      state.storage.sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'item'")
        .toArray().length;
    // The first record armed the alarm, one lifetime ahead.
    expect(
      await runInDurableObject(shard, async (_i, state: DurableObjectState) => state.storage.getAlarm()),
    ).toBeGreaterThan(Date.now() + ITEM_TTL_MS - 60_000);
    await runInDurableObject(shard, async (instance: OwnershipLedger, state: DurableObjectState) => {
      state.storage.sql.exec("UPDATE item SET recorded_at = ? WHERE id LIKE 'msg_old%'", Date.now() - ITEM_TTL_MS - 1);
      await instance.alarm();
    });
    expect(await shard.itemVisitors(["msg_old1", "msg_old2", "msg_new1"])).toEqual([null, null, "v1"]);
    await runInDurableObject(shard, async (instance: OwnershipLedger, state: DurableObjectState) => {
      state.storage.sql.exec("UPDATE item SET recorded_at = ?", Date.now() - ITEM_TTL_MS - 1);
      await instance.alarm();
      expect(tables(state)).toBe(0);
      expect(await state.storage.getAlarm()).toBeNull();
    });
  });

  it("first writer wins, within an isolate and across isolates", async () => {
    const id = `resp_first${crypto.randomUUID().replace(/-/g, "")}`;
    // Two writers at once in one isolate: one write, one holder.
    const [x, y] = await Promise.all([
      recordOwner(bindings, { tenant: "tx", kind: "response", id }),
      recordOwner(bindings, { tenant: "ty", kind: "response", id }),
    ]);
    expect([x, y].filter(Boolean)).toHaveLength(1);
    const holder = x ? "tx" : "ty";
    // Another isolate (nothing cached) writing later: R2's conditional put refuses it.
    forgetCachedOwners();
    expect(await recordOwner(bindings, { tenant: "tz", kind: "response", id })).toBe(false);
    forgetCachedOwners();
    expect(await ownerOf(bindings, id)).toEqual({ tenant: holder });
    expect((await bindings.FILES.head(ownerKey(id)))?.customMetadata?.tenant).toBe(holder);
  });
});
