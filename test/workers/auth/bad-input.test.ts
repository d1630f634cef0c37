/**
 * Bad input: each input has an exact expected status and error code (OpenAI's error shape), the
 * valid controls must succeed, and R2 plus every Durable Object's stored state is the same after
 * all the bad inputs as before them. Ends with `inputs tried: N, unexpected answers: 0`.
 */
import { env } from "cloudflare:workers";
import { listDurableObjectIds, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { SESSION_HEADER } from "../../../src/auth/authenticate";
import { signSession } from "../../../src/auth/session";
import type { Bindings } from "../../../src/config";
import { signLink } from "../../../src/links/token";
import {
  ADMIN_SECRET,
  as,
  call,
  makeTenant,
  session,
  SINGLE_KEY,
  SINGLE_ORIGIN,
  SINGLE_PK,
  type ModeName,
  type TestTenant,
} from "../support/tenants";

const LINK_SECRETS = [
  { kid: "k2", secret: "test-secret-two-0123456789abcdef0123" },
  { kid: "k1", secret: "test-secret-one-0123456789abcdef0123" },
];
const bindings = env as unknown as Bindings;

interface Input {
  label: string;
  mode: ModeName;
  path: string;
  init?: RequestInit & { json?: unknown };
  key?: string;
  status: number;
  code: string;
}

let a: TestTenant;
let b: TestTenant;
let sA: string;
let sB: string;
let respA: string;

/** Everything stored: R2 objects and every table of every Durable Object of every class. */
async function snapshot(): Promise<unknown> {
  const objects: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await bindings.FILES.list({ cursor, include: ["customMetadata", "httpMetadata"] });
    for (const o of page.objects) objects.push(`${o.key} ${o.size} ${o.etag} ${JSON.stringify(o.customMetadata)}`);
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  const dos: Record<string, unknown> = {};
  for (const name of ["CONTAINER_TRACKER", "RESPONSE_INDEX", "TENANT_DIRECTORY", "OWNERSHIP_LEDGER"] as const) {
    const ns: DurableObjectNamespace = bindings[name];
    for (const id of await listDurableObjectIds(ns)) {
      const dump = await runInDurableObject(ns.get(id), (_i, state: DurableObjectState) => {
        const tables = state.storage.sql
          .exec<{ name: string }>(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
          )
          .toArray();
        return Object.fromEntries(
          tables.map((t) => [t.name, state.storage.sql.exec(`SELECT * FROM "${t.name}"`).toArray()]),
        );
      });
      // An object that was only looked into (it stores no table) holds nothing: same as absent.
      if (Object.keys(dump).length > 0) dos[`${name}/${id.toString()}`] = dump;
    }
  }
  return { objects: objects.sort(), dos };
}

/**
 * Holds the alarms of the trackers and indexes while the bad inputs run: their own background
 * work (sweeps, retries) legitimately changes their tables, and what is checked here is that
 * requests change nothing. Returns a function that puts the alarms back.
 */
async function pauseAlarms(): Promise<() => Promise<void>> {
  const paused: [DurableObjectStub, number][] = [];
  for (const name of ["CONTAINER_TRACKER", "RESPONSE_INDEX"] as const) {
    const ns: DurableObjectNamespace = bindings[name];
    for (const id of await listDurableObjectIds(ns)) {
      const stub = ns.get(id);
      const at = await runInDurableObject(stub, async (_i, state: DurableObjectState) => {
        const t = await state.storage.getAlarm();
        if (t !== null) await state.storage.deleteAlarm();
        return t;
      });
      if (at !== null) paused.push([stub, at]);
    }
  }
  return async () => {
    for (const [stub, at] of paused)
      await runInDurableObject(stub, (_i, state: DurableObjectState) => state.storage.setAlarm(at));
  };
}

/** A snapshot taken twice in a row with the same result (work already running has finished). */
/** Whether some tracker still has stored files to meter (its usage outbox flushes on a timer: src/metering/outbox.ts). */
function usagePending(snap: unknown): boolean {
  return Object.values((snap as { dos: Record<string, { usage_outbox?: unknown[] }> }).dos).some(
    (d) => (d.usage_outbox?.length ?? 0) > 0,
  );
}

async function settledSnapshot(): Promise<unknown> {
  let last = JSON.stringify(await snapshot());
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const next = JSON.stringify(await snapshot());
    if (next === last && !usagePending(JSON.parse(next))) return JSON.parse(next);
    last = next;
  }
  throw new Error("stored state never settled");
}

