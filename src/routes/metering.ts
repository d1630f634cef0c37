/**
 * @module routes/metering
 * `GET /admin/usage` (every tenant with usage) and `GET /admin/usage/:tenant`, with optional
 * `from` / `to` UTC days: what each tenant consumed (model requests, files and bytes stored, bytes
 * served, container reads). `Authorization: Bearer <ADMIN_SECRET>`; 404 while it is unset, like
 * the rest of the admin API.
 *
 * Each report first sends what the answering isolate has gathered (metering/record.ts
 * `flushUsage`), so it includes that isolate's own requests; other isolates' requests reach the
 * meter at most `USAGE_FLUSH_MS` after they ended.
 *
 * Unlike the tenant admin routes (routes/admin.ts), usage exists in every mode, so this router is
 * mounted before them in index.ts and answers itself; their multi-tenant-only middleware never
 * runs for these two paths.
 */
import { Hono, type Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app";
import { requireAdminSecret } from "../auth/admin-secret";
import { badRequest } from "../errors";
import { TENANT_INDEX } from "../metering/meter";
import { flushUsage, meterFor } from "../metering/record";
import { tenantUsage } from "../metering/shards";
import { Day, UsageReport } from "../metering/usage";

export const UsageQuery = z.strictObject({
  from: Day.optional().describe("First UTC day (inclusive), YYYY-MM-DD."),
  to: Day.optional().describe("Last UTC day (inclusive), YYYY-MM-DD."),
});
export const UsageList = z.object({ object: z.literal("list"), data: z.array(UsageReport) });

export const metering = new Hono<AppEnv>();

function query(c: Context<AppEnv>) {
  const parsed = UsageQuery.safeParse(c.req.query());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw badRequest(
      `Invalid query parameter '${issue.path.join(".") || "query"}': ${issue.message}`,
      issue.path.join(".") || null,
      "invalid_value",
    );
  }
  return { from: parsed.data.from ?? null, to: parsed.data.to ?? null };
}

metering.get("/admin/usage", requireAdminSecret, async (c) => {
  const { from, to } = query(c);
  await flushUsage(c.env);
  const tenants = await meterFor(c.env, TENANT_INDEX).tenants();
  const data = await Promise.all(tenants.map((t) => tenantUsage(c.env, t, from, to)));
  return c.json({ object: "list" as const, data });
});

metering.get("/admin/usage/:tenant", requireAdminSecret, async (c) => {
  const { from, to } = query(c);
  const tenant = c.req.param("tenant");
  if (!/^[A-Za-z0-9_-]{1,80}$/.test(tenant)) throw badRequest("Invalid tenant id in the path.", "tenant", "invalid_id");
  await flushUsage(c.env);
  return c.json(await tenantUsage(c.env, tenant, from, to));
});
