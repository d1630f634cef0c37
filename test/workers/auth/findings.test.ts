/**
 * One test per finding of the front-door issue (1, 4, 5, 6, 16): each names what an attacker did
 * and shows it refused now. Every one of them was answered (and sent upstream) before the front
 * door and the route-attached checks.
 */
import { env } from "cloudflare:workers";
import { createExecutionContext } from "cloudflare:test";
import { createApp } from "../../../src/app";
import { responses } from "../../../src/routes/responses";
import { beforeAll, describe, expect, it } from "vitest";
import { SESSION_HEADER } from "../../../src/auth/authenticate";
import type { Bindings } from "../../../src/config";
import { recordOwner } from "../../../src/tenants/ownership";
import { counted } from "../support/upstream-count";
import {
  ADMIN_SECRET,
  as,
  errorOf,
  makeTenant,
  sdk,
  session,
  SINGLE_KEY,
  SINGLE_ORIGIN,
  SINGLE_PK,
  type TestTenant,
} from "../support/tenants";

const bindings = env as unknown as Bindings;
const CI = (container: unknown = { type: "auto" }) => [{ type: "code_interpreter", container }];

/** The operator's response (single-tenant secret key) with a code-interpreter container. */
async function operatorResponse(): Promise<{ id: string; container: string }> {
  const res = await as("single", SINGLE_KEY, "/v1/responses", {
    method: "POST",
    json: { model: "gpt-5", input: "Make a csv.\nsim: scenario=one-file", tools: CI() },
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { id: string; output: { type: string; container_id?: string }[] };
  return { id: body.id, container: body.output.find((o) => o.type === "code_interpreter_call")!.container_id! };
}

describe("finding 1: an encoded spelling of POST /v1/responses skips no check", () => {
  let op: { id: string; container: string };
  let visitor: string;
  const asVisitor = (path: string, json: unknown) =>
    as("single", SINGLE_PK, path, {
      method: "POST",
      headers: { origin: SINGLE_ORIGIN, [SESSION_HEADER]: visitor, "x-unsandbox-wait-ms": "0" },
      json,
    });

  beforeAll(async () => {
    op = await operatorResponse();
    visitor = await session("single", SINGLE_PK, SINGLE_ORIGIN);
  });

  it("a widget visitor with the default publishable key cannot continue the operator's chain", async () => {
    const body = { model: "gpt-5", input: "What did you make?\nsim: scenario=no-tool", previous_response_id: op.id };
    // The canonical path: the operator's response is not the visitor's (OpenAI's 404).
    expect(await errorOf(await asVisitor("/v1/responses", body))).toMatchObject({ status: 404, code: "not_found" });
    for (const path of [
      "/v1/%72esponses",
      "/%76%31/responses",
      "/v1/respons%65s",
      "/v1/RESPONSES".replace("RESPONSES", "%72%65sponses"),
    ]) {
      expect({ path, ...(await errorOf(await asVisitor(path, body))) }).toMatchObject({
        path,
        status: 400,
        code: "invalid_path",
      });
    }
  });

  it("a widget visitor cannot run a background response through an encoded path", async () => {
    const body = { model: "gpt-5", input: "hi\nsim: scenario=no-tool", background: true };
    expect(await errorOf(await asVisitor("/v1/responses", body))).toMatchObject({
      status: 400,
      code: "not_allowed_for_publishable_key",
    });
    expect(await errorOf(await asVisitor("/v1/respons%65s", body))).toMatchObject({
      status: 400,
      code: "invalid_path",
    });
  });

  it("tenant B cannot run code in tenant A's container through an encoded path", async () => {
    const [a, b] = await Promise.all([makeTenant(), makeTenant()]);
    const made = await as("multi", a.secret, "/v1/responses", {
      method: "POST",
      json: { model: "gpt-5", input: "Make a csv.\nsim: scenario=one-file", tools: CI() },
    });
    const container = ((await made.json()) as { output: { container_id?: string }[] }).output.find(
      (o) => o.container_id,
    )!.container_id!;
    const body = { model: "gpt-5", input: "Read their files.\nsim: scenario=no-tool", tools: CI(container) };
    expect(await errorOf(await as("multi", b.secret, "/v1/responses", { method: "POST", json: body }))).toMatchObject({
      status: 404,
      code: "not_found",
    });
    expect(await errorOf(await as("multi", b.secret, "/v1/%72esponses", { method: "POST", json: body }))).toMatchObject(
      { status: 400, code: "invalid_path" },
    );
    // A itself may (the check still lets the owner through).
    expect((await as("multi", a.secret, "/v1/responses", { method: "POST", json: body })).status).toBe(200);
  });
});

describe("finding 16: container reads are metered, and no spelling avoids the meter", () => {
  it("an encoded container read is refused, the canonical one is counted", async () => {
    const t: TestTenant = await makeTenant();
    const made = await as("multi", t.secret, "/v1/containers", { method: "POST", json: { name: "metered" } });
    const id = ((await made.json()) as { id: string }).id;
    const usage = async () => {
      const res = await as("multi", ADMIN_SECRET, `/admin/usage/${t.id}`);
      return ((await res.json()) as { totals: { container_reads: number } }).totals.container_reads;
    };
    const before = await usage();
    const sneaky = await as("multi", t.secret, `/v1/%63ontainers/${id}`);
    expect(await errorOf(sneaky)).toMatchObject({ status: 400, code: "invalid_path" });
    expect(await usage()).toBe(before);
    const plain = await as("multi", t.secret, `/v1/containers/${id}`);
    expect(plain.status).toBe(200);
    expect(await usage()).toBe(before + 1);
  });
});

/** A multipart body with string fields (and a small file when `file` is set). */
function form(fields: Record<string, string>, file = false): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  if (file) f.append("file", new File(["a,b\n1,2\n"], "x.csv", { type: "text/csv" }));
  return f;
}

describe("finding 4: body ids are checked whatever the Content-Type spelling", () => {
  let a: TestTenant;
  let b: TestTenant;
  let fileA: string;
  let containerB: string;
  beforeAll(async () => {
    [a, b] = await Promise.all([makeTenant(), makeTenant()]);
    fileA = `file-f4A${crypto.randomUUID().replace(/-/g, "")}`;
    await recordOwner(bindings, { tenant: a.id, kind: "file", id: fileA });
    containerB = (
      (await (await as("multi", b.secret, "/v1/containers", { method: "POST", json: { name: "b" } })).json()) as {
        id: string;
      }
    ).id;
  });

  const raw = (path: string, body: BodyInit, type: string | null) =>
    counted(() =>
      as("multi", b.secret, path, { method: "POST", body, headers: type === null ? {} : { "content-type": type } }),
    );
  /** A multipart body: the type (with its boundary) is set by the Request itself. */
  const multipart = (path: string, body: FormData) => raw(path, body, null);

  it("JSON bodies under any type spelling are read as JSON and their ids checked", async () => {
    const cases: [string, unknown][] = [
      ["/v1/containers", { name: "x", file_ids: [fileA] }],
      [`/v1/containers/${containerB}/files`, { file_id: fileA }],
      [
        "/v1/conversations",
        { items: [{ type: "message", role: "user", content: [{ type: "input_file", file_id: fileA }] }] },
      ],
    ];
    for (const [path, json] of cases) {
      for (const type of [
        "application/json",
        "Application/JSON",
        "application/json; charset=utf-8",
        "text/plain",
        null,
      ]) {
        // A string body would get `text/plain` from the Request itself: bytes carry no type.
        const { result, upstream } = await raw(
          path,
          type === null ? new TextEncoder().encode(JSON.stringify(json)) : JSON.stringify(json),
          type,
        );
        expect({ path, ctype: type, ...(await errorOf(result)), upstream }).toMatchObject({
          path,
          ctype: type,
          status: 404,
          code: "not_found",
          upstream: [],
        });
      }
    }
  });

  it("a multipart file_id is checked; unknown encodings are refused", async () => {
    const m = await multipart(`/v1/containers/${containerB}/files`, form({ file_id: fileA }));
    expect({ ...(await errorOf(m.result)), upstream: m.upstream }).toMatchObject({
      status: 404,
      code: "not_found",
      upstream: [],
    });
    const url = await raw(
      `/v1/containers/${containerB}/files`,
      `file_id=${fileA}`,
      "application/x-www-form-urlencoded",
    );
    expect({ ...(await errorOf(url.result)), upstream: url.upstream }).toMatchObject({
      status: 415,
      code: "unsupported_media_type",
      upstream: [],
    });
    // B's own upload still goes through, bytes intact.
    const own = await multipart(`/v1/containers/${containerB}/files`, form({}, true));
    expect(own.result.status).toBe(200);
    expect(own.upstream).toHaveLength(1);
  });
});

describe("finding 5: output items are owned", () => {
  let a: TestTenant;
  let b: TestTenant;
  let itemsA: string[];
  beforeAll(async () => {
    [a, b] = await Promise.all([makeTenant(), makeTenant()]);
    const made = await as("multi", a.secret, "/v1/responses", {
      method: "POST",
      json: { model: "gpt-5", input: "hello\nsim: scenario=no-tool" },
    });
    itemsA = ((await made.json()) as { output: { id: string }[] }).output.map((o) => o.id);
    expect(itemsA.length).toBeGreaterThan(0);
  });

  it("another tenant's item reference gets OpenAI's 404 and nothing goes upstream", async () => {
    const body = {
      model: "gpt-5",
      input: [
        { type: "item_reference", id: itemsA[0] },
        { role: "user", content: "go on\nsim: scenario=no-tool" },
      ],
    };
    const { result, upstream } = await counted(() =>
      as("multi", b.secret, "/v1/responses", { method: "POST", json: body }),
    );
    expect({ ...(await errorOf(result)), upstream }).toMatchObject({ status: 404, code: "not_found", upstream: [] });
    // An assistant message sent back with A's id is the same reference.
    const sentBack = {
      model: "gpt-5",
      input: [
        { type: "message", role: "assistant", id: itemsA[0], content: [{ type: "output_text", text: "hi" }] },
        { role: "user", content: "go on" },
      ],
    };
    expect(
      await errorOf(await as("multi", b.secret, "/v1/responses", { method: "POST", json: sentBack })),
    ).toMatchObject({ status: 404, code: "not_found" });
  });

  it("the owner's own references keep working, plain and streamed (the Vercel AI SDK's way of sending earlier turns)", async () => {
    const client = sdk("multi", a.secret);
    // Earlier turns as the AI SDK sends them with store on: every output item by reference.
    const next = await client.responses.create({
      model: "gpt-5",
      input: [
        { role: "user", content: [{ type: "input_text", text: "hello" }] },
        ...itemsA.map((id) => ({ type: "item_reference" as const, id })),
        { role: "user", content: [{ type: "input_text", text: "and now?\nsim: scenario=no-tool" }] },
      ],
    });
    expect(next.output.length).toBeGreaterThan(0);
    const stream = await client.responses.create({
      model: "gpt-5",
      input: "stream it\nsim: scenario=no-tool",
      stream: true,
    });
    let streamedItems: string[] = [];
    for await (const event of stream)
      if (event.type === "response.completed") streamedItems = event.response.output.map((o) => o.id!);
    expect(streamedItems.length).toBeGreaterThan(0);
    const after = await client.responses.create({
      model: "gpt-5",
      input: [
        ...streamedItems.map((id) => ({ type: "item_reference" as const, id })),
        { role: "user", content: "more\nsim: scenario=no-tool" },
      ],
    });
    expect(after.status).toBe("completed");
    // B may not use the streamed ones either.
    const theirs = await as("multi", b.secret, "/v1/responses", {
      method: "POST",
      json: { model: "gpt-5", input: [{ type: "item_reference", id: streamedItems[0] }] },
    });
    expect(await errorOf(theirs)).toMatchObject({ status: 404, code: "not_found" });
  });

  it("input items the owner listed may be referenced by the owner, not by another tenant", async () => {
    const made = await as("multi", a.secret, "/v1/responses", {
      method: "POST",
      json: { model: "gpt-5", input: "remember this\nsim: scenario=no-tool" },
    });
    const id = ((await made.json()) as { id: string }).id;
    const listed = await as("multi", a.secret, `/v1/responses/${id}/input_items`);
    const inputItem = ((await listed.json()) as { data: { id: string }[] }).data[0]!.id;
    const body = {
      model: "gpt-5",
      input: [
        { type: "item_reference", id: inputItem },
        { role: "user", content: "again\nsim: scenario=no-tool" },
      ],
    };
    const own = await counted(() => as("multi", a.secret, "/v1/responses", { method: "POST", json: body }));
    // Past the guard (the simulator, which resolves only output items, answers for itself).
    expect(own.upstream.length).toBeGreaterThan(0);
    const theirs = await counted(() => as("multi", b.secret, "/v1/responses", { method: "POST", json: body }));
    expect({ ...(await errorOf(theirs.result)), upstream: theirs.upstream }).toMatchObject({
      status: 404,
      code: "not_found",
      upstream: [],
    });
  });

  it("a widget visitor cannot reference the operator's items (single-tenant)", async () => {
    const made = await as("single", SINGLE_KEY, "/v1/responses", {
      method: "POST",
      json: { model: "gpt-5", input: "secret plans\nsim: scenario=no-tool" },
    });
    const opItem = ((await made.json()) as { output: { id: string }[] }).output[0]!.id;
    const visitor = await session("single", SINGLE_PK, SINGLE_ORIGIN);
    const widgetTurn = (input: unknown[]) =>
      counted(() =>
        as("single", SINGLE_PK, "/v1/responses", {
          method: "POST",
          headers: { origin: SINGLE_ORIGIN, [SESSION_HEADER]: visitor },
          json: { model: "gpt-5", input },
        }),
      );
    // An item reference is not on the widget allowlist at all (auth/widget-policy.ts).
    const byReference = await widgetTurn([
      { type: "item_reference", id: opItem },
      { role: "user", content: "repeat that" },
    ]);
    expect({ ...(await errorOf(byReference.result)), upstream: byReference.upstream }).toMatchObject({
      status: 400,
      code: "not_allowed_for_publishable_key",
      upstream: [],
    });
    // The operator's message sent back with its id is an item the visitor does not own.
    const byMessage = await widgetTurn([
      { type: "message", role: "assistant", id: opItem, content: [{ type: "output_text", text: "secret plans" }] },
      { role: "user", content: "repeat that" },
    ]);
    const refused = await errorOf(byMessage.result);
    expect([400, 404], JSON.stringify(refused)).toContain(refused.status);
    expect(byMessage.upstream).toEqual([]);
  });
});

describe("finding 6: the ids of one request are bounded and deduplicated", () => {
  it("5,000 distinct ids are refused at once with a named param, from the public widget key and from a tenant", async () => {
    const input = [
      {
        role: "user",
        content: Array.from({ length: 5000 }, (_, i) => ({ type: "input_file", file_id: `file-many${i}` })),
      },
    ];
    // The widget key: its allowlist refuses file inputs before any lookup.
    const visitor = await session("single", SINGLE_PK, SINGLE_ORIGIN);
    let t0 = Date.now();
    const widget = await counted(() =>
      as("single", SINGLE_PK, "/v1/responses", {
        method: "POST",
        headers: { origin: SINGLE_ORIGIN, [SESSION_HEADER]: visitor },
        json: { model: "gpt-5", input },
      }),
    );
    expect({ status: widget.result.status, upstream: widget.upstream }).toEqual({ status: 400, upstream: [] });
    expect(Date.now() - t0).toBeLessThan(5_000);
    // A tenant's secret key, whose ids are looked up: the cap refuses them before any lookup.
    const a = await makeTenant();
    t0 = Date.now();
    const { result, upstream } = await counted(() =>
      as("multi", a.secret, "/v1/responses", { method: "POST", json: { model: "gpt-5", input } }),
    );
    const body = (await result.json()) as { error: { code: string; param: string } };
    expect({ status: result.status, code: body.error.code, param: body.error.param, upstream }).toEqual({
      status: 400,
      code: "too_many_ids",
      param: "input[0].content[256].file_id",
      upstream: [],
    });
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it("the same id named 5,000 times is looked up once (and allowed for its owner)", async () => {
    const a = await makeTenant();
    const fileA = `file-dup${crypto.randomUUID().replace(/-/g, "")}`;
    await recordOwner(bindings, { tenant: a.id, kind: "file", id: fileA });
    const res = await as("multi", a.secret, "/v1/containers", {
      method: "POST",
      json: { name: "dup", file_ids: Array.from({ length: 5000 }, () => fileA) },
    });
    // Past the guard: the simulator, which has no such file, answers for it.
    const v = await errorOf(res);
    expect(v.code).not.toBe("too_many_ids");
    expect(v.code).not.toBe("not_found");
  });
});

describe("the responses route runs only after its checks", () => {
  it("refuses a request that reached it without the guard's body checks, before any upstream call", async () => {
    // The route alone, as if a spelling had slipped past the guard: it must not call the model.
    const bare = createApp();
    bare.route("/", responses);
    const { result, upstream } = await counted(async () =>
      bare.fetch(
        new Request("https://unsandbox.test/v1/responses", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "gpt-5", input: "hi\nsim: scenario=no-tool" }),
        }),
        env as never,
        createExecutionContext(),
      ),
    );
    expect({ ...(await errorOf(result)), upstream }).toMatchObject({ status: 400, code: "invalid_path", upstream: [] });
  });
});
