/**
 * `network_policy.domain_secrets[].value` is a credential: whatever route carries it (container
 * create, a responses tool's container), valid or not, it must appear in no log line and in no
 * answer unsandbox sends back (bodies, stream events, errors, read-backs).
 */
import { exports } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { as, makeTenant, SINGLE_KEY } from "../support/tenants";

const SECRET = `dsv-${crypto.randomUUID()}`;
const policy = {
  type: "allowlist",
  allowed_domains: ["api.example.com"],
  domain_secrets: [{ domain: "api.example.com", name: "API_KEY", value: SECRET }],
};
const tool = (container: object = {}) => ({
  type: "code_interpreter",
  container: { type: "auto", network_policy: policy, ...container },
});

let logged: string[] = [];
beforeEach(() => {
  logged = [];
  for (const level of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, level).mockImplementation(
      (...args: unknown[]) =>
        void logged.push(args.map((a) => (typeof a === "string" ? a : (JSON.stringify(a) ?? String(a)))).join(" ")),
    );
  }
});
afterEach(() => vi.restoreAllMocks());

function expectNoSecret(label: string, text: string) {
  expect(text.includes(SECRET), `${label}: ${text.slice(0, 300)}`).toBe(false);
}

/** `status` null: whoever answers (unsandbox or upstream), only the secret's absence is asserted. */
async function send(label: string, res: Promise<Response>, status: number | null): Promise<string> {
  const r = await res;
  const text = await r.text();
  if (status !== null) expect(r.status, `${label}: ${text.slice(0, 300)}`).toBe(status);
  expectNoSecret(label, text);
  return text;
}

const post = (json: unknown) => ({ method: "POST", json });
const raw = (body: string) => ({ method: "POST", body, headers: { "content-type": "application/json" } });

describe("domain secrets", () => {
  it("never come back from or get logged by POST /v1/responses, plain, streamed and read back", async () => {
    const plain = JSON.parse(
      await send(
        "plain",
        as(
          "single",
          SINGLE_KEY,
          "/v1/responses",
          post({ model: "gpt-5", input: "sim: scenario=one-file", tools: [tool()] }),
        ),
        200,
      ),
    ) as {
      id: string;
      tools: { container: { network_policy: { domain_secrets: { value: string; name: string }[] } } }[];
    };
    // The echo keeps its shape; only the value is gone.
    expect(plain.tools[0]!.container.network_policy.domain_secrets[0]).toEqual({
      domain: "api.example.com",
      name: "API_KEY",
      value: "[redacted]",
    });
    // Through the Worker's own entry point, which reads the stream while its waitUntil work runs.
    const streamed = exports.default.fetch("https://unsandbox.test/v1/responses", {
      method: "POST",
      headers: { authorization: `Bearer ${SINGLE_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-5", input: "sim: scenario=one-file", stream: true, tools: [tool()] }),
    });
    expect(await send("stream", streamed, 200)).toContain("[redacted]");
    await send("read back", as("single", SINGLE_KEY, `/v1/responses/${plain.id}`), 200);
    for (const line of logged) expectNoSecret("log line", line);
    expect(logged.length).toBeGreaterThan(0);
  });

  it("are not quoted by any refusal of a responses body, unsandbox's or upstream's", async () => {
    const cases: [string, RequestInit & { json?: unknown }, number][] = [
      ["bad file_ids", post({ model: "gpt-5", input: "x", tools: [tool({ file_ids: "file-1" })] }), 400],
      ["bad file id", post({ model: "gpt-5", input: "x", tools: [tool({ file_ids: ["file-1/.."] })] }), 400],
      [
        "bad previous id",
        post({ model: "gpt-5", input: "x", previous_response_id: "resp_1/..", tools: [tool()] }),
        400,
      ],
      ["bad JSON", raw(JSON.stringify({ model: "gpt-5", tools: [tool()] }).slice(0, -3)), 400],
      [
        "bad tool type",
        post({
          model: "gpt-5",
          input: "x",
          tools: [{ type: "code_interpreter", container: { type: SECRET, network_policy: policy } }],
        }),
        400,
      ],
      // Upstream refuses the value and quotes it ("Invalid value: '…'").
      ["upstream quotes it", post({ model: "gpt-5", input: "x", tools: [tool({ memory_limit: SECRET })] }), 400],
      [
        "upstream quotes it, streamed",
        post({ model: "gpt-5", input: "x", stream: true, tools: [tool({ memory_limit: SECRET })] }),
        400,
      ],
    ];
    for (const [label, init, status] of cases)
      await send(label, as("single", SINGLE_KEY, "/v1/responses", init), status);
    for (const line of logged) expectNoSecret("log line", line);
  });

  it("never come back from or get logged by POST /v1/containers, single- and multi-tenant, valid or not", async () => {
    const t = await makeTenant();
    for (const [mode, key] of [
      ["single", SINGLE_KEY],
      ["multi", t.secret],
    ] as const) {
      await send(
        `${mode} create`,
        as(mode, key, "/v1/containers", post({ name: "with secrets", network_policy: policy })),
        200,
      );
      // The single-tenant secret key's body ids are not looked up (every id is the operator's), so
      // a malformed one is upstream's to refuse; what matters is that no answer quotes the secret.
      await send(
        `${mode} bad file_ids`,
        as(mode, key, "/v1/containers", post({ name: "x", network_policy: policy, file_ids: ["file-1/.."] })),
        mode === "single" ? null : 400,
      );
      await send(
        `${mode} bad JSON`,
        as(mode, key, "/v1/containers", raw(JSON.stringify({ name: "x", network_policy: policy }).slice(0, -2))),
        400,
      );
      await send(
        `${mode} upstream quotes it`,
        as(mode, key, "/v1/containers", post({ name: "x", network_policy: policy, memory_limit: SECRET })),
        400,
      );
    }
    for (const line of logged) expectNoSecret("log line", line);
  });
});
