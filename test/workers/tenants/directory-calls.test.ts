/**
 * Calls to the one deployment-wide TenantDirectory (docs/architecture.md, "Shared objects"),
 * counted inside the object's methods whoever makes them (the Worker's fetch or a tracker's
 * alarm): none in single-tenant mode, one per isolate for a burst with a new key (single-flight),
 * the last good answer while the directory fails (stale-if-error, bounded), revocation within
 * KEY_CACHE_MS, and a CORS preflight that is one index lookup however many publishable keys exist.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TenantDirectory } from "../../../src/tenants/directory";
import { KEY_CACHE_MS } from "../../../src/tenants/store";
import { hashKey, mintKey } from "../../../src/auth/keys";
import { countCalls, type CallCounter } from "../support/calls";
import { as, call, makeTenant, sdk, SINGLE_KEY, sleep } from "../support/tenants";

const TOOLS = [{ type: "code_interpreter" as const, container: { type: "auto" as const } }];
const METHODS = [
  "lookupKey",
  "tenantRecord",
  "originAllowed",
  "getTenant",
  "listTenants",
  "addKey",
  "revokeKey",
  "createTenant",
];

let directory: CallCounter;
beforeEach(() => {
  directory = countCalls(TenantDirectory, METHODS);
});
afterEach(() => directory.restore());

describe("TenantDirectory calls", () => {
  it("single-tenant: a create that stores files makes none, its trackers' work included", async () => {
    const r = (await sdk("single", SINGLE_KEY).responses.create(
      { model: "gpt-5", input: "Three files.\nsim: scenario=several-files", tools: TOOLS },
      { headers: { "x-unsandbox-wait-ms": "20000" } },
    )) as unknown as { unsandbox: { files: { state: string }[] } };
    expect(r.unsandbox.files.length).toBeGreaterThanOrEqual(2);
    expect(r.unsandbox.files.every((f) => f.state === "stored")).toBe(true);
    expect(directory.calls).toEqual({});
  });

  it("multi-tenant: 50 concurrent requests with a new key make one lookup (single-flight)", async () => {
    const t = await makeTenant();
    directory.reset();
    const statuses = await Promise.all(
      Array.from({ length: 50 }, () => as("multi", t.secret, "/v1/models").then((r) => r.status)),
    );
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(directory.calls).toEqual({ lookupKey: 1 });
  });

  it("multi-tenant: a create that stores files makes at most one directory call", async () => {
    const t = await makeTenant({ limits: { files_per_response: 50 } });
    directory.reset();
    const r = (await sdk("multi", t.secret).responses.create(
      { model: "gpt-5", input: "Three files.\nsim: scenario=several-files", tools: TOOLS },
      { headers: { "x-unsandbox-wait-ms": "20000" } },
    )) as unknown as { unsandbox: { files: { state: string }[] } };
    expect(r.unsandbox.files.every((f) => f.state === "stored")).toBe(true);
    expect(directory.total()).toBeLessThanOrEqual(1);
  });

  it("a directory that fails serves the last good lookup; a revoked key is refused within KEY_CACHE_MS", async () => {
    const t = await makeTenant();
    expect((await as("multi", t.secret, "/v1/models")).status).toBe(200);
    await sleep(KEY_CACHE_MS + 100);
    directory.reset();
    directory.fail("lookupKey");
    // Stale, the directory throwing: the cached tenant still answers.
    expect((await as("multi", t.secret, "/v1/models")).status).toBe(200);
    expect(directory.calls.lookupKey).toBe(1);
    directory.restore();
    directory = countCalls(TenantDirectory, METHODS);
    // Revoked in the directory itself (no admin call clears this isolate's cache).
    await env.TENANT_DIRECTORY.getByName("directory").revokeKey(t.id, t.secretId);
    await sleep(KEY_CACHE_MS + 100);
    expect((await as("multi", t.secret, "/v1/models")).status).toBe(401);
  });

  it("a CORS preflight with 500 publishable keys is one index lookup, no scan", async () => {
    const t = await makeTenant();
    const stub = env.TENANT_DIRECTORY.getByName("directory");
    for (let i = 0; i < 500; i++) {
      const key = mintKey("publishable");
      await stub.addKey({
        id: `key_bulk${i}x${Date.now().toString(36)}`,
        tenant: t.id,
        kind: "publishable",
        hash: await hashKey(key),
        prefix: key.slice(0, 9),
        limits: {},
        widget: {
          allowed_origins: [`https://shop${i}.example`],
          daily_cap: 1000,
          per_ip_per_minute: 20,
          memory_limit: "1g",
          session_ttl_s: 1800,
          link_ttl_s: 604800,
        },
      });
    }
    const origin = "https://shop499.example";
    const rowsRead = await runInDurableObject(stub, async (instance: TenantDirectory, state) => {
      const exec = state.storage.sql.exec.bind(state.storage.sql);
      let rows = 0;
      (state.storage.sql as { exec: unknown }).exec = (...args: Parameters<typeof exec>) => {
        const cursor = exec(...args);
        const all = cursor.toArray();
        rows += cursor.rowsRead;
        return all.values();
      };
      try {
        expect(await instance.originAllowed(origin)).toBe(true);
        expect(await instance.originAllowed("https://nobody.example")).toBe(false);
      } finally {
        (state.storage.sql as { exec: unknown }).exec = exec;
      }
      return rows;
    });
    expect(rowsRead).toBeLessThanOrEqual(4);

    directory.reset();
    const preflight = () =>
      call("multi", "/v1/responses", {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST" },
      });
    const answers = await Promise.all(Array.from({ length: 20 }, preflight));
    for (const res of answers) expect(res.headers.get("access-control-allow-origin")).toBe(origin);
    expect(directory.calls).toEqual({ originAllowed: 1 });
  });
});