function inputs(): Input[] {
  const R = "/v1/responses";
  const post = (json: unknown): RequestInit & { json?: unknown } => ({ method: "POST", json });
  const raw = (body: BodyInit, extra: Record<string, string> = {}): RequestInit => ({
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...extra },
  });
  const visitor = (s: string, extra: Record<string, string> = {}) => ({
    origin: a.origin,
    [SESSION_HEADER]: s,
    ...extra,
  });
  const big = "x".repeat(16 * 1024 * 1024 + 10);
  return [
    // Sizes and syntax.
    {
      label: "body over 16 MB",
      mode: "multi",
      key: a.secret,
      path: R,
      init: raw(JSON.stringify({ model: "m", input: big })),
      status: 413,
      code: "request_too_large",
    },
    {
      label: "admin body over 64 KB",
      mode: "multi",
      key: ADMIN_SECRET,
      path: "/admin/tenants",
      init: raw(JSON.stringify({ name: "x".repeat(70_000) })),
      status: 413,
      code: "request_too_large",
    },
    {
      label: "admin body over 64 KB, streamed without length",
      mode: "multi",
      key: ADMIN_SECRET,
      path: "/admin/tenants",
      init: {
        method: "POST",
        body: new Blob(['{"name":"', "y".repeat(70_000), '"}']).stream(),
        headers: { "content-type": "application/json" },
        duplex: "half",
      } as RequestInit,
      status: 413,
      code: "request_too_large",
    },
    {
      label: "malformed JSON",
      mode: "multi",
      key: a.secret,
      path: R,
      init: raw('{"model": "gpt-5", "input": '),
      status: 400,
      code: "invalid_json",
    },
    {
      label: "malformed JSON (single-tenant)",
      mode: "single",
      key: SINGLE_KEY,
      path: R,
      init: raw("{nope"),
      status: 400,
      code: "invalid_json",
    },
    { label: "empty body", mode: "multi", key: a.secret, path: R, init: raw(""), status: 400, code: "invalid_json" },
    {
      label: "body is an array",
      mode: "multi",
      key: a.secret,
      path: R,
      init: post([]),
      status: 400,
      code: "invalid_type",
    },
    {
      label: "body is a string",
      mode: "multi",
      key: a.secret,
      path: R,
      init: post("hello"),
      status: 400,
      code: "invalid_type",
    },
    // Path spellings (the front door) and body encodings of id-carrying routes.
    {
      label: "percent-encoded route word",
      mode: "multi",
      key: a.secret,
      path: "/v1/%72esponses",
      init: post({ model: "gpt-5", input: "x" }),
      status: 400,
      code: "invalid_path",
    },
    {
      label: "percent-encoded version",
      mode: "single",
      key: SINGLE_KEY,
      path: "/%76%31/responses",
      init: post({ model: "gpt-5", input: "x" }),
      status: 400,
      code: "invalid_path",
    },
    {
      label: "%2F in a /v1 path",
      mode: "multi",
      key: a.secret,
      path: "/v1/containers%2Fcntr_1",
      status: 400,
      code: "invalid_path",
    },
    {
      label: "trailing slash",
      mode: "multi",
      key: a.secret,
      path: "/v1/responses/",
      init: post({ model: "gpt-5", input: "x" }),
      status: 400,
      code: "invalid_path",
    },
    { label: "encoded download token", mode: "single", path: "/files/%41bc/x.csv", status: 400, code: "invalid_path" },
    {
      label: "URL-encoded form on an id-carrying route",
      mode: "multi",
      key: a.secret,
      path: "/v1/containers",
      init: {
        method: "POST",
        body: "file_ids=file-x",
        headers: { "content-type": "application/x-www-form-urlencoded" },
      },
      status: 415,
      code: "unsupported_media_type",
    },
    {
      label: "gzip body on an id-carrying route",
      mode: "multi",
      key: a.secret,
      path: "/v1/containers",
      init: raw("x", { "content-encoding": "gzip" }),
      status: 415,
      code: "unsupported_media_type",
    },
    {
      label: "text/plain body that is not JSON",
      mode: "multi",
      key: a.secret,
      path: "/v1/containers",
      init: { method: "POST", body: "file_ids", headers: { "content-type": "text/plain" } },
      status: 400,
      code: "invalid_json",
    },
    {
      label: "too many ids",
      mode: "multi",
      key: a.secret,
      path: R,
      init: post({
        model: "gpt-5",
        input: [
          {
            role: "user",
            content: Array.from({ length: 300 }, (_, i) => ({ type: "input_file", file_id: `file-n${i}` })),
          },
        ],
      }),
      status: 400,
      code: "too_many_ids",
    },
    {
      label: "item reference with a bad id",
      mode: "multi",
      key: a.secret,
      path: R,
      init: post({ model: "gpt-5", input: [{ type: "item_reference", id: "../x" }] }),
      status: 400,
      code: "invalid_value",
    },
    // Wrong types and bad ids in the body.
    {
      label: "previous_response_id is a number",
      mode: "multi",
      key: a.secret,
      path: R,
      init: post({ input: "x", previous_response_id: 5 }),
      status: 400,
      code: "invalid_type",
    },
    {
      label: "previous_response_id traversal",
      mode: "multi",
      key: a.secret,
      path: R,
      init: post({ input: "x", previous_response_id: "../../admin" }),
      status: 400,
      code: "invalid_value",
    },
    {
      label: "previous_response_id with CRLF",
      mode: "multi",
      key: a.secret,
      path: R,
      init: post({ input: "x", previous_response_id: "resp_1\r\nx-evil: 1" }),
      status: 400,
      code: "invalid_value",
    },
    {
      label: "previous_response_id with NUL",
      mode: "single",
      key: SINGLE_KEY,
      path: R,
      init: post({ input: "x", previous_response_id: "resp_\u0000" }),
      status: 400,
      code: "invalid_value",
    },
    {
      label: "tools is a string",
      mode: "multi",
      key: a.secret,
      path: R,
      init: post({ input: "x", tools: "code_interpreter" }),
      status: 400,
      code: "invalid_type",
    },
    {
      label: "tools[0] is a number",
      mode: "multi",
      key: a.secret,
      path: R,
      init: post({ input: "x", tools: [1] }),
      status: 400,
      code: "invalid_type",
    },
    {
      label: "container is a number",
      mode: "multi",
      key: a.secret,
      path: R,
      init: post({ input: "x", tools: [{ type: "code_interpreter", container: 7 }] }),
      status: 400,
      code: "invalid_type",
    },
    {
      label: "container id with slash",
      mode: "multi",
      key: a.secret,
      path: R,
      init: post({ input: "x", tools: [{ type: "code_interpreter", container: "cntr_/../x" }] }),
      status: 400,
      code: "invalid_value",
    },
    {
      label: "file_ids is a string",
      mode: "multi",
      key: a.secret,
      path: R,
      init: post({
        input: "x",
        tools: [{ type: "code_interpreter", container: { type: "auto", file_ids: "file-1" } }],
      }),
      status: 400,
      code: "invalid_type",
    },
    {
      label: "conversation id is a number",
      mode: "multi",
      key: a.secret,
      path: R,
      init: post({ input: "x", conversation: { id: 5 } }),
      status: 400,
      code: "invalid_type",
    },
    {
      label: "input file_id with CRLF",
      mode: "multi",
      key: a.secret,
      path: R,
      init: post({ input: [{ role: "user", content: [{ type: "input_file", file_id: "file-1\r\n" }] }] }),
      status: 400,
      code: "invalid_value",
    },
    {
      label: "container file_ids is a string",
      mode: "multi",
      key: a.secret,
      path: "/v1/containers",
      init: post({ name: "x", file_ids: "file-1" }),
      status: 400,
      code: "invalid_type",
    },
    {
      label: "container file_ids with a slash",
      mode: "multi",
      key: a.secret,
      path: "/v1/containers",
      init: post({ name: "x", file_ids: ["file-1/../2"] }),
      status: 400,
      code: "invalid_value",
    },
    {
      label: "container from a file nobody owns",
      mode: "multi",
      key: a.secret,
      path: "/v1/containers",
      init: post({ name: "x", file_ids: ["file-nobodys"] }),
      status: 404,
      code: "not_found",
    },
    {
      label: "malformed JSON to the pass-through",
      mode: "multi",
      key: a.secret,
      path: "/v1/containers",
      init: raw("{"),
      status: 400,
      code: "invalid_json",
    },
    // Ids nobody owns (multi-tenant: unknown is refused like foreign).
    {
      label: "unknown previous_response_id",
      mode: "multi",
      key: a.secret,
      path: R,
      init: post({ input: "x", previous_response_id: "resp_doesnotexist" }),
      status: 404,
      code: "not_found",
    },
    {
      label: "unknown response in path",
      mode: "multi",
      key: a.secret,
      path: "/v1/responses/resp_doesnotexist",
      status: 404,
      code: "not_found",
    },
    {
      label: "B's session id as a response id",
      mode: "multi",
      key: a.secret,
      path: `/v1/responses/${"resp_" + "0".repeat(40)}`,
      status: 404,
      code: "not_found",
    },
    // Bad requests that name a real, owned response: refused before anything runs.
    {
      label: "owned previous_response_id, malformed tools",
      mode: "multi",
      key: a.secret,
      path: R,
      init: post({ input: "x", previous_response_id: respA, tools: {} }),
      status: 400,
      code: "invalid_type",
    },
    {
      label: "owned response, B's key",
      mode: "multi",
      key: b.secret,
      path: R,
      init: post({ input: "x", previous_response_id: respA }),
      status: 404,
      code: "not_found",
    },
    {
      label: "owned response read by B",
      mode: "multi",
      key: b.secret,
      path: `/v1/responses/${respA}`,
      status: 404,
      code: "not_found",
    },
    {
      label: "owned response deleted by B",
      mode: "multi",
      key: b.secret,
      path: `/v1/responses/${respA}`,
      init: { method: "DELETE" },
      status: 404,
      code: "not_found",
    },
    {
      label: "owned response, visitor",
      mode: "multi",
      key: a.publishable,
      path: `/v1/responses/${respA}`,
      init: { headers: visitor(sA) },
      status: 404,
      code: "not_found",
    },
    // Paths.
    { label: "unknown route", mode: "multi", key: a.secret, path: "/v1/nope", status: 404, code: "unknown_route" },
    { label: "unknown route outside /v1", mode: "multi", path: "/nope", status: 404, code: "unknown_route" },
    {
      label: "unknown method on a known path",
      mode: "multi",
      key: a.secret,
      path: R,
      init: { method: "PUT" },
      status: 404,
      code: "unknown_route",
    },
    {
      label: "CRLF in a path id",
      mode: "multi",
      key: a.secret,
      path: "/v1/responses/resp_1%0D%0Ax-evil:%201",
      status: 400,
      code: "invalid_path",
    },
    {
      label: "encoded traversal in a path id",
      mode: "multi",
      key: a.secret,
      path: "/v1/responses/..%2F..%2Fadmin",
      status: 400,
      code: "invalid_path",
    },
    {
      label: "NUL in a container id",
      mode: "multi",
      key: a.secret,
      path: "/v1/containers/cntr_%00",
      status: 400,
      code: "invalid_path",
    },
    {
      label: "bad percent-encoding",
      mode: "single",
      key: SINGLE_KEY,
      path: "/v1/responses/%E0%A4%A",
      status: 400,
      code: "invalid_path",
    },
    {
      label: "control character in an admin tenant id",
      mode: "multi",
      key: ADMIN_SECRET,
      path: "/admin/tenants/abc%0D%0A",
      status: 400,
      code: "invalid_id",
    },
    // Keys.
    { label: "no key", mode: "multi", path: "/v1/models", status: 401, code: "missing_api_key" },
    {
      label: "Basic auth",
      mode: "multi",
      path: "/v1/models",
      init: { headers: { authorization: "Basic dXNlcjpwYXNz" } },
      status: 401,
      code: "invalid_api_key",
    },
    {
      label: "key with a space",
      mode: "multi",
      path: "/v1/models",
      init: { headers: { authorization: `Bearer ${"usk_a"} b` } },
      status: 401,
      code: "invalid_api_key",
    },
    {
      label: "unknown key",
      mode: "multi",
      key: "usk_" + "Z".repeat(40),
      path: "/v1/models",
      status: 401,
      code: "invalid_api_key",
    },
    {
      label: "single-tenant key in multi-tenant mode",
      mode: "multi",
      key: SINGLE_KEY,
      path: "/v1/models",
      status: 401,
      code: "invalid_api_key",
    },
    {
      label: "publishable key in pass-through mode",
      mode: "passthrough",
      key: SINGLE_PK,
      path: R,
      init: { method: "POST", headers: { origin: SINGLE_ORIGIN } },
      status: 401,
      code: "invalid_api_key",
    },
    {
      label: "secret key from a browser",
      mode: "multi",
      key: a.secret,
      path: "/v1/models",
      init: { headers: { origin: a.origin } },
      status: 403,
      code: "secret_key_in_browser",
    },
    {
      label: "publishable key from another origin",
      mode: "multi",
      key: a.publishable,
      path: "/widget/session",
      init: { method: "POST", headers: { origin: "https://evil.example" } },
      status: 403,
      code: "origin_not_allowed",
    },
    {
      label: "publishable key without Origin",
      mode: "multi",
      key: a.publishable,
      path: "/widget/session",
      init: { method: "POST" },
      status: 403,
      code: "origin_not_allowed",
    },
    // Sessions.
    {
      label: "no session",
      mode: "multi",
      key: a.publishable,
      path: R,
      init: { ...post({ input: "x" }), headers: { origin: a.origin } },
      status: 401,
      code: "missing_session",
    },
    {
      label: "garbage session",
      mode: "multi",
      key: a.publishable,
      path: R,
      init: { ...post({ input: "x" }), headers: visitor("vs1.abc.def") },
      status: 401,
      code: "invalid_session",
    },
    {
      label: "session not base64",
      mode: "multi",
      key: a.publishable,
      path: R,
      init: { ...post({ input: "x" }), headers: visitor("vs1.%%%.***") },
      status: 401,
      code: "invalid_session",
    },
    {
      label: "another tenant's session",
      mode: "multi",
      key: a.publishable,
      path: R,
      init: { ...post({ input: "x" }), headers: visitor(sB) },
      status: 401,
      code: "invalid_session",
    },
    {
      label: "expired session",
      mode: "multi",
      key: a.publishable,
      path: R,
      init: { ...post({ input: "x" }), headers: visitor(expired) },
      status: 401,
      code: "session_expired",
    },
    {
      label: "session from another origin",
      mode: "multi",
      key: a.publishable,
      path: R,
      init: { ...post({ input: "x" }), headers: visitor(otherOrigin) },
      status: 401,
      code: "invalid_session",
    },
    {
      label: "publishable key on a listing",
      mode: "multi",
      key: a.publishable,
      path: "/v1/containers",
      init: { headers: visitor(sA) },
      status: 403,
      code: "publishable_key_not_allowed",
    },
    {
      label: "publishable key asks for background",
      mode: "multi",
      key: a.publishable,
      path: R,
      init: { ...post({ input: "x", background: true }), headers: visitor(sA) },
      status: 400,
      code: "not_allowed_for_publishable_key",
    },
    // Link tokens.
    { label: "garbage link token", mode: "multi", path: "/files/not-a-token/a.csv", status: 403, code: "link_invalid" },
    {
      label: "expired link token",
      mode: "multi",
      path: `/files/${expiredLink}/a.csv`,
      status: 403,
      code: "link_expired",
    },
    {
      label: "link token under an unknown key id",
      mode: "multi",
      path: `/files/${unknownKidLink}/a.csv`,
      status: 403,
      code: "link_invalid",
    },
    // unsandbox's own routes are strict.
    {
      label: "admin: unknown field",
      mode: "multi",
      key: ADMIN_SECRET,
      path: "/admin/tenants",
      init: post({ name: "x", plan: "gold" }),
      status: 400,
      code: "unknown_parameter",
    },
    {
      label: "admin: wrong type",
      mode: "multi",
      key: ADMIN_SECRET,
      path: "/admin/tenants",
      init: post({ name: ["x"] }),
      status: 400,
      code: "invalid_value",
    },
    {
      label: "admin: malformed JSON",
      mode: "multi",
      key: ADMIN_SECRET,
      path: "/admin/tenants",
      init: raw("{"),
      status: 400,
      code: "invalid_json",
    },
    {
      label: "admin: origin with a path",
      mode: "multi",
      key: ADMIN_SECRET,
      path: `/admin/tenants/${a.id}/keys`,
      init: post({ kind: "publishable", widget: { allowed_origins: ["https://a.example/x"] } }),
      status: 400,
      code: "invalid_value",
    },
    {
      label: "admin: upstream key with CRLF",
      mode: "multi",
      key: ADMIN_SECRET,
      path: `/admin/tenants/${a.id}`,
      init: { method: "PATCH", json: { upstream_key: "sk-abc\r\nx-evil: 1" } },
      status: 400,
      code: "invalid_value",
    },
    {
      label: "admin: wrong secret",
      mode: "multi",
      key: "x".repeat(40),
      path: "/admin/tenants",
      status: 401,
      code: "invalid_api_key",
    },
    {
      label: "session: unknown field",
      mode: "multi",
      key: a.publishable,
      path: "/widget/session",
      init: { ...post({ visitor: "me" }), headers: { origin: a.origin } },
      status: 400,
      code: "unknown_parameter",
    },
    {
      label: "session: malformed JSON",
      mode: "multi",
      key: a.publishable,
      path: "/widget/session",
      init: { ...raw("{]"), headers: { origin: a.origin, "content-type": "application/json" } },
      status: 400,
      code: "invalid_json",
    },
  ];
}

