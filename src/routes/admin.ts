/**
 * @module routes/admin
 * The admin API: create, list, update, rotate and revoke tenants and keys
 * (`Authorization: Bearer <ADMIN_SECRET>`; `scripts/tenants.mjs` is its command line).
 * It answers 404 while ADMIN_SECRET is unset, so a deployment without it has no admin surface,
 * and the tenant routes answer 409 `not_multi_tenant` in the other modes, where tenants are not used.
 *
 *   GET    /admin/tenants                                  → { object: "list", data: [tenant] }
 *   POST   /admin/tenants               CreateTenantBody   → 201 tenant
 *   GET    /admin/tenants/:tenant                          → tenant
 *   PATCH  /admin/tenants/:tenant       UpdateTenantBody   → tenant
 *   POST   /admin/tenants/:tenant/revoke                   → tenant (and every key revoked)
 *   POST   /admin/tenants/:tenant/keys  CreateKeyBody      → 201 { key: "usk_…"|"pk_…", record }
 *   POST   /admin/tenants/:tenant/keys/:key/rotate         → 201 { key, record } (old key revoked)
 *   POST   /admin/tenants/:tenant/keys/:key/revoke         → record
 *   POST   /admin/takedowns             { url, reason }    → 201 tombstone (every mode; downloads answer 410)
 *
 * The plaintext key is shown once, in the answer that creates it; only its hash is stored.
 */
import { Hono, type Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app";
import { requireAdminSecret } from "../auth/admin-secret";
import { hashKey, keyPrefix, mintKey, randomBase62 } from "../auth/keys";
import { seal } from "../tenants/sealed-key";
import { readStrictJson } from "../auth/strict-json";
import { badRequest, UnsandboxError } from "../errors";
import type { DirectoryResult } from "../tenants/directory";
import { CreateKeyBody, CreateTenantBody, EmptyBody, KeyId, TenantId, UpdateTenantBody } from "../tenants/schema";
import { directory, forgetCachedLookups } from "../tenants/store";
import { takedown } from "../harvest/takedown";
import { z } from "zod";

export const admin = new Hono<AppEnv>();

const requireMultiTenant = createMiddleware<AppEnv>(async (c, next) => {
  if (c.get("config").UNSANDBOX_MODE !== "multi-tenant") {
    throw new UnsandboxError(409, "Tenants exist only in multi-tenant mode (UNSANDBOX_MODE=multi-tenant).", {
      code: "not_multi_tenant",
    });
  }
  await next();
  // This isolate sees its own changes at once; others within KEY_CACHE_MS.
  forgetCachedLookups();
});

admin.use("/admin/*", requireAdminSecret);
admin.use("/admin/tenants", requireMultiTenant);
admin.use("/admin/tenants/*", requireMultiTenant);

const TakedownBody = z.strictObject({
  /** A download URL as issued, or its token. */
  url: z.string().min(1).max(10_000),
  reason: z
    .string()
    .min(1)
    .max(500)
    .regex(/^[^\x00-\x1f\x7f]*$/, "reason must be one line of text"),
});

/** Takes a download link down (every mode): its downloads answer 410 from now on. */
admin.post("/admin/takedowns", async (c) => {
  const body = await readStrictJson(c, TakedownBody);
  return c.json(await takedown(c.env, c.get("config"), body.url, body.reason), 201);
});

function tenantParam(c: Context<AppEnv>): string {
  const parsed = TenantId.safeParse(c.req.param("tenant"));
  if (!parsed.success) throw badRequest("Invalid tenant id in the path.", "tenant", "invalid_id");
  return parsed.data;
}

function keyParam(c: Context<AppEnv>): string {
  const parsed = KeyId.safeParse(c.req.param("key"));
  if (!parsed.success) throw badRequest("Invalid key id in the path.", "key", "invalid_id");
  return parsed.data;
}

function unwrap<T>(result: DirectoryResult<T>, what: string): T {
  if (result.ok) return result.value;
  if (result.reason === "not_found") throw new UnsandboxError(404, `No such ${what}.`, { code: "not_found" });
  if (result.reason === "conflict") throw new UnsandboxError(409, `That ${what} exists already.`, { code: "conflict" });
  throw new UnsandboxError(409, `That ${what} is revoked.`, { code: "revoked" });
}

async function sealFor(
  c: Context<AppEnv>,
  key: string | null | undefined,
  tenant: string,
): Promise<string | null | undefined> {
  if (key === undefined || key === null) return key;
  return seal(key, tenant, c.get("config").TENANT_KEY_ENCRYPTION_KEYS ?? []);
}

admin.get("/admin/tenants", async (c) => c.json({ object: "list", data: await directory(c.env).listTenants() }));

admin.post("/admin/tenants", async (c) => {
  const body = await readStrictJson(c, CreateTenantBody);
  const id = body.id ?? `t_${randomBase62(12).toLowerCase()}`;
  const sealed = (await sealFor(c, body.upstream_key, id)) ?? null;
  const view = unwrap(
    await directory(c.env).createTenant({
      id,
      name: body.name,
      limits: body.limits,
      features: body.features,
      upstreamKeySealed: sealed,
    }),
    "tenant",
  );
  return c.json(view, 201);
});

admin.get("/admin/tenants/:tenant", async (c) =>
  c.json(unwrap(await directory(c.env).getTenant(tenantParam(c)), "tenant")),
);

admin.patch("/admin/tenants/:tenant", async (c) => {
  const id = tenantParam(c);
  const body = await readStrictJson(c, UpdateTenantBody);
  const patch = {
    name: body.name,
    limits: body.limits,
    features: body.features,
    upstreamKeySealed: await sealFor(c, body.upstream_key, id),
  };
  return c.json(unwrap(await directory(c.env).updateTenant(id, patch), "tenant"));
});

admin.post("/admin/tenants/:tenant/revoke", async (c) => {
  const id = tenantParam(c);
  await readStrictJson(c, EmptyBody);
  return c.json(unwrap(await directory(c.env).revokeTenant(id), "tenant"));
});

admin.post("/admin/tenants/:tenant/keys", async (c) => {
  const tenant = tenantParam(c);
  const body = await readStrictJson(c, CreateKeyBody);
  const key = mintKey(body.kind);
  const record = unwrap(
    await directory(c.env).addKey({
      id: `key_${randomBase62(16)}`,
      tenant,
      kind: body.kind,
      hash: await hashKey(key),
      prefix: keyPrefix(key),
      limits: body.limits,
      widget: body.kind === "publishable" ? body.widget : null,
    }),
    "tenant",
  );
  return c.json({ key, record }, 201);
});

admin.post("/admin/tenants/:tenant/keys/:key/rotate", async (c) => {
  const tenant = tenantParam(c);
  const oldId = keyParam(c);
  await readStrictJson(c, EmptyBody);
  const old = unwrap(await directory(c.env).getTenant(tenant), "tenant").keys.find((k) => k.id === oldId);
  if (!old) throw new UnsandboxError(404, "No such key.", { code: "not_found" });
  const key = mintKey(old.kind);
  const record = unwrap(
    await directory(c.env).rotateKey(tenant, oldId, {
      id: `key_${randomBase62(16)}`,
      hash: await hashKey(key),
      prefix: keyPrefix(key),
    }),
    "key",
  );
  return c.json({ key, record }, 201);
});

admin.post("/admin/tenants/:tenant/keys/:key/revoke", async (c) => {
  const tenant = tenantParam(c);
  const id = keyParam(c);
  await readStrictJson(c, EmptyBody);
  return c.json(unwrap(await directory(c.env).revokeKey(tenant, id), "key"));
});
