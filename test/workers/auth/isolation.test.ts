/**
 * Isolation: two tenants (multi-tenant mode) and two visitor sessions of one widget try each
 * other's keys, sessions, link tokens, ids in paths and ids inside request bodies. Every attempt
 * is refused. The routes come from Hono's route table (`app.routes`) and from the pass-through
 * allowlist, read when the suite runs: a route that lands without a case here fails the suite.
 */
import { beforeAll, describe, expect, it } from "vitest";
import app from "../../../src/index";
import { SESSION_HEADER } from "../../../src/auth/authenticate";
import { PASSTHROUGH_ALLOWLIST, type AllowedRoute } from "../../../src/auth/route-policy";
import { signLink } from "../../../src/links/token";
import { recordOwner } from "../../../src/tenants/ownership";
import { env } from "cloudflare:workers";
import type { Bindings } from "../../../src/config";
import { ADMIN_SECRET, as, call, makeTenant, session, type TestTenant } from "../support/tenants";

const LINK_SECRETS = [
  { kid: "k2", secret: "test-secret-two-0123456789abcdef0123" },
  { kid: "k1", secret: "test-secret-one-0123456789abcdef0123" },
];

interface World {
  a: TestTenant;
  b: TestTenant;
  /** Two visitors of A's widget, and one of B's. */
  sA1: string;
  sA2: string;
  sB: string;
  /** A response A's server made (with a container and a stored file), and one A's visitor 1 made. */
  respA: string;
  containerA: string;
  fileUrlA: string;
  respV1: string;
  /** A container B made through POST /v1/containers. */
  containerB: string;
  /** Ids A owns that the simulator has no API for (uploaded files, conversations): recorded for A. */
  fileA: string;
  convA: string;
}
let w: World;

const OWNERSHIP_REFUSAL = { status: 404, type: "not_found_error", code: "not_found" };

async function verdict(res: Response) {
  const text = await res.text();
  let body: { error?: { type?: string; code?: string | null; message?: string } } = {};
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: res.status, type: body.error?.type, code: body.error?.code ?? null, text };
}

/** Refused by unsandbox as an id the caller does not own (OpenAI's 404). */
async function expectNotOwned(res: Promise<Response>, label: string) {
  const v = await verdict(await res);
  expect({ label, status: v.status, type: v.type, code: v.code }, v.text).toEqual({ label, ...OWNERSHIP_REFUSAL });
}

/** Not refused by the guard (the request went on to the route or upstream). */
async function expectPassesGuard(res: Promise<Response>, label: string) {
  const v = await verdict(await res);
  expect(
    { label, refused: v.status === 404 && v.code === "not_found" && v.type === "not_found_error", status: v.status },
    v.text,
  ).toMatchObject({ label, refused: false });
  expect(v.status, `${label}: ${v.text}`).not.toBe(401);
  expect(v.status, `${label}: ${v.text}`).not.toBe(403);
}

const secretB = (path: string, init: RequestInit & { json?: unknown } = {}) => as("multi", w.b.secret, path, init);
const secretA = (path: string, init: RequestInit & { json?: unknown } = {}) => as("multi", w.a.secret, path, init);
const visitor = (s: string, path: string, init: RequestInit & { json?: unknown } = {}) =>
  as("multi", w.a.publishable, path, {
    ...init,
    headers: { ...(init.headers as object), origin: w.a.origin, [SESSION_HEADER]: s },
  });