let expired = "";
let otherOrigin = "";
let expiredLink = "";
let unknownKidLink = "";

beforeAll(async () => {
  a = await makeTenant({ widget: { per_ip_per_minute: 100_000 } });
  b = await makeTenant();
  sA = await session("multi", a.publishable, a.origin);
  sB = await session("multi", b.publishable, b.origin);
  // Something stored to protect: a response of A's with a file copied to R2 and a tracker.
  const made = await as("multi", a.secret, "/v1/responses", {
    method: "POST",
    json: {
      model: "gpt-5",
      input: "Make a csv.\nsim: scenario=one-file",
      tools: [{ type: "code_interpreter", container: { type: "auto" } }],
    },
  });
  const answer = (await made.json()) as { id: string; unsandbox?: { files: { state: string }[] } };
  if (made.status !== 200 || answer.unsandbox?.files[0]?.state !== "stored")
    throw new Error(`setup response: ${made.status} ${JSON.stringify(answer).slice(0, 300)}`);
  respA = answer.id;
  const claims = { t: a.id, k: a.publishableId, v: "vis_test", o: a.origin };
  expired = await signSession({ ...claims, e: Math.floor(Date.now() / 1000) - 10 }, LINK_SECRETS);
  otherOrigin = await signSession(
    { ...claims, o: "https://evil.example", e: Math.floor(Date.now() / 1000) + 600 },
    LINK_SECRETS,
  );
  expiredLink = await signLink(
    { tenant: a.id, responseId: "resp_1", path: "/mnt/data/a.csv", expiresAt: Math.floor(Date.now() / 1000) - 10 },
    LINK_SECRETS,
  );
  unknownKidLink = await signLink({ tenant: a.id, responseId: "resp_1", path: "/mnt/data/a.csv" }, [
    { kid: "k9", secret: "some-other-secret-0123456789abcdef0123" },
  ]);
});

