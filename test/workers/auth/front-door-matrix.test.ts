/**
 * The front door, exhaustively: every route in the app's route table (`app.routes`, with the
 * pass-through's `ALL /v1/*` expanded to the allowlist of routes it forwards) × every spelling of
 * its path × every kind of caller. A spelling that reaches the Worker non-canonical is refused
 * with 400 `invalid_path` and sends nothing upstream; the canonical request is never refused as
 * a path. Then every route that carries ids in its body × the Content-Type spellings and
 * multipart: a foreign id is OpenAI's 404 with nothing sent upstream, the owner's own goes on.
 * The canonical requests of a widget visitor and of tenant B (A's ids in every path) get the
 * refusals the route policy and the ownership ledger give them, again with nothing upstream.
 *
 * Dot segments (`/./`, `/x/../`, `%2e`) never reach a Worker: the URL parser resolves them before
 * the request exists (https://url.spec.whatwg.org/#path-state), so such a spelling *is* the
 * canonical request; the suite checks that it parses to exactly the canonical path.
 */
import { beforeAll, describe, expect, it } from "vitest";
import app from "../../../src/index";
import { SESSION_HEADER } from "../../../src/auth/authenticate";
import { PASSTHROUGH_ALLOWLIST } from "../../../src/auth/route-policy";
import {
  BASE,
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
import { SIM_KEY, SIM_OTHER_ORG_KEY } from "../../test-keys";
import { recordOwner } from "../../../src/tenants/ownership";
import { env } from "cloudflare:workers";
import type { Bindings } from "../../../src/config";
import { counted } from "../support/upstream-count";

interface Caller {
  name: string;
  mode: ModeName;
  key: () => string;
  headers: () => Record<string, string>;
}

const anyAddress = () => `198.51.100.${Math.floor(Math.random() * 250) + 1}`;

let a: TestTenant;
let b: TestTenant;
let visitor: string;
let w: {
  respA: string;
  containerA: string;
  fileA: string;
  convA: string;
  opResp: string;
  p1Resp: string;
  fileUrl: string;
};

const CALLERS: Caller[] = [
  { name: "single-tenant secret", mode: "single", key: () => SINGLE_KEY, headers: () => ({}) },
  // A fresh address per request: the default widget key's per-address limit is not under test here.
  {
    name: "publishable + visitor",
    mode: "single",
    key: () => SINGLE_PK,
    headers: () => ({ origin: SINGLE_ORIGIN, [SESSION_HEADER]: visitor, "cf-connecting-ip": anyAddress() }),
  },
  { name: "tenant A", mode: "multi", key: () => a.secret, headers: () => ({}) },
  { name: "tenant B", mode: "multi", key: () => b.secret, headers: () => ({}) },
  { name: "pass-through", mode: "passthrough", key: () => SIM_OTHER_ORG_KEY, headers: () => ({}) },
];

beforeAll(async () => {
  const roomy = { widget: { per_ip_per_minute: 100_000, daily_cap: 1_000_000 } };
  [a, b] = await Promise.all([makeTenant(roomy), makeTenant(roomy)]);
  visitor = await session("single", SINGLE_PK, SINGLE_ORIGIN);
  const made = await as("multi", a.secret, "/v1/responses", {
    method: "POST",
    json: {
      model: "gpt-5",
      input: "Make a csv.\nsim: scenario=one-file",
      tools: [{ type: "code_interpreter", container: { type: "auto" } }],
    },
  });
  const respA = (await made.json()) as {
    id: string;
    output: { container_id?: string }[];
    unsandbox: { files: { url: string }[] };
  };
  const op = await as("single", SINGLE_KEY, "/v1/responses", {
    method: "POST",
    json: { model: "gpt-5", input: "hi\nsim: scenario=no-tool" },
  });
  const p1 = await as("passthrough", SIM_KEY, "/v1/responses", {
    method: "POST",
    json: { model: "gpt-5", input: "hi\nsim: scenario=no-tool" },
  });
  const fileA = `file-mxA${crypto.randomUUID().replace(/-/g, "")}`;
  const convA = `conv_mxA${crypto.randomUUID().replace(/-/g, "")}`;
  await recordOwner(env as unknown as Bindings, { tenant: a.id, kind: "file", id: fileA });
  await recordOwner(env as unknown as Bindings, { tenant: a.id, kind: "conversation", id: convA });
  w = {
    respA: respA.id,
    containerA: respA.output.find((o) => o.container_id)!.container_id!,
    fileA,
    convA,
    opResp: ((await op.json()) as { id: string }).id,
    p1Resp: ((await p1.json()) as { id: string }).id,
    fileUrl: respA.unsandbox.files[0]!.url,
  };
});

// ---------------------------------------------------------------------------------------------
// Routes

interface Route {
  method: string;
  path: string;
}

/** The routes: the app's own handlers, and the pass-through's forwarded routes for `ALL /v1/*`. */
function routes(): Route[] {
  const out = new Map<string, Route>();
  for (const r of app.routes) {
    if (r.method === "ALL") {
      if (r.path === "/v1/*") for (const p of PASSTHROUGH_ALLOWLIST) out.set(`${p.method} ${p.path}`, p);
      continue; // other ALL entries are middleware on the routes below
    }
    if (r.path.startsWith("/v1") || r.path.startsWith("/files"))
      out.set(`${r.method} ${r.path}`, { method: r.method, path: r.path });
  }
  // One route only single-tenant and pass-through callers reach (forwarded as it is).
  out.set("GET /v1/vector_stores", { method: "GET", path: "/v1/vector_stores" });
  return [...out.values()];
}

/** The route's path with ids filled in: A's real ids for reads, made-up ones for writes (repeatable). */
function fill(r: Route): string {
  if (r.path === "/files/:token/:name") return new URL(w.fileUrl).pathname;
  const write = r.method !== "GET";
  return r.path
    .replace(":response", write ? "resp_matrix0" : w.respA)
    .replace(":id", write ? "resp_matrix0" : w.respA)
    .replace(":container", write ? "cntr_matrix0" : w.containerA)
    .replace(":conversation", w.convA)
    .replace(":file", w.fileA)
    .replace(":cfile", "cfile_matrix0")
    .replace(":item", "msg_matrix0")
    .replace(":model", "gpt-5");
}

/** The path's other spellings, each with a label. */
export function spellings(path: string): { label: string; path: string }[] {
  const segs = path.split("/").slice(1);
  const out: { label: string; path: string }[] = [];
  const hex = (ch: string) => "%" + ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0");
  segs.forEach((s, i) => {
    const enc = [...segs];
    enc[i] = hex(s[0]!) + s.slice(1);
    out.push({ label: `percent-encoded first character of segment ${i}`, path: "/" + enc.join("/") });
  });
  // A character whose code has a hex letter, in lower case (`%6e`): mixed-case hex.
  const at = path.split("").findIndex((ch, i) => i > 0 && ch !== "/" && /[a-f]/i.test(ch.charCodeAt(0).toString(16)));
  if (at > 0)
    out.push({
      label: "lower-case hex",
      path: path.slice(0, at) + "%" + path.charCodeAt(at).toString(16).toLowerCase() + path.slice(at + 1),
    });
  const second = path.indexOf("/", 1);
  out.push({ label: "%2F for a slash", path: path.slice(0, second) + "%2F" + path.slice(second + 1) });
  out.push({ label: "%2f for a slash", path: path.slice(0, second) + "%2f" + path.slice(second + 1) });
  out.push({ label: "// (empty segment)", path: path.slice(0, second) + "/" + path.slice(second) });
  out.push({ label: "leading //", path: "/" + path });
  out.push({ label: "trailing slash", path: path + "/" });
  out.push({
    label: "encoded ID-like letter case of the whole first segment",
    path: "/" + [...segs[0]!].map(hex).join("") + path.slice(second),
  });
  return out;
}

/** Spellings the URL parser resolves before any Worker sees them. */
function resolvedByUrlParser(path: string): string[] {
  const second = path.indexOf("/", 1);
  return [
    path.slice(0, second) + "/." + path.slice(second),
    path.slice(0, second) + "/x/.." + path.slice(second),
    path.slice(0, second) + "/%2e" + path.slice(second),
    path.slice(0, second) + "/x/%2E%2e" + path.slice(second),
  ];
}

const OWNED_PARAM = /:(response|container|conversation|file)(\/|$)/;

/** Same route pattern whatever the parameters are called (the app's `:id` is the allowlist's `:response`). */
const samePattern = (x: string, y: string) => {
  const [a, b] = [x.split("/"), y.split("/")];
  return a.length === b.length && a.every((s, i) => s === b[i] || (s.startsWith(":") && b[i]!.startsWith(":")));
};

/**
 * What the canonical request must be refused with, where the caller may not have it: a widget
 * outside its routes or on ids that are not the visitor's, tenant B outside the multi-tenant
 * allowlist or on A's ids (or made-up ones). Null: the caller's request goes on.
 */
function expectedRefusal(caller: Caller, r: Route): { status: number; code: string } | null {
  const entry = PASSTHROUGH_ALLOWLIST.find((p) => p.method === r.method && samePattern(p.path, r.path));
  if (caller.name === "publishable + visitor") {
    if (!entry?.publishable) return { status: 403, code: "publishable_key_not_allowed" };
    return OWNED_PARAM.test(entry.path) ? { status: 404, code: "not_found" } : null;
  }
  if (caller.name === "tenant B") {
    if (!entry) return { status: 404, code: "unknown_route" };
    return OWNED_PARAM.test(entry.path) ? { status: 404, code: "not_found" } : null;
  }
  return null;
}

function bodyFor(r: Route): RequestInit & { json?: unknown } {
  if (r.method === "GET" || r.method === "HEAD" || r.method === "DELETE") return { method: r.method };
  if (r.path === "/v1/responses")
    return { method: r.method, json: { model: "gpt-5", input: "hi\nsim: scenario=no-tool" } };
  return { method: r.method, json: {} };
}

async function decision(res: Response): Promise<{ status: number; code: string | null }> {
  const text = await res.text();
  try {
    return { status: res.status, code: (JSON.parse(text) as { error?: { code?: string | null } }).error?.code ?? null };
  } catch {
    return { status: res.status, code: null };
  }
}

describe("every route × every path spelling × every caller", () => {
  it("covers the whole route table", () => {
    const all = routes();
    expect(all.length).toBeGreaterThan(30);
    expect(all.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining([
        "POST /v1/responses",
        "GET /files/:token/:name",
        "POST /v1/containers/:container/files",
        "GET /v1/containers/:container/files/:cfile/content",
      ]),
    );
  });

  it("dot-segment spellings reach the Worker as the canonical path", () => {
    for (const r of routes()) {
      const path = fill(r);
      for (const p of resolvedByUrlParser(path))
        expect({ p, seen: new URL(BASE + p).pathname }).toEqual({ p, seen: path });
    }
  });

  it("download links: every spelling but the issued one is refused, the issued one downloads", async () => {
    const path = fill({ method: "GET", path: "/files/:token/:name" });
    for (const method of ["GET", "HEAD"]) {
      expect((await call("single", path, { method })).status).toBe(200);
      for (const s of spellings(path)) {
        const { result, upstream } = await counted(() => call("single", s.path, { method }));
        expect({ method, ...s, ...(await decision(result)), upstream }).toEqual({
          method,
          ...s,
          status: 400,
          code: method === "HEAD" ? null : "invalid_path",
          upstream: [],
        });
      }
    }
  });

  for (const caller of CALLERS) {
    it(`${caller.name}: refused non-canonical, canonical decided as a route`, async () => {
      const seen: string[] = [];
      for (const r of routes()) {
        if (r.path.startsWith("/files")) continue;
        const path = fill(r);
        const init = { ...bodyFor(r), headers: caller.headers() };
        const c = await counted(() => as(caller.mode, caller.key(), path, init));
        const canonical = await decision(c.result);
        expect({ route: `${r.method} ${r.path}`, code: canonical.code }).not.toEqual({
          route: `${r.method} ${r.path}`,
          code: "invalid_path",
        });
        const refusal = expectedRefusal(caller, r);
        if (refusal)
          expect({ route: `${r.method} ${r.path}`, ...canonical, upstream: c.upstream }).toEqual({
            route: `${r.method} ${r.path}`,
            ...refusal,
            upstream: [],
          });
        seen.push(`${r.method} ${r.path} ${canonical.status}`);
        for (const s of spellings(path)) {
          const { result, upstream } = await counted(() =>
            as(caller.mode, caller.key(), s.path, { ...bodyFor(r), headers: caller.headers() }),
          );
          const d = await decision(result);
          expect({ route: `${r.method} ${r.path}`, ...s, ...d, upstream }).toEqual({
            route: `${r.method} ${r.path}`,
            ...s,
            status: 400,
            code: d.status === 400 && r.method === "HEAD" ? null : "invalid_path",
            upstream: [],
          });
        }
      }
      expect(seen.length).toBe(routes().length - 1);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Bodies

const CONTENT_TYPES: (string | null)[] = [
  "application/json",
  "Application/JSON",
  "text/plain",
  null,
  "application/json; charset=utf-8",
];

/** The id-carrying routes, with a body naming ids of `owner` (A in multi-tenant mode). */
function idBodies(ids: { resp: string; file: string; conv: string }): { route: string; path: string; json: unknown }[] {
  return [
    {
      route: "POST /v1/responses",
      path: "/v1/responses",
      json: { model: "gpt-5", input: "go on\nsim: scenario=no-tool", previous_response_id: ids.resp },
    },
    { route: "POST /v1/containers", path: "/v1/containers", json: { name: "x", file_ids: [ids.file] } },
    {
      route: "POST /v1/containers/:container/files",
      path: "/v1/containers/CONTAINER/files",
      json: { file_id: ids.file },
    },
    {
      route: "POST /v1/conversations",
      path: "/v1/conversations",
      json: { items: [{ type: "message", role: "user", content: [{ type: "input_file", file_id: ids.file }] }] },
    },
    {
      route: "POST /v1/conversations/:conversation/items",
      path: "/v1/conversations/CONV/items",
      json: { items: [{ type: "message", role: "user", content: [{ type: "input_file", file_id: ids.file }] }] },
    },
  ];
}

function encodeBody(json: unknown, type: string | null): { body: BodyInit; headers: Record<string, string> } {
  // A string body would be given `text/plain` by the Request itself: bytes carry no type.
  if (type === null) return { body: new TextEncoder().encode(JSON.stringify(json)), headers: {} };
  return { body: JSON.stringify(json), headers: { "content-type": type } };
}

describe("every id-carrying route × Content-Type spelling and multipart", () => {
  it("tenant B naming A's ids: OpenAI's 404, nothing upstream; A itself goes on upstream", async () => {
    const ids = { resp: w.respA, file: w.fileA, conv: w.convA };
    for (const c of idBodies(ids)) {
      // B's own container and conversation in the path, A's ids in the body.
      const pathB = c.path.replace("CONTAINER", "cntr_matrixB").replace("CONV", "conv_matrixB");
      const pathA = c.path.replace("CONTAINER", w.containerA).replace("CONV", w.convA);
      if (c.path.includes("CONTAINER") || c.path.includes("CONV")) {
        await recordOwner(env as unknown as Bindings, {
          tenant: b.id,
          kind: c.path.includes("CONTAINER") ? "container" : "conversation",
          id: c.path.includes("CONTAINER") ? "cntr_matrixB" : "conv_matrixB",
        });
      }
      for (const type of CONTENT_TYPES) {
        const { body, headers } = encodeBody(c.json, type);
        const theirs = await counted(() => as("multi", b.secret, pathB, { method: "POST", body, headers }));
        expect({ route: c.route, type, ...(await decision(theirs.result)), upstream: theirs.upstream }).toEqual({
          route: c.route,
          type,
          status: 404,
          code: "not_found",
          upstream: [],
        });
        const again = encodeBody(c.json, type);
        const own = await counted(() =>
          as("multi", a.secret, pathA, { method: "POST", body: again.body, headers: again.headers }),
        );
        expect({ route: c.route, type, reachedUpstream: own.upstream.length > 0 }, await own.result.text()).toEqual({
          route: c.route,
          type,
          reachedUpstream: true,
        });
      }
    }
  });

  it("multipart: file_id fields are checked on the container routes; elsewhere refused", async () => {
    await recordOwner(env as unknown as Bindings, { tenant: b.id, kind: "container", id: "cntr_matrixB" });
    for (const [path, field] of [
      ["/v1/containers/cntr_matrixB/files", "file_id"],
      ["/v1/containers", "file_ids"],
      ["/v1/containers", "file_ids[]"],
    ] as const) {
      const f = new FormData();
      f.append(field, w.fileA);
      const { result, upstream } = await counted(() => as("multi", b.secret, path, { method: "POST", body: f }));
      expect({ path, field, ...(await decision(result)), upstream }).toEqual({
        path,
        field,
        status: 404,
        code: "not_found",
        upstream: [],
      });
    }
    for (const [path, status, code] of [
      ["/v1/conversations", 415, "unsupported_media_type"],
      ["/v1/responses", 400, "invalid_json"],
    ] as const) {
      const f = new FormData();
      f.append("file_id", w.fileA);
      const { result, upstream } = await counted(() => as("multi", b.secret, path, { method: "POST", body: f }));
      expect({ path, ...(await decision(result)), upstream }).toEqual({ path, status, code, upstream: [] });
    }
    for (const type of ["application/x-www-form-urlencoded", "application/xml", "application/octet-stream"]) {
      const { result, upstream } = await counted(() =>
        as("multi", b.secret, "/v1/containers", {
          method: "POST",
          body: `file_ids=${w.fileA}`,
          headers: { "content-type": type },
        }),
      );
      expect({ type, ...(await decision(result)), upstream }).toEqual({
        type,
        status: 415,
        code: "unsupported_media_type",
        upstream: [],
      });
    }
    const gz = await counted(() =>
      as("multi", b.secret, "/v1/containers", {
        method: "POST",
        body: "x",
        headers: { "content-type": "application/json", "content-encoding": "gzip" },
      }),
    );
    expect({ ...(await decision(gz.result)), upstream: gz.upstream }).toEqual({
      status: 415,
      code: "unsupported_media_type",
      upstream: [],
    });
  });

  it("a widget visitor naming the operator's response, and a pass-through caller naming another's: 404 under every spelling", async () => {
    for (const type of CONTENT_TYPES) {
      const json = { model: "gpt-5", input: "go on\nsim: scenario=no-tool", previous_response_id: w.opResp };
      const v = encodeBody(json, type);
      const widget = await counted(() =>
        as("single", SINGLE_PK, "/v1/responses", {
          method: "POST",
          body: v.body,
          headers: { ...v.headers, origin: SINGLE_ORIGIN, [SESSION_HEADER]: visitor, "cf-connecting-ip": anyAddress() },
        }),
      );
      expect({ type, ...(await decision(widget.result)), upstream: widget.upstream }).toEqual({
        type,
        status: 404,
        code: "not_found",
        upstream: [],
      });
      const p = encodeBody({ ...json, previous_response_id: w.p1Resp }, type);
      const pt = await counted(() =>
        as("passthrough", SIM_OTHER_ORG_KEY, "/v1/responses", { method: "POST", body: p.body, headers: p.headers }),
      );
      expect({ type, ...(await decision(pt.result)), upstream: pt.upstream }).toEqual({
        type,
        status: 404,
        code: "not_found",
        upstream: [],
      });
    }
  });
});
