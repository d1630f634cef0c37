/**
 * Multi-tenant mode with its Durable Objects in that mode too: a create that stores files makes
 * at most one TenantDirectory call in all (the key lookup), because the request hands the
 * tenant's limits and sealed upstream key to its trackers (docs/architecture.md, "Shared objects").
 */
import { exports } from "cloudflare:workers";
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { TenantDirectory } from "../../../src/tenants/directory";
import { MULTI_TENANT_ADMIN_SECRET, SIM_OTHER_ORG_KEY } from "../../test-keys";
import { countCalls } from "../support/calls";

const BASE = "https://unsandbox.test";
const TOOLS = [{ type: "code_interpreter" as const, container: { type: "auto" as const } }];

async function admin<T = any>(method: string, path: string, json?: unknown): Promise<T> {
  const res = await exports.default.fetch(
    new Request(`${BASE}${path}`, {
      method,
      headers: { authorization: `Bearer ${MULTI_TENANT_ADMIN_SECRET}`, "content-type": "application/json" },
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
    }),
  );
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<T>;
}

const counter = countCalls(TenantDirectory, ["lookupKey", "tenantRecord", "originAllowed"]);
afterEach(() => counter.restore());

describe("multi-tenant: TenantDirectory calls per create", () => {
  for (const own of [true, false]) {
    it(`a 3-file create makes at most one (${own ? "the tenant's own upstream key" : "the deployment's key"})`, async () => {
      const id = `dc${Date.now().toString(36)}${own ? "o" : "d"}`;
      await admin("POST", "/admin/tenants", {
        id,
        name: id,
        limits: { files_per_response: 40 },
        ...(own ? { upstream_key: SIM_OTHER_ORG_KEY } : {}),
      });
      const key = (await admin<{ key: string }>("POST", `/admin/tenants/${id}/keys`, { kind: "secret" })).key;
      counter.reset();
      const client = new OpenAI({
        apiKey: key,
        baseURL: `${BASE}/v1`,
        maxRetries: 0,
        fetch: (input, init) => exports.default.fetch(new Request(input as RequestInfo, init as RequestInit)),
      });
      const r = (await client.responses.create(
        { model: "gpt-5", input: "Files.\nsim: scenario=several-files", tools: TOOLS },
        { headers: { "x-unsandbox-wait-ms": "20000" } },
      )) as unknown as { unsandbox: { files: { state: string }[] } };
      expect(r.unsandbox.files.length).toBeGreaterThanOrEqual(2);
      expect(r.unsandbox.files.every((f) => f.state === "stored")).toBe(true);
      expect(counter.total()).toBeLessThanOrEqual(1);
    });
  }
});
