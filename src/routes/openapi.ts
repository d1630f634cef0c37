/**
 * @module routes/openapi
 * `GET /openapi.json`: an OpenAPI 3.1 document of unsandbox's own API, assembled from the zod
 * schemas the routes use (zod 4's `z.toJSONSchema`, whose output is JSON Schema 2020-12, the
 * dialect OpenAPI 3.1 uses). `GET /docs` renders it as one self-contained HTML page: no script, no
 * stylesheet or font from anywhere else, so it works offline and under a strict CSP.
 *
 * The proxied OpenAI routes (`POST /v1/responses` and everything else under `/v1`) are described
 * only by what unsandbox adds; their request and answer shapes are OpenAI's, referred to by link.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app";
import type { AnswerFile } from "../harvest/harvest";
import { FEATURE_HEADERS } from "../harvest/features";
import { EXPIRY_HEADER } from "../harvest/managed";

/** The words an on/off feature header takes (harvest/features.ts). */
const ON_OFF = { type: "string", enum: ["1", "true", "on", "0", "false", "off"] } as const;
import { UsageReport } from "../metering/usage";
import { CreateKeyBody, CreateTenantBody, UpdateTenantBody } from "../tenants/schema";
import { FILE_STATES } from "../tracker/types";
import { HealthReport } from "./health";
import { UsageList } from "./metering";

const OPENAI_SPEC = "https://github.com/openai/openai-openapi";
const OPENAI_RESPONSES_DOCS = "https://platform.openai.com/docs/api-reference/responses";

/** OpenAI's error shape, which every refusal of unsandbox uses too (src/errors.ts). */
export const ErrorBodySchema = z.object({
  error: z.object({
    message: z.string(),
    type: z
      .string()
      .describe(
        "`invalid_request_error`, `authentication_error`, `permission_error`, `not_found_error`, `rate_limit_error`, `server_error` or `configuration_error`.",
      ),
    param: z.string().nullable(),
    code: z.string().nullable(),
  }),
});

/** One entry of `unsandbox.files` and of `GET /v1/responses/{id}/files` (harvest/harvest.ts `AnswerFile`). */
export const AnswerFileSchema = z.object({
  file_id: z.string().nullable().describe("The container file id, or null for a linked path that never resolved."),
  container_id: z.string(),
  path: z.string().describe("Where the file lived, e.g. `/mnt/data/report.pdf`."),
  filename: z.string(),
  url: z.string().describe("The unsandbox download URL (signed; no key needed)."),
  state: z
    .enum([...FILE_STATES, "taken_down"])
    .describe(
      "`pending`/`copying` still change; the rest are final. `taken_down`: an admin took the link or its bytes down; its URL answers 410.",
    ),
  bytes: z.number().nullable(),
  content_type: z.string().nullable(),
  sha256: z.string().nullable(),
  cited: z
    .array(z.enum(["annotation", "link", "item", "figure", "listing"]))
    .describe("How the answer referred to it."),
  reason: z.string().nullable().describe("Why a file is in a problem state."),
});
// The schema and the type the code uses must describe the same object, in both directions.
const _toSchema = (f: AnswerFile): z.infer<typeof AnswerFileSchema> => f;
const _fromSchema = (f: z.infer<typeof AnswerFileSchema>): AnswerFile => f;
void _toSchema;
void _fromSchema;

export const FileListSchema = z.object({
  object: z.literal("list"),
  response_id: z.string(),
  data: z.array(AnswerFileSchema),
});
export const WidgetInfoSchema = z.object({
  version: z.string(),
  url: z.string(),
  integrity: z.string(),
  tag: z.string(),
});
export const WidgetSessionSchema = z.object({ session: z.string(), expires_at: z.number().describe("Unix seconds.") });

const COMPONENTS = {
  Error: ErrorBodySchema,
  AnswerFile: AnswerFileSchema,
  FileList: FileListSchema,
  HealthReport,
  UsageReport,
  UsageList,
  WidgetInfo: WidgetInfoSchema,
  WidgetSession: WidgetSessionSchema,
  CreateTenantBody,
  UpdateTenantBody,
  CreateKeyBody,
} as const;

type SchemaObject = Record<string, unknown>;

/** zod → a JSON Schema object fit for `components.schemas` (no `$schema` key). */
function jsonSchema(schema: z.ZodType, io: "input" | "output"): SchemaObject {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as SchemaObject;
  return rest;
}

const ref = (name: keyof typeof COMPONENTS) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: keyof typeof COMPONENTS, description: string) => ({
  description,
  content: { "application/json": { schema: ref(name) } },
});
const error = (description: string) => json("Error", description);
const bearer = [{ bearer: [] }];
const adminAuth = [{ admin: [] }];
const idParam = (name: string, description: string) => ({
  name,
  in: "path",
  required: true,
  schema: { type: "string" },
  description,
});