describe("bad input", () => {
  it("answers every bad input with its exact status and code, in OpenAI's shape, and changes nothing stored", async ({
    annotate,
  }) => {
    const resume = await pauseAlarms();
    const before = (await settledSnapshot()) as { objects: string[]; dos: Record<string, unknown> };
    expect(before.objects.length).toBeGreaterThan(0);
    expect(Object.keys(before.dos).some((k) => k.startsWith("CONTAINER_TRACKER/"))).toBe(true);
    const list = inputs();
    const unexpected: unknown[] = [];
    for (const input of list) {
      const res = input.key
        ? await as(input.mode, input.key, input.path, input.init)
        : await call(input.mode, input.path, input.init);
      const text = await res.text();
      let error: Record<string, unknown> | undefined;
      try {
        error = (JSON.parse(text) as { error?: Record<string, unknown> }).error;
      } catch {}
      const shapeOk =
        !!error &&
        ["code", "message", "param", "type"].every((k) => k in error!) &&
        typeof error.message === "string" &&
        typeof error.type === "string";
      if (res.status !== input.status || error?.code !== input.code || !shapeOk) {
        unexpected.push({
          label: input.label,
          expected: [input.status, input.code],
          got: [res.status, error?.code],
          body: text.slice(0, 300),
        });
      }
    }
    const after = await snapshot();
    await resume();
    // Shown in CI's output even when the test passes (test/reporters/summary.ts).
    await annotate(`inputs tried: ${list.length}, unexpected answers: ${unexpected.length}`, "summary");
    expect(unexpected).toEqual([]);
    const changed = (x: unknown, y: unknown) =>
      Object.keys((x as { dos: object }).dos).filter(
        (k) => JSON.stringify((x as any).dos[k]) !== JSON.stringify((y as any)?.dos?.[k]),
      );
    for (const k of changed(after, before))
      console.log(
        "CHANGED",
        k,
        JSON.stringify((before as any).dos[k]).slice(0, 1500),
        "\n=>",
        JSON.stringify((after as any).dos[k]).slice(0, 1500),
      );
    expect(changed(after, before), "Durable Objects whose state changed").toEqual([]);
    expect(after).toEqual(before);
  });

  it("valid controls succeed", async () => {
    const ok = async (res: Promise<Response>, status = 200) => {
      const r = await res;
      expect(r.status, await r.clone().text()).toBe(status);
      return r;
    };
    await ok(as("multi", a.secret, "/v1/models"));
    // Unknown (to unsandbox) fields of /v1/responses pass through to the upstream.
    const plain = await ok(
      as("multi", a.secret, "/v1/responses", {
        method: "POST",
        headers: { "x-unsandbox-wait-ms": "0" },
        json: {
          model: "gpt-5",
          input: "hello\nsim: scenario=no-tool",
          metadata: { order: "42" },
          max_output_tokens: 500,
        },
      }),
    );
    expect(((await plain.json()) as { metadata: Record<string, string> }).metadata).toEqual({ order: "42" });
    await ok(
      as("multi", a.publishable, "/v1/responses", {
        method: "POST",
        headers: { origin: a.origin, [SESSION_HEADER]: sA, "x-unsandbox-wait-ms": "0" },
        json: { model: "gpt-5", input: "hi\nsim: scenario=no-tool" },
      }),
    );
    await ok(
      as("multi", a.publishable, "/widget/session", { method: "POST", headers: { origin: a.origin }, json: {} }),
    );
    await ok(as("multi", ADMIN_SECRET, "/admin/tenants", { method: "POST", json: { name: "control" } }), 201);
    await ok(as("single", SINGLE_KEY, "/v1/models"));
    await ok(as("passthrough", "sk-sim-test", "/v1/models"));
  });
});
