/**
 * GET /healthz (routes/health.ts) through the real Worker: R2 and every Durable Object binding
 * checked, a missing one named.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call } from "../support/worker";

describe("GET /healthz", () => {
  it("checks R2 and every Durable Object binding", async () => {
    const res = await call("/healthz");
    const body = (await res.json()) as any;
    expect(res.status).toBe(200);
    expect(body.ok).toBe(true);
    expect(Object.keys(body.checks).sort()).toEqual([
      "container_tracker",
      "ownership_ledger",
      "r2",
      "rate_counter",
      "response_index",
      "tenant_directory",
      "usage_meter",
    ]);
    for (const check of Object.values(body.checks) as any[]) expect(check.ok).toBe(true);
  });

  it("answers 503 naming the missing binding", async () => {
    const broken = { ...(env as object), FILES: undefined, RESPONSE_INDEX: undefined };
    const res = await call("/healthz", {}, broken);
    const body = (await res.json()) as any;
    expect(res.status).toBe(503);
    expect(body.ok).toBe(false);
    expect(body.checks.r2.ok).toBe(false);
    expect(body.checks.r2.error).toContain("FILES");
    expect(body.checks.response_index.error).toContain("RESPONSE_INDEX");
    expect(body.checks.container_tracker.ok).toBe(true);
  });
});