beforeAll(async () => {
  const roomy = { widget: { per_ip_per_minute: 100_000, daily_cap: 1_000_000 } };
  const a = await makeTenant(roomy);
  const b = await makeTenant(roomy);
  const [sA1, sA2, sB] = await Promise.all([
    session("multi", a.publishable, a.origin),
    session("multi", a.publishable, a.origin),
    session("multi", b.publishable, b.origin),
  ]);
  const made = await as("multi", a.secret, "/v1/responses", {
    method: "POST",
    json: {
      model: "gpt-5",
      input: "Make a csv.\nsim: scenario=one-file",
      tools: [{ type: "code_interpreter", container: { type: "auto" } }],
    },
  });
  if (made.status !== 200) throw new Error(`A's response: ${made.status} ${await made.text()}`);
  const respA = (await made.json()) as {
    id: string;
    output: { type: string; container_id?: string }[];
    unsandbox: { files: { url: string }[] };
  };
  const containerA = respA.output.find((o) => o.type === "code_interpreter_call")!.container_id!;
  const v1 = await as("multi", a.publishable, "/v1/responses", {
    method: "POST",
    headers: { origin: a.origin, [SESSION_HEADER]: sA1, "x-unsandbox-wait-ms": "0" },
    json: { model: "gpt-5", input: "Hello.\nsim: scenario=no-tool" },
  });
  if (v1.status !== 200) throw new Error(`visitor response: ${v1.status} ${await v1.text()}`);
  const cB = await as("multi", b.secret, "/v1/containers", { method: "POST", json: { name: "b's" } });
  if (cB.status !== 200) throw new Error(`B's container: ${cB.status} ${await cB.text()}`);
  const fileA = `file-isoA${crypto.randomUUID().replace(/-/g, "")}`;
  const convA = `conv_isoA${crypto.randomUUID().replace(/-/g, "")}`;
  await recordOwner(env as unknown as Bindings, { tenant: a.id, kind: "file", id: fileA });
  await recordOwner(env as unknown as Bindings, { tenant: a.id, kind: "conversation", id: convA });
  w = {
    a,
    b,
    sA1,
    sA2,
    sB,
    respA: respA.id,
    containerA,
    fileUrlA: respA.unsandbox.files[0]!.url,
    respV1: ((await v1.json()) as { id: string }).id,
    containerB: ((await cB.json()) as { id: string }).id,
    fileA,
    convA,
  };
});

/** A path from an allowlist pattern with A's ids (or B's, or visitor 1's). */
function fill(route: AllowedRoute, ids: { response: string; container: string }): string {
  return route.path
    .replace(":response", ids.response)
    .replace(":container", ids.container)
    .replace(":conversation", w.convA)
    .replace(":file", w.fileA)
    .replace(":cfile", "cfile_0123")
    .replace(":item", "msg_0123")
    .replace(":model", "gpt-5");
}

// ---------------------------------------------------------------------------------------------
// Cases by route-table entry. "middleware" marks app.use entries (they guard, they are not routes).

type Case = () => Promise<void>;

const publicNoTenantData =
  (path: string): Case =>
  async () => {
    // Public routes answer the same to anyone and show no tenant's data.
    const [anon, withA, withB] = await Promise.all([call("multi", path), secretA(path), secretB(path)]);
    const bodies = await Promise.all([anon, withA, withB].map((r) => r.text()));
    expect(new Set([anon.status, withA.status, withB.status]).size).toBe(1);
    for (const body of bodies) for (const id of [w.respA, w.containerA, w.a.id, w.b.id]) expect(body).not.toContain(id);
  };

const adminRoute =
  (method: string, path: string): Case =>
  async () => {
    const p = path.replace(":tenant", w.a.id).replace(":key", w.a.secretId);
    const body = method === "GET" ? {} : { json: {} };
    for (const key of [w.b.secret, w.a.secret, w.a.publishable]) {
      const v = await verdict(await as("multi", key, p, { method, ...body }));
      expect({ p, status: v.status, code: v.code }).toEqual({ p, status: 401, code: "invalid_api_key" });
    }
    // And the admin secret itself from a page is refused.
    const v = await verdict(await as("multi", ADMIN_SECRET, p, { method, ...body, headers: { origin: w.a.origin } }));
    expect(v.status).toBe(403);
  };