/** Builds the document (pure; `origin` becomes the server URL). */
export function openApiDocument(origin: string): SchemaObject {
  const schemas = Object.fromEntries(
    Object.entries(COMPONENTS).map(([name, s]) => [
      name,
      jsonSchema(s as z.ZodType, name.endsWith("Body") ? "input" : "output"),
    ]),
  );
  const proxied = (summary: string, description: string) => ({
    summary,
    description: `${description} Request and answer are OpenAI's (${OPENAI_RESPONSES_DOCS}); the schemas are in OpenAI's OpenAPI document (${OPENAI_SPEC}).`,
    externalDocs: { url: OPENAI_RESPONSES_DOCS, description: "OpenAI API reference" },
    security: bearer,
  });
  return {
    openapi: "3.1.0",
    info: {
      title: "unsandbox",
      version: "0.1.0",
      description:
        "An OpenAI-compatible proxy that copies code_interpreter files to R2 and rewrites every sandbox link to a download URL. " +
        "This document covers unsandbox's own routes. Every other `/v1/*` route is passed to the upstream unchanged (single-tenant mode) " +
        `and is described by OpenAI's OpenAPI document: ${OPENAI_SPEC}.`,
      license: { name: "Apache-2.0", identifier: "Apache-2.0" },
    },
    externalDocs: { url: OPENAI_SPEC, description: "OpenAI's OpenAPI document (the proxied routes)" },
    servers: [{ url: origin }],
    components: {
      schemas,
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          description: "A secret key (`usk_…`), or a publishable key (`pk_…`) from an allowed origin.",
        },
        admin: { type: "http", scheme: "bearer", description: "`ADMIN_SECRET`." },
      },
    },
    paths: {
      "/v1/responses": {
        post: {
          ...proxied(
            "Create a model response (proxied)",
            "The body goes to OpenAI's `POST /v1/responses`. The answer (JSON or SSE) has every sandbox link rewritten to an unsandbox URL and a top-level `unsandbox.files` array (AnswerFile).",
          ),
          operationId: "createResponse",
          parameters: [
            {
              name: "x-unsandbox-wait-ms",
              in: "header",
              required: false,
              schema: { type: "integer", minimum: 0, maximum: 60000 },
              description: "How long a plain answer waits for copies (default 10000).",
            },
            {
              name: FEATURE_HEADERS.managed_containers,
              in: "header",
              required: false,
              schema: ON_OFF,
              description:
                "Managed container: unsandbox creates the code_interpreter container and reuses it across the previous_response_id chain. Without the header: the tenant's default (`features.managed_containers`), else off.",
            },
            {
              name: FEATURE_HEADERS.file_instructions,
              in: "header",
              required: false,
              schema: ON_OFF,
              description:
                "Appends unsandbox's file instructions to the request's `instructions`. Without the header: the tenant's default (`features.file_instructions`), else off.",
            },
            {
              name: FEATURE_HEADERS.repair,
              in: "header",
              required: false,
              schema: ON_OFF,
              description:
                "Asks the model once more for linked files it never wrote. Without the header: the tenant's default (`features.repair`), else `UNSANDBOX_REPAIR`.",
            },
            {
              name: FEATURE_HEADERS.url_citations,
              in: "header",
              required: false,
              schema: ON_OFF,
              description:
                "URL-citation style, for clients that only understand URL citations: each `container_file_citation` of a rewritten link is delivered as a `url_citation` over the same span, `url` the download URL and `title` the file name (plain, streamed and read-back answers; the events stay upstream's). Without the header: the tenant's default (`features.url_citations`), else off.",
            },
            {
              name: EXPIRY_HEADER,
              in: "header",
              required: false,
              schema: { type: "integer", minimum: 1, maximum: 1440 },
              description: "Idle expiry of a managed container, minutes (default 20).",
            },
          ],
          requestBody: {
            required: true,
            description: "OpenAI's CreateResponse body.",
            content: { "application/json": { schema: { type: "object" } } },
          },
          responses: {
            "200": {
              description:
                "OpenAI's Response object plus `unsandbox: { files: AnswerFile[] }`, or an SSE stream of its events.",
              content: {
                "application/json": {
                  schema: {
                    type: "object",
                    properties: {
                      unsandbox: { type: "object", properties: { files: { type: "array", items: ref("AnswerFile") } } },
                    },
                  },
                },
                "text/event-stream": { schema: { type: "string" } },
              },
            },
            "400": error("Invalid body or header."),
            "401": error("Missing or wrong key."),
          },
        },
      },
      "/v1/responses/{id}": {
        get: {
          ...proxied(
            "Retrieve a response (proxied, links rewritten)",
            "OpenAI's retrieve, with links rewritten on read.",
          ),
          operationId: "getResponse",
          parameters: [idParam("id", "`resp_…`")],
          responses: { "200": { description: "OpenAI's Response object." }, "404": error("Unknown or not yours.") },
        },
      },
      "/v1/responses/{id}/files": {
        get: {
          summary: "The files of a response",
          description:
            "Every file the response produced or linked, with its copy state and download URL. States converge after the answer was sent: poll until none is `pending` or `copying`, or send `x-unsandbox-wait-ms` to get the answer once they have (or when that time is up).",
          operationId: "listResponseFiles",
          security: bearer,
          parameters: [
            idParam("id", "`resp_…`"),
            {
              name: "x-unsandbox-wait-ms",
              in: "header",
              required: false,
              schema: { type: "integer", minimum: 0, maximum: 60000 },
              description:
                "Hold the answer until every listed file has settled, at most this long (default 0: answer at once).",
            },
          ],
          responses: {
            "200": json("FileList", "The manifest."),
            "400": error("Invalid header."),
            "404": error("Unknown response, or another tenant's."),
          },
        },
      },
      "/files/{token}/{name}": {
        get: {
          summary: "Download a file",
          description:
            "The signed token is the credential (no key). Served from R2 with Range, If-Range and If-None-Match; waits a few seconds for a copy that is still running, then answers 503 with Retry-After.",
          operationId: "downloadFile",
          parameters: [
            idParam("token", "Signed link token."),
            idParam("name", "The file name (for humans; not checked)."),
          ],
          responses: {
            "200": {
              description: "The bytes.",
              content: {
                "application/octet-stream": {
                  schema: { type: "string", contentMediaType: "application/octet-stream" },
                },
              },
            },
            "206": { description: "A range of the bytes." },
            "304": { description: "Not modified (If-None-Match)." },
            "403": error("Invalid or expired link."),
            "404": error("The model linked a file it never wrote."),
            "410": error("The file was lost or deleted."),
            "503": error("Still being copied; retry after Retry-After seconds."),
          },
        },
      },
      "/healthz": {
        get: {
          summary: "Health",
          description: "Checks R2 and every Durable Object binding.",
          operationId: "health",
          responses: {
            "200": json("HealthReport", "All checks passed."),
            "503": json("HealthReport", "A check failed."),
          },
        },
      },
      "/admin/usage": {
        get: {
          summary: "Usage of every tenant",
          operationId: "listUsage",
          security: adminAuth,
          parameters: usageQuery(),
          responses: {
            "200": json("UsageList", "One report per tenant with usage."),
            "401": error("Wrong admin secret."),
            "404": error("ADMIN_SECRET is unset."),
          },
        },
      },
      "/admin/usage/{tenant}": {
        get: {
          summary: "Usage of one tenant",
          operationId: "getUsage",
          security: adminAuth,
          parameters: [idParam("tenant", "Tenant id (`default` in single-tenant mode)."), ...usageQuery()],
          responses: { "200": json("UsageReport", "The tenant's counters."), "401": error("Wrong admin secret.") },
        },
      },
      "/admin/tenants": {
        get: {
          summary: "List tenants (multi-tenant mode)",
          operationId: "listTenants",
          security: adminAuth,
          responses: {
            "200": { description: '`{ object: "list", data: [tenant] }`' },
            "409": error("Not in multi-tenant mode."),
          },
        },
        post: {
          summary: "Create a tenant",
          operationId: "createTenant",
          security: adminAuth,
          requestBody: { required: true, content: { "application/json": { schema: ref("CreateTenantBody") } } },
          responses: { "201": { description: "The tenant." }, "400": error("Invalid body.") },
        },
      },
      "/admin/tenants/{tenant}": {
        get: {
          summary: "Get a tenant",
          operationId: "getTenant",
          security: adminAuth,
          parameters: [idParam("tenant", "Tenant id.")],
          responses: { "200": { description: "The tenant." }, "404": error("Unknown tenant.") },
        },
        patch: {
          summary: "Update a tenant",
          operationId: "updateTenant",
          security: adminAuth,
          parameters: [idParam("tenant", "Tenant id.")],
          requestBody: { required: true, content: { "application/json": { schema: ref("UpdateTenantBody") } } },
          responses: { "200": { description: "The tenant." }, "400": error("Invalid body.") },
        },
      },
      "/admin/tenants/{tenant}/keys": {
        post: {
          summary: "Create a key",
          description: "The plaintext key is shown once, in this answer.",
          operationId: "createKey",
          security: adminAuth,
          parameters: [idParam("tenant", "Tenant id.")],
          requestBody: { required: true, content: { "application/json": { schema: ref("CreateKeyBody") } } },
          responses: { "201": { description: "`{ key, record }`" }, "400": error("Invalid body.") },
        },
      },
      "/widget.json": {
        get: {
          summary: "The widget's versioned URL, SRI hash and tag",
          operationId: "widgetInfo",
          responses: { "200": json("WidgetInfo", "Ready to paste.") },
        },
      },
      "/widget/session": {
        post: {
          summary: "A visitor session for the widget",
          operationId: "widgetSession",
          security: bearer,
          responses: { "200": json("WidgetSession", "The session token."), "403": error("Origin not allowed.") },
        },
      },
      "/openapi.json": {
        get: {
          summary: "This document",
          operationId: "openapi",
          responses: { "200": { description: "OpenAPI 3.1." } },
        },
      },
      "/docs": {
        get: {
          summary: "This document as a page",
          operationId: "docs",
          responses: { "200": { description: "HTML.", content: { "text/html": { schema: { type: "string" } } } } },
        },
      },
    },
  };
}

