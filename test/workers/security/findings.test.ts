/**
 * One test per finding of the front-door issue (1, 4, 5, 6, 16): each names what an attacker did
 * and shows it refused now. Every one of them was answered (and sent upstream) before the front
 * door and the route-attached checks.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { SESSION_HEADER } from "../../../src/auth/authenticate";
import type { Bindings } from "../../../src/config";
import { recordOwner } from "../../../src/tenants/ownership";
import { ADMIN_SECRET, as, errorOf, makeTenant, session, SINGLE_KEY, SINGLE_ORIGIN, SINGLE_PK, type TestTenant } from "../tenants/support";

const bindings = env as unknown as Bindings;
const CI = (container: unknown = { type: "auto" }) => [{ type: "code_interpreter", container }];

/** The operator's response (single-tenant secret key) with a code-interpreter container. */
async function operatorResponse(): Promise<{ id: string; container: string }> {
  const res = await as("single", SINGLE_KEY, "/v1/responses", { method: "POST", json: { model: "gpt-5", input: "Make a csv.\nsim: scenario=one-file", tools: CI() } });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { id: string; output: { type: string; container_id?: string }[] };
  return { id: body.id, container: body.output.find((o) => o.type === "code_interpreter_call")!.container_id! };
}

describe("finding 1: an encoded spelling of POST /v1/responses skips no check", () => {
  let op: { id: string; container: string };
  let visitor: string;
  const asVisitor = (path: string, json: unknown) =>
    as("single", SINGLE_PK, path, { method: "POST", headers: { origin: SINGLE_ORIGIN, [SESSION_HEADER]: visitor, "x-unsandbox-wait-ms": "0" }, json });

  beforeAll(async () => {
    op = await operatorResponse();
    visitor = await session("single", SINGLE_PK, SINGLE_ORIGIN);
  });

  it("a widget visitor with the default publishable key cannot continue the operator's chain", async () => {
    const body = { model: "gpt-5", input: "What did you make?\nsim: scenario=no-tool", previous_response_id: op.id };
    // The canonical path: the operator's response is not the visitor's (OpenAI's 404).
    expect(await errorOf(await asVisitor("/v1/responses", body))).toMatchObject({ status: 404, code: "not_found" });
    for (const path of ["/v1/%72esponses", "/%76%31/responses", "/v1/respons%65s", "/v1/RESPONSES".replace("RESPONSES", "%72%65sponses")]) {
      expect({ path, ...(await errorOf(await asVisitor(path, body))) }).toMatchObject({ path, status: 400, code: "invalid_path" });
    }
  });

  it("a widget visitor cannot run a background response through an encoded path", async () => {
    const body = { model: "gpt-5", input: "hi\nsim: scenario=no-tool", background: true };
    expect(await errorOf(await asVisitor("/v1/responses", body))).toMatchObject({ status: 400, code: "not_allowed_for_publishable_key" });
    expect(await errorOf(await asVisitor("/v1/respons%65s", body))).toMatchObject({ status: 400, code: "invalid_path" });
  });

  it("tenant B cannot run code in tenant A's container through an encoded path", async () => {
    const [a, b] = await Promise.all([makeTenant(), makeTenant()]);
    const made = await as("multi", a.secret, "/v1/responses", { method: "POST", json: { model: "gpt-5", input: "Make a csv.\nsim: scenario=one-file", tools: CI() } });
    const container = ((await made.json()) as { output: { container_id?: string }[] }).output.find((o) => o.container_id)!.container_id!;
    const body = { model: "gpt-5", input: "Read their files.\nsim: scenario=no-tool", tools: CI(container) };
    expect(await errorOf(await as("multi", b.secret, "/v1/responses", { method: "POST", json: body }))).toMatchObject({ status: 404, code: "not_found" });
    expect(await errorOf(await as("multi", b.secret, "/v1/%72esponses", { method: "POST", json: body }))).toMatchObject({ status: 400, code: "invalid_path" });
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