const ROUTE_CASES: Record<string, Case | "middleware"> = {
  "ALL /*": "middleware",
  "ALL /v1/responses": "middleware",
  "ALL /v1/conversations/*": "middleware",
  "ALL /admin/*": "middleware",
  "ALL /widget/*": "middleware",
  "ALL /files/*": "middleware",
  "ALL /admin/tenants": "middleware",
  "ALL /admin/tenants/*": "middleware",
  "GET /healthz": publicNoTenantData("/healthz"),
  "GET /widget.js": publicNoTenantData("/widget.js"),
  "GET /widget/0.1.0.js": publicNoTenantData("/widget/0.1.0.js"),
  "GET /widget.json": publicNoTenantData("/widget.json"),
  "GET /": publicNoTenantData("/"),
  "GET /openapi.json": publicNoTenantData("/openapi.json"),
  "GET /docs": publicNoTenantData("/docs"),
  "GET /files/:token/:name": async () => {
    // The link is the credential and anyone holding A's link may download (links are shared on
    // purpose). What must fail: a token changed by hand, or a genuinely signed token that names
    // B's tenant with A's response (as if B's own link pointed at A's files).
    const url = new URL(w.fileUrlA);
    const [, , token, name] = url.pathname.split("/") as [string, string, string, string];
    expect((await call("multi", url.pathname)).status).toBe(200);
    const flipped = token.slice(0, 10) + (token[10] === "A" ? "B" : "A") + token.slice(11);
    expect((await call("multi", `/files/${flipped}/${name}`)).status).toBe(403);
    const forged = await signLink(
      { tenant: w.b.id, responseId: w.respA, path: `/mnt/data/${decodeURIComponent(name)}`, containerId: w.containerA },
      LINK_SECRETS,
    );
    const v = await verdict(await call("multi", `/files/${forged}/${name}`));
    expect([403, 404]).toContain(v.status);
  },
  "GET /admin/tenants": adminRoute("GET", "/admin/tenants"),
  "POST /admin/tenants": adminRoute("POST", "/admin/tenants"),
  "GET /admin/tenants/:tenant": adminRoute("GET", "/admin/tenants/:tenant"),
  "PATCH /admin/tenants/:tenant": adminRoute("PATCH", "/admin/tenants/:tenant"),
  "POST /admin/tenants/:tenant/revoke": adminRoute("POST", "/admin/tenants/:tenant/revoke"),
  "POST /admin/tenants/:tenant/keys": adminRoute("POST", "/admin/tenants/:tenant/keys"),
  "POST /admin/tenants/:tenant/keys/:key/rotate": adminRoute("POST", "/admin/tenants/:tenant/keys/:key/rotate"),
  "POST /admin/tenants/:tenant/keys/:key/revoke": adminRoute("POST", "/admin/tenants/:tenant/keys/:key/revoke"),
  "GET /admin/usage": adminRoute("GET", "/admin/usage"),
  "POST /admin/takedowns": adminRoute("POST", "/admin/takedowns"),
  "GET /admin/usage/:tenant": adminRoute("GET", "/admin/usage/:tenant"),
  "POST /widget/session": async () => {
    // B's key from A's page, A's key from B's page, a secret key from a page: no session.
    for (const [key, origin] of [
      [w.b.publishable, w.a.origin],
      [w.a.publishable, w.b.origin],
      [w.a.secret, w.a.origin],
    ] as const) {
      expect((await as("multi", key, "/widget/session", { method: "POST", headers: { origin } })).status).toBe(403);
    }
  },
  "GET /v1/responses": async () => {
    // WebSocket mode: each response.create is checked like a POST; B may not name A's ids, and a
    // publishable key may not open a socket at all.
    const upgrade = (key: string, headers: Record<string, string> = {}) =>
      as("multi", key, "/v1/responses", { headers: { upgrade: "websocket", ...headers } });
    expect([401, 403]).toContain((await upgrade(w.a.publishable, { origin: w.a.origin })).status);
    expect(
      (
        await as("multi", w.a.publishable, "/v1/responses", {
          headers: { upgrade: "websocket", origin: w.a.origin, [SESSION_HEADER]: w.sA1 },
        })
      ).status,
    ).toBe(403);
    const res = await upgrade(w.b.secret);
    expect(res.status).toBe(101);
    const ws = res.webSocket!;
    ws.accept();
    const errors: { status?: number; error?: { param?: string } }[] = [];
    ws.addEventListener("message", (m) => {
      errors.push(JSON.parse(m.data as string));
    });
    const attempts: [string, unknown][] = [
      ["previous_response_id", { previous_response_id: w.respA }],
      ["tools[0].container", { tools: [{ type: "code_interpreter", container: w.containerA }] }],
      [
        "tools[0].environment.container_id",
        { tools: [{ type: "shell", environment: { type: "container_reference", container_id: w.containerA } }] },
      ],
      [
        "input[0].content[0].file_id",
        { input: [{ role: "user", content: [{ type: "input_file", file_id: w.fileA }] }] },
      ],
    ];
    for (const [, body] of attempts)
      ws.send(JSON.stringify({ type: "response.create", model: "gpt-5", input: "x", ...(body as object) }));
    for (let i = 0; i < 200 && errors.length < attempts.length; i++) await new Promise((r) => setTimeout(r, 25));
    expect(errors.map((e) => [e.status, e.error?.param])).toEqual(attempts.map(([param]) => [404, param]));
    ws.close(1000, "done");
  },
  "POST /v1/responses": async () => {
    const base = { model: "gpt-5", input: "x" };
    const attempts: [string, unknown][] = [
      ["previous_response_id", { ...base, previous_response_id: w.respA }],
      ["conversation", { ...base, conversation: w.convA }],
      ["conversation.id", { ...base, conversation: { id: w.convA } }],
      ["tools[].container", { ...base, tools: [{ type: "code_interpreter", container: w.containerA }] }],
      [
        "tools[].container.file_ids",
        { ...base, tools: [{ type: "code_interpreter", container: { type: "auto", file_ids: [w.fileA] } }] },
      ],
      ["input file id", { ...base, input: [{ role: "user", content: [{ type: "input_file", file_id: w.fileA }] }] }],
      [
        "input image file id",
        { ...base, input: [{ role: "user", content: [{ type: "input_image", file_id: w.fileA, detail: "auto" }] }] },
      ],
      [
        "input container id",
        {
          ...base,
          input: [
            {
              type: "code_interpreter_call",
              id: "ci_1",
              container_id: w.containerA,
              code: "",
              outputs: [],
              status: "completed",
            },
          ],
        },
      ],
    ];
    for (const [label, json] of attempts)
      await expectNotOwned(secretB("/v1/responses", { method: "POST", json }), `B names A's ${label}`);
    // Visitor 2 continuing visitor 1's chain, and visitors continuing the server's chain.
    await expectNotOwned(
      visitor(w.sA2, "/v1/responses", { method: "POST", json: { ...base, previous_response_id: w.respV1 } }),
      "visitor 2 continues visitor 1",
    );
    await expectNotOwned(
      visitor(w.sA1, "/v1/responses", { method: "POST", json: { ...base, previous_response_id: w.respA } }),
      "visitor continues the server's chain",
    );
    // B's widget with A's response: foreign session first, then B's own valid session.
    const bVisitor = await as("multi", w.b.publishable, "/v1/responses", {
      method: "POST",
      headers: { origin: w.b.origin, [SESSION_HEADER]: w.sA1 },
      json: base,
    });
    expect(bVisitor.status).toBe(401);
    await expectNotOwned(
      as("multi", w.b.publishable, "/v1/responses", {
        method: "POST",
        headers: { origin: w.b.origin, [SESSION_HEADER]: w.sB },
        json: { ...base, previous_response_id: w.respV1 },
      }),
      "B's visitor continues A's visitor",
    );
    // Controls: the owners may.
    await expectPassesGuard(
      visitor(w.sA1, "/v1/responses", {
        method: "POST",
        headers: { "x-unsandbox-wait-ms": "0" },
        json: { ...base, input: "more\nsim: scenario=no-tool", previous_response_id: w.respV1 },
      }),
      "visitor 1 continues",
    );
    await expectPassesGuard(
      secretA("/v1/responses", {
        method: "POST",
        headers: { "x-unsandbox-wait-ms": "0" },
        json: { ...base, input: "more\nsim: scenario=no-tool", previous_response_id: w.respV1 },
      }),
      "A's server continues its visitor's chain",
    );
  },
  "GET /v1/responses/:id": responseRead(""),
  "GET /v1/responses/:id/files": responseRead("/files"),
  "GET /v1/responses/:id/input_items": responseRead("/input_items"),
  "GET /v1/containers/:container/files": containerRead(""),
  "GET /v1/containers/:container/files/:file": containerRead("/cfile_0123"),
  "GET /v1/containers/:container/files/:file/content": containerRead("/cfile_0123/content"),
  "DELETE /v1/responses/:id/files": async () => {
    await expectNotOwned(
      secretB(`/v1/responses/${w.respA}/files`, { method: "DELETE" }),
      "B deletes A's response files",
    );
    await expectNotOwned(
      secretB(`/v1/responses/${w.respV1}/files`, { method: "DELETE" }),
      "B deletes A's visitor's files",
    );
    expect((await verdict(await visitor(w.sA1, `/v1/responses/${w.respV1}/files`, { method: "DELETE" }))).status).toBe(
      403,
    );
    // A's files are still there.
    expect((await call("multi", new URL(w.fileUrlA).pathname)).status).toBe(200);
  },
  "DELETE /v1/containers/:container/files/:file": async () => {
    await expectNotOwned(
      secretB(`/v1/containers/${w.containerA}/files/cfile_0123`, { method: "DELETE" }),
      "B deletes a file of A's container",
    );
    await expectNotOwned(
      secretA(`/v1/containers/${w.containerB}/files/cfile_0123`, { method: "DELETE" }),
      "A deletes a file of B's container",
    );
    expect(
      (await verdict(await visitor(w.sA1, `/v1/containers/${w.containerA}/files/cfile_0123`, { method: "DELETE" })))
        .status,
    ).toBe(403);
  },
  "GET /v1/containers": async () => {
    // Each tenant's listing holds its own containers and never the other's.
    const listB = (await (await secretB("/v1/containers?limit=100")).json()) as { data: { id: string }[] };
    expect(listB.data.map((x) => x.id)).toContain(w.containerB);
    expect(listB.data.map((x) => x.id)).not.toContain(w.containerA);
    const listA = (await (await secretA("/v1/containers?limit=100")).json()) as { data: { id: string }[] };
    expect(listA.data.map((x) => x.id)).toContain(w.containerA);
    expect(listA.data.map((x) => x.id)).not.toContain(w.containerB);
    expect((await verdict(await visitor(w.sA1, "/v1/containers"))).status).toBe(403);
  },
  // Conversation items are served by routes/conversations.ts (rewritten on read, restored on write).
  "GET /v1/conversations/:id/items": conversationRoute("GET", "/items"),
  "GET /v1/conversations/:id/items/:item": conversationRoute("GET", "/items/msg_0123"),
  "POST /v1/conversations/:id/items": conversationRoute("POST", "/items"),
  "POST /v1/conversations": async () => {
    await expectNotOwned(
      secretB("/v1/conversations", {
        method: "POST",
        json: { items: [{ role: "user", content: [{ type: "input_file", file_id: w.fileA }] }] },
      }),
      "B creates a conversation with A's file",
    );
    expect((await verdict(await visitor(w.sA1, "/v1/conversations", { method: "POST", json: {} }))).status).toBe(403);
  },
  // Its own route (so the answer's domain secrets can be removed), with the pass-through entry's checks.
  "POST /v1/containers": async () => {
    await allowlistCase(PASSTHROUGH_ALLOWLIST.find((r) => r.method === "POST" && r.path === "/v1/containers")!)();
  },
  "ALL /v1/*": async () => {
    // The pass-through: covered entry by entry below (every allowlisted route), and everything
    // else is no route at all for a multi-tenant key (listings would show every tenant's objects).
    for (const [method, path] of [
      ["GET", "/v1/files"],
      ["GET", "/v1/fine_tuning/jobs"],
      ["POST", "/v1/batches"],
      ["GET", "/v1/vector_stores"],
    ] as const) {
      const v = await verdict(await secretB(path, { method }));
      expect({ path, status: v.status, code: v.code }).toEqual({ path, status: 404, code: "unknown_route" });
    }
  },
};