function usageQuery() {
  return [
    {
      name: "from",
      in: "query",
      required: false,
      schema: { type: "string", format: "date" },
      description: "First UTC day, YYYY-MM-DD.",
    },
    {
      name: "to",
      in: "query",
      required: false,
      schema: { type: "string", format: "date" },
      description: "Last UTC day, YYYY-MM-DD.",
    },
  ];
}

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Pure: the document as one HTML page (every value escaped; no script). */
export function renderDocs(doc: SchemaObject): string {
  const info = doc.info as { title: string; version: string; description: string };
  const paths = doc.paths as Record<
    string,
    Record<
      string,
      {
        summary?: string;
        description?: string;
        parameters?: { name: string; in: string; description?: string }[];
        requestBody?: unknown;
        responses?: Record<string, { description?: string }>;
      }
    >
  >;
  const schemas = (doc.components as { schemas: Record<string, unknown> }).schemas;
  const ops = Object.entries(paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => {
      const params = (op.parameters ?? [])
        .map((p) => `<li><code>${esc(p.name)}</code> (${esc(p.in)}) ${esc(p.description ?? "")}</li>`)
        .join("");
      const responses = Object.entries(op.responses ?? {})
        .map(([code, r]) => `<li><code>${esc(code)}</code> ${esc(r.description ?? "")}</li>`)
        .join("");
      const body = op.requestBody ? `<h4>Body</h4><pre>${esc(JSON.stringify(op.requestBody, null, 2))}</pre>` : "";
      return `<section id="${esc(`${method}-${path}`)}"><h3><span class="m">${esc(method.toUpperCase())}</span> <code>${esc(path)}</code></h3><p>${esc(op.summary ?? "")}</p>${op.description ? `<p>${esc(op.description)}</p>` : ""}${params ? `<h4>Parameters</h4><ul>${params}</ul>` : ""}${body}<h4>Answers</h4><ul>${responses}</ul></section>`;
    }),
  );
  const models = Object.entries(schemas).map(
    ([name, s]) =>
      `<section id="schema-${esc(name)}"><h3>${esc(name)}</h3><pre>${esc(JSON.stringify(s, null, 2))}</pre></section>`,
  );
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(info.title)} API</title><style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}
pre{background:#f3f5f8;padding:.75rem;overflow-x:auto;border-radius:6px;font-size:13px}
section{border-top:1px solid #d5dae1;padding:.5rem 0}.m{display:inline-block;min-width:4.5rem;font-weight:700;color:#2457d6}
@media (prefers-color-scheme:dark){body{background:#15181d;color:#e6e9ee}pre{background:#232832}.m{color:#7aa2ff}}
</style></head><body><h1>${esc(info.title)} ${esc(info.version)}</h1><p>${esc(info.description)}</p><p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p><h2>Routes</h2>${ops.join("")}<h2>Schemas</h2>${models.join("")}</body></html>`;
}

export const openapi = new Hono<AppEnv>();

openapi.get("/openapi.json", (c) =>
  c.json(openApiDocument(new URL(c.req.url).origin), 200, { "cache-control": "public, max-age=300" }),
);

openapi.get("/docs", (c) =>
  c.html(renderDocs(openApiDocument(new URL(c.req.url).origin)), 200, {
    // Nothing loads from anywhere: no script at all, inline styles only.
    "content-security-policy":
      "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "cache-control": "public, max-age=300",
  }),
);
