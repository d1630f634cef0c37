/**
 * The tenant store and its admin API: create, list, rotate and revoke tenants and keys; keys
 * stored hashed and upstream keys sealed; strict bodies; revocation within the stated bound.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { hashKey } from "../../../src/auth/keys";
import type { Bindings } from "../../../src/config";
import { unseal } from "../../../src/tenants/sealed-key";
import type { TenantDirectory } from "../../../src/tenants/directory";
import { KEY_CACHE_MS } from "../../../src/tenants/store";
import { ADMIN_SECRET, adminCall, as, call, errorOf, makeTenant, sleep } from "../support/tenants";

const dir = () =>
  ((env as unknown as Bindings).TENANT_DIRECTORY as DurableObjectNamespace<TenantDirectory>).getByName("directory");

describe("admin API", () => {
  it("refuses a missing or wrong admin secret, and a browser", async () => {
    expect((await errorOf(await call("multi", "/admin/tenants"))).code).toBe("invalid_api_key");
    expect((await errorOf(await as("multi", "wrong-secret-wrong-secret-wrong-secret", "/admin/tenants"))).status).toBe(
      401,
    );
    const fromBrowser = await as("multi", ADMIN_SECRET, "/admin/tenants", {
      headers: { origin: "https://evil.example" },
    });
    expect(await errorOf(fromBrowser)).toMatchObject({ status: 403, code: "secret_key_in_browser" });
  });

  it("is absent without ADMIN_SECRET and says so in single-tenant mode", async () => {
    expect(await errorOf(await as("passthrough", ADMIN_SECRET, "/admin/tenants"))).toMatchObject({
      status: 404,
      code: "unknown_route",
    });
    expect(await errorOf(await as("single", ADMIN_SECRET, "/admin/tenants"))).toMatchObject({
      status: 409,
      code: "not_multi_tenant",
    });
  });

  it("creates tenants and keys, stores only hashes and a sealed upstream key, lists them", async () => {
    const t = await makeTenant({ upstream_key: "sk-tenant-own-upstream-key" });
    const listed = await adminCall("GET", "/admin/tenants");
    const view = listed.body.data.find((x: { id: string }) => x.id === t.id);
    expect(view).toMatchObject({ id: t.id, status: "active", upstream_key: "own" });
    expect(view.keys.map((k: { kind: string }) => k.kind).sort()).toEqual(["publishable", "secret"]);
    expect(JSON.stringify(listed.body)).not.toContain(t.secret);
    expect(JSON.stringify(listed.body)).not.toContain("sk-tenant-own-upstream-key");

    await runInDurableObject(dir(), async (_inst, state) => {
      const rows = state.storage.sql.exec<{ hash: string }>("SELECT hash FROM keys WHERE tenant = ?", t.id).toArray();
      expect(rows.map((r) => r.hash)).toContain(await hashKey(t.secret));
      const dump =
        JSON.stringify(state.storage.sql.exec("SELECT * FROM keys").toArray()) +
        JSON.stringify(state.storage.sql.exec("SELECT * FROM tenants").toArray());
      expect(dump).not.toContain(t.secret);
      expect(dump).not.toContain("sk-tenant-own-upstream-key");
      const sealed = state.storage.sql
        .exec<{ upstream_key_sealed: string }>("SELECT upstream_key_sealed FROM tenants WHERE id = ?", t.id)
        .one().upstream_key_sealed;
      expect(sealed.startsWith("v1.e2.")).toBe(true);
      const keys = [
        { kid: "e1", secret: "tenant-enc-one-0123456789abcdef0123" },
        { kid: "e2", secret: "tenant-enc-two-0123456789abcdef0123" },
      ];
      expect(await unseal(sealed, t.id, keys)).toBe("sk-tenant-own-upstream-key");
      // Bound to its tenant: the same ciphertext does not open for another.
      await expect(unseal(sealed, "someone-else", keys)).rejects.toThrow(/does not decrypt/);
    });
  });

  it("uses the tenant's own upstream key (the simulator refuses any key but its own)", async () => {
    const own = await makeTenant({ upstream_key: "sk-not-the-simulators-key" });
    const shared = await makeTenant();
    expect((await as("multi", own.secret, "/v1/models")).status).toBe(401);
    expect((await as("multi", shared.secret, "/v1/models")).status).toBe(200);
    // Switching the tenant to the deployment's key takes effect.
    expect((await adminCall("PATCH", `/admin/tenants/${own.id}`, { upstream_key: null })).status).toBe(200);
    expect((await as("multi", own.secret, "/v1/models")).status).toBe(200);
  });

  it("rotates a key: the new one works, the old one is refused", async () => {
    const t = await makeTenant();
    const rotated = await adminCall("POST", `/admin/tenants/${t.id}/keys/${t.secretId}/rotate`);
    expect(rotated.status).toBe(201);
    expect(rotated.body.key).toMatch(/^usk_/);
    expect((await as("multi", rotated.body.key, "/v1/models")).status).toBe(200);
    expect(await errorOf(await as("multi", t.secret, "/v1/models"))).toMatchObject({
      status: 401,
      code: "invalid_api_key",
    });
    // Rotating a revoked key again is a conflict, not a second new key.
    expect((await adminCall("POST", `/admin/tenants/${t.id}/keys/${t.secretId}/rotate`)).status).toBe(409);
  });

  it("revokes a tenant with all its keys", async () => {
    const t = await makeTenant();
    expect((await as("multi", t.secret, "/v1/models")).status).toBe(200);
    const revoked = await adminCall("POST", `/admin/tenants/${t.id}/revoke`);
    expect(revoked.body.status).toBe("revoked");
    expect(revoked.body.keys.every((k: { status: string }) => k.status === "revoked")).toBe(true);
    expect((await as("multi", t.secret, "/v1/models")).status).toBe(401);
  });

  it("keeps its bodies strict", async () => {
    const cases: [string, string, unknown, number, string][] = [
      ["POST", "/admin/tenants", { name: "x", colour: "red" }, 400, "unknown_parameter"],
      ["POST", "/admin/tenants", { name: 5 }, 400, "invalid_value"],
      ["POST", "/admin/tenants", { name: "x", limits: { requests_per_minute: -1 } }, 400, "invalid_value"],
      ["POST", "/admin/tenants", { name: "x", limits: { requests_per_mintue: 5 } }, 400, "unknown_parameter"],
      ["POST", "/admin/tenants", { id: "../etc", name: "x" }, 400, "invalid_value"],
      ["POST", "/admin/tenants/nope/keys", { kind: "root" }, 400, "invalid_value"],
      [
        "POST",
        "/admin/tenants/nope/keys",
        { kind: "publishable", widget: { allowed_origins: ["https://a.example/path"] } },
        400,
        "invalid_value",
      ],
      ["POST", "/admin/tenants/nope/keys", { kind: "secret" }, 404, "not_found"],
      ["GET", "/admin/tenants/UPPER..CASE", undefined, 400, "invalid_id"],
      ["POST", "/admin/tenants/nope/keys/key_bad!/revoke", undefined, 400, "invalid_id"],
    ];
    for (const [method, path, json, status, code] of cases) {
      const res = await as("multi", ADMIN_SECRET, path, { method, ...(json === undefined ? {} : { json }) });
      expect({ path, json, ...(await errorOf(res)) }).toMatchObject({ path, json, status, code });
    }
    const bad = await as("multi", ADMIN_SECRET, "/admin/tenants", {
      method: "POST",
      body: "{not json",
      headers: { "content-type": "application/json" },
    });
    expect(await errorOf(bad)).toMatchObject({ status: 400, code: "invalid_json" });
  });
});

describe("revocation", () => {
  it(`refuses a key revoked elsewhere within 5 s (isolate cache ${KEY_CACHE_MS} ms)`, async () => {
    const t = await makeTenant();
    expect((await as("multi", t.secret, "/v1/models")).status).toBe(200);
    // Revoke straight in the directory, as another isolate's admin call would: this isolate's
    // cache is not cleared, so the bound comes from the cache lifetime alone.
    const revokedAt = Date.now();
    expect((await dir().revokeKey(t.id, t.secretId)).ok).toBe(true);
    let refusedAt = 0;
    while (Date.now() - revokedAt < 8_000) {
      const res = await as("multi", t.secret, "/v1/models");
      if (res.status === 401) {
        refusedAt = Date.now();
        break;
      }
      await sleep(100);
    }
    expect(refusedAt).toBeGreaterThan(0);
    expect(refusedAt - revokedAt).toBeLessThan(5_000);
    // And it stays refused.
    expect((await as("multi", t.secret, "/v1/models")).status).toBe(401);
  });
});