function conversationRoute(method: "GET" | "POST", suffix: string): Case {
  return async () => {
    const init = method === "POST" ? { method, json: { items: [{ role: "user", content: "x" }] } } : { method };
    await expectNotOwned(
      secretB(`/v1/conversations/${w.convA}${suffix}`, init),
      `B ${method} A's conversation${suffix}`,
    );
    expect((await verdict(await visitor(w.sA1, `/v1/conversations/${w.convA}${suffix}`, init))).status).toBe(403);
  };
}

function containerRead(suffix: string): Case {
  return async () => {
    await expectNotOwned(
      secretB(`/v1/containers/${w.containerA}/files${suffix}`),
      `B lists A's container files${suffix}`,
    );
    await expectNotOwned(
      secretA(`/v1/containers/${w.containerB}/files${suffix}`),
      `A lists B's container files${suffix}`,
    );
    const pk = await verdict(await visitor(w.sA1, `/v1/containers/${w.containerA}/files${suffix}`));
    expect(pk.status).toBe(403);
    if (suffix === "")
      await expectPassesGuard(secretA(`/v1/containers/${w.containerA}/files`), "A lists its container's files");
  };
}

function responseRead(suffix: string): Case {
  return async () => {
    await expectNotOwned(secretB(`/v1/responses/${w.respA}${suffix}`), `B reads A's response${suffix}`);
    await expectPassesGuard(secretA(`/v1/responses/${w.respA}${suffix}`), `A reads its response${suffix}`);
    if (suffix !== "/input_items") {
      await expectNotOwned(
        visitor(w.sA2, `/v1/responses/${w.respV1}${suffix}`),
        `visitor 2 reads visitor 1's response${suffix}`,
      );
      await expectNotOwned(
        visitor(w.sA1, `/v1/responses/${w.respA}${suffix}`),
        `visitor reads the server's response${suffix}`,
      );
      await expectPassesGuard(
        visitor(w.sA1, `/v1/responses/${w.respV1}${suffix}`),
        `visitor 1 reads its response${suffix}`,
      );
    } else {
      const v = await verdict(await visitor(w.sA1, `/v1/responses/${w.respV1}${suffix}`));
      expect(v.status).toBe(403);
    }
  };
}

