/**
 * Pass-through callers are keys upstream accepted: a made-up string gets 401 on every route,
 * unsandbox's own included, and no Durable Object is created for it (no meter, no tenant in the
 * usage index, no response index, no rate counter); a key upstream accepts works as before.
 */
import { env } from "cloudflare:workers";
import { listDurableObjectIds } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { hashKey } from "../../../src/auth/keys";
import { looksLikeUpstreamKey, verdictOf } from "../../../src/auth/upstream-key";
import { TENANT_INDEX } from "../../../src/metering/meter";
import { meterFor } from "../../../src/metering/record";
import { SIM_OTHER_ORG_KEY } from "../../test-keys";
import { as, errorOf } from "../support/tenants";

const bindings = env as unknown as Record<string, DurableObjectNamespace>;
const NAMESPACES = [
  "CONTAINER_TRACKER",
  "RESPONSE_INDEX",
  "TENANT_DIRECTORY",
  "OWNERSHIP_LEDGER",
  "RATE_COUNTER",
  "USAGE_METER",
];

/** How many objects each namespace holds. */
async function objectCounts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const name of NAMESPACES) out[name] = (await listDurableObjectIds(bindings[name]!)).length;
  return out;
}

const ptTenant = async (key: string) => `pt_${(await hashKey(key)).slice(0, 32)}`;

describe("pass-through callers", () => {
  it("a made-up key gets 401 on unsandbox's own routes and the forwarded ones, and leaves no state", async () => {
    const key = `sk-madeup-${crypto.randomUUID()}`;
    const before = await objectCounts();
    const responseId = `resp_madeup${crypto.randomUUID().replace(/-/g, "")}`;
    const calls: [string, string][] = [
      ["GET", `/v1/responses/${responseId}/files`],
      ["GET", `/v1/responses/${responseId}`],
      ["DELETE", `/v1/responses/${responseId}/files`],
      ["DELETE", "/v1/containers/cntr_madeup/files/cfile_madeup"],
      ["GET", "/v1/containers/cntr_madeup"],
      ["GET", "/v1/models"],
    ];
    for (const [method, path] of calls) {
      expect({ path, ...(await errorOf(await as("passthrough", key, path, { method }))) }).toMatchObject({
        path,
        status: 401,
        code: "invalid_api_key",
      });
    }
    // Again, answered from the isolate's memory of the refusal.
    expect((await as("passthrough", key, `/v1/responses/${responseId}/files`)).status).toBe(401);
    expect(await objectCounts()).toEqual(before);
    const tenant = await ptTenant(key);
    expect(await meterFor(env as never, TENANT_INDEX).tenants()).not.toContain(tenant);
  });

  it("a key that is not an upstream key's shape is refused before upstream is asked", async () => {
    for (const key of ["sk-a:b-0123456789", 'sk-ab"cd-0123456789', `sk-${"a".repeat(300)}`, "short"]) {
      expect(looksLikeUpstreamKey(key), key).toBe(false);
      expect((await errorOf(await as("passthrough", key, "/v1/models"))).status).toBe(401);
    }
    expect(looksLikeUpstreamKey(SIM_OTHER_ORG_KEY)).toBe(true);
    expect(looksLikeUpstreamKey("sk-proj-" + "Ab1_-".repeat(30))).toBe(true);
    // Only a 401 says "no such key"; a 403 is a real key without a scope; the rest decides nothing.
    expect([200, 403, 401, 429, 500, 0].map(verdictOf)).toEqual([
      "accepted",
      "accepted",
      "refused",
      "unknown",
      "unknown",
      "unknown",
    ]);
  });

  it("a key upstream accepts is a caller on own routes (an unknown id is its own 404, not a 401)", async () => {
    const res = await as("passthrough", SIM_OTHER_ORG_KEY, "/v1/responses/resp_nothinghere/files");
    expect(await errorOf(res)).toMatchObject({ status: 404 });
    expect((await as("passthrough", SIM_OTHER_ORG_KEY, "/v1/models")).status).toBe(200);
  });
});
