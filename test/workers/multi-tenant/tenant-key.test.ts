/**
 * The Worker deployed in multi-tenant mode (this project's bindings, which its Durable Objects
 * read too): a tenant with its own OpenAI key. The simulator treats that key and the deployment's
 * as two organisations (sim/src/orgs.ts), so every call after the request (the tracker's listing
 * and copies, a background response's polls) must use the tenant's key, looked up in the directory.
 */
import { exports } from "cloudflare:workers";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { MULTI_TENANT_ADMIN_SECRET, SIM_KEY, SIM_OTHER_ORG_KEY } from "../../test-keys";

const BASE = "https://unsandbox.test";
const SIM = "https://api.openai.com";
const TOOLS = [{ type: "code_interpreter" as const, container: { type: "auto" as const } }];

interface ManifestFile {
  file_id: string;
  container_id: string;
  state: string;
  sha256: string | null;
}

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

/** A tenant whose upstream key is the second organisation's, and a secret key of it. */
async function tenantWithOwnKey(): Promise<string> {
  const id = `own${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  await admin("POST", "/admin/tenants", { id, name: id, upstream_key: SIM_OTHER_ORG_KEY });
  return (await admin<{ key: string }>("POST", `/admin/tenants/${id}/keys`, { kind: "secret" })).key;
}

const client = (key: string) =>
  new OpenAI({
    apiKey: key,
    baseURL: `${BASE}/v1`,
    maxRetries: 0,
    fetch: (input, init) => exports.default.fetch(new Request(input as RequestInfo, init as RequestInit)),
  });

async function truth(fileId: string): Promise<{ sha256: string }> {
  return (await fetch(`${SIM}/__sim/files/${fileId}`)).json() as Promise<{ sha256: string }>;
}

async function settled(key: string, responseId: string): Promise<ManifestFile[]> {
  const res = await exports.default.fetch(
    new Request(`${BASE}/v1/responses/${responseId}/files`, {
      headers: { authorization: `Bearer ${key}`, "x-unsandbox-wait-ms": "30000" },
    }),
  );
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: ManifestFile[] }).data;
}

describe("multi-tenant: a tenant's own upstream key", () => {
  it("is what the tracker lists and copies with", async () => {
    const key = await tenantWithOwnKey();
    const r = (await client(key).responses.create(
      { model: "gpt-5", input: "Two files.\nsim: scenario=several-files", tools: TOOLS },
      { headers: { "x-unsandbox-wait-ms": "20000" } },
    )) as unknown as {
      id: string;
      unsandbox: { files: ManifestFile[] };
    };
    const files = r.unsandbox.files;
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const f of files) {
      expect(f.state).toBe("stored");
      expect(f.sha256).toBe((await truth(f.file_id)).sha256);
    }
    // The deployment's key could not have done it: to it, the container does not exist.
    const deployment = new OpenAI({ apiKey: SIM_KEY, baseURL: `${SIM}/v1`, maxRetries: 0 });
    await expect(deployment.containers.retrieve(files[0]!.container_id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("is what a background response is followed with, until its files are stored", async () => {
    const key = await tenantWithOwnKey();
    const r = await client(key).responses.create({
      model: "gpt-5",
      input: "One file.\nsim: scenario=one-file",
      tools: TOOLS,
      background: true,
    });
    let files: ManifestFile[] = [];
    for (let i = 0; i < 60 && files.length === 0; i++) {
      files = await settled(key, r.id);
      if (files.length === 0) await new Promise((done) => setTimeout(done, 250));
    }
    expect(files.map((f) => f.state)).toEqual(["stored"]);
    expect(files[0]!.sha256).toBe((await truth(files[0]!.file_id)).sha256);
  });
});