/** One case per allowlisted pass-through route: B with A's ids, A's visitors, and A itself. */
function allowlistCase(route: AllowedRoute): Case {
  return async () => {
    const label = `${route.method} ${route.path}`;
    const named = /:(response|container|conversation|file)\b/.test(route.path);
    const json = route.method === "POST" ? {} : undefined;
    const init = { method: route.method, ...(json ? { json } : {}) };
    if (named) {
      await expectNotOwned(
        secretB(fill(route, { response: w.respA, container: w.containerA }), init),
        `${label}: B with A's ids`,
      );
      if (route.path.includes(":container")) {
        await expectNotOwned(
          secretA(fill(route, { response: w.respA, container: w.containerB }), init),
          `${label}: A with B's container`,
        );
      }
    } else if (route.path === "/v1/containers" || route.path === "/v1/conversations") {
      // Creating something from another tenant's content: B puts A's file into a new container,
      // or A's file into a new conversation.
      const bodies =
        route.path === "/v1/containers"
          ? { name: "x", file_ids: [w.fileA] }
          : { items: [{ role: "user", content: [{ type: "input_file", file_id: w.fileA }] }] };
      await expectNotOwned(
        secretB(route.path, { method: "POST", json: bodies }),
        `${label}: B with A's file in the body`,
      );
    }
    if (route.path === "/v1/containers/:container/files" && route.method === "POST") {
      await expectNotOwned(
        secretB(`/v1/containers/${w.containerB}/files`, { method: "POST", json: { file_id: w.fileA } }),
        `${label}: B copies A's file into its own container`,
      );
    }
    if (route.path === "/v1/conversations/:conversation/items" && route.method === "POST") {
      await expectNotOwned(
        secretA(fill(route, { response: w.respA, container: w.containerA }), {
          method: "POST",
          json: { items: [{ type: "code_interpreter_call", container_id: w.containerB }] },
        }),
        `${label}: A adds B's container to its conversation`,
      );
    }
    if (route.creates && !named) {
      // What B creates is B's: A cannot use B's container (created in beforeAll through this route or its kin).
      await expectNotOwned(secretA(`/v1/containers/${w.containerB}`), `${label}: A reads B's creation`);
    }
    // A publishable key reaches only the routes marked for it.
    const pk = await verdict(await visitor(w.sA1, fill(route, { response: w.respV1, container: w.containerA }), init));
    if (!route.publishable)
      expect({ label, status: pk.status, code: pk.code }).toEqual({
        label,
        status: 403,
        code: "publishable_key_not_allowed",
      });
    // Control: the owner passes the guard on routes the simulator implements.
    if (
      route.path.startsWith("/v1/containers/:container") &&
      route.method === "GET" &&
      !route.path.includes(":cfile")
    ) {
      await expectPassesGuard(
        secretA(fill(route, { response: w.respA, container: w.containerA })),
        `${label}: A with its own container`,
      );
    }
  };
}

