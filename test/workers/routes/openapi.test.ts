/**
 * /openapi.json and /docs through the real Worker: every route unsandbox answers itself is in the
 * document, every $ref resolves, and the page loads nothing from anywhere. (Validation against the
 * OpenAPI 3.1 meta-schema runs in Node, test/node/examples/, because ajv compiles with
 * new Function, which workerd forbids.)
 */
import { describe, expect, it } from "vitest";
import { call } from "../support/worker";

describe("GET /openapi.json", () => {
  it("describes unsandbox's own routes, points at OpenAI's spec for the proxied ones, and every $ref resolves", async () => {
    const res = await call("/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as any;
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(doc.servers[0].url).toBe("https://unsandbox.test");
    for (const path of [
      "/v1/responses",
      "/v1/responses/{id}/files",
      "/files/{token}/{name}",
      "/healthz",
      "/admin/usage",
      "/admin/usage/{tenant}",
      "/openapi.json",
      "/docs",
    ]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    expect(doc.paths["/v1/responses"].post.externalDocs.url).toContain("openai.com");
    expect(doc.info.description).toContain("github.com/openai/openai-openapi");
    // The manifest entry is generated from zod: the states and nullable fields are there.
    const file = doc.components.schemas.AnswerFile;
    expect(file.properties.state.enum).toContain("stored");
    expect(file.required).toContain("url");
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(5);
    for (const r of refs) expect(doc.components.schemas[r], r).toBeDefined();
  });

  it("the admin bodies are the admin API's own zod schemas (input side)", async () => {
    const doc = (await (await call("/openapi.json")).json()) as any;
    const create = doc.components.schemas.CreateTenantBody;
    expect(create.required).toEqual(["name"]);
    expect(create.additionalProperties).toBe(false);
  });
});

describe("GET /docs", () => {
  it("renders every route in one page that loads nothing external", async () => {
    const res = await call("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).not.toMatch(/<script|<link|src=|@import|url\(/i);
    const doc = (await (await call("/openapi.json")).json()) as any;
    for (const path of Object.keys(doc.paths)) expect(html).toContain(`<code>${path.replaceAll("'", "&#39;")}</code>`);
  });
});