describe("isolation", () => {
  const tableKeys = [...new Set(app.routes.map((r) => `${r.method} ${r.path}`))];

  it("has a case for every route in the app's route table", () => {
    expect(tableKeys.filter((k) => !(k in ROUTE_CASES))).toEqual([]);
  });

  it("has a case for every pass-through allowlist entry (every path parameter can be filled)", () => {
    const unfilled = PASSTHROUGH_ALLOWLIST.map((r) => fill(r, { response: w.respA, container: w.containerA })).filter(
      (p) => p.includes(":"),
    );
    expect(unfilled).toEqual([]);
  });

  for (const key of tableKeys) {
    const c = ROUTE_CASES[key];
    if (c === "middleware") continue;
    it(`route ${key}`, async () => {
      if (!c) throw new Error(`no cross-tenant case for ${key}`);
      await c();
    });
  }

  for (const route of PASSTHROUGH_ALLOWLIST) {
    it(`pass-through ${route.method} ${route.path}`, allowlistCase(route));
  }

  it("keys and sessions do not cross: B's secret on A's widget session, a session on another tenant's key", async () => {
    const v = await verdict(
      await as("multi", w.b.secret, "/v1/responses", {
        method: "POST",
        headers: { [SESSION_HEADER]: w.sA1 },
        json: { model: "gpt-5", input: "x", previous_response_id: w.respV1 },
      }),
    );
    expect(v.status).toBe(404);
    const crossed = await as("multi", w.a.publishable, `/v1/responses/${w.respV1}`, {
      headers: { origin: w.a.origin, [SESSION_HEADER]: w.sB },
    });
    expect((await verdict(crossed)).code).toBe("invalid_session");
  });
});
