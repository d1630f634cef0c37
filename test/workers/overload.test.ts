/**
 * Overload answers 503 with Retry-After, never 500, and never loses an upstream answer that exists
 * (issue 19). An internal Durable Object that fails the way Cloudflare documents for overload
 * (`.overloaded`) or a transient infrastructure error (`.retryable`)
 * (https://developers.cloudflare.com/durable-objects/best-practices/error-handling/) is put in
 * the Worker's env in place of the real namespace; everything else (the Worker, the other
 * objects, R2, the simulated upstream) is real.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import app from "../../src/index";
import { env } from "cloudflare:workers";
import { OWNER_PREFIX } from "../../src/tenants/owner-records";
import { BASE, ENVS, makeTenant, SINGLE_KEY } from "./support/tenants";

type Failure = "overloaded" | "retryable";

/** A namespace whose every object call fails like an overloaded (or briefly unreachable) object. */
function failingNamespace(failure: Failure): DurableObjectNamespace {
  const error = () =>
    Object.assign(
      new Error(
        failure === "overloaded"
          ? "Durable Object is overloaded. Too many requests queued."
          : "Network connection lost.",
      ),
      { [failure]: true },
    );
  const stub = new Proxy({}, { get: (_t, prop) => (prop === "then" ? undefined : () => Promise.reject(error())) });
  return {
    getByName: () => stub,
    get: () => stub,
    idFromName: () => ({}),
    idFromString: () => ({}),
    newUniqueId: () => ({}),
  } as unknown as DurableObjectNamespace;
}

/**
 * The real bucket, except that `op` on keys under `prefix` fails as R2 does when a key is written
 * or read too fast (code 10058, https://developers.cloudflare.com/r2/api/error-codes/).
 */
function bucketFailingOn(prefix: string, op: "put" | "head"): R2Bucket {
  const real = (env as unknown as { FILES: R2Bucket }).FILES;
  return new Proxy(real, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (typeof value !== "function") return value;
      if (prop !== op) return value.bind(target);
      return (key: string, ...rest: unknown[]) =>
        key.startsWith(prefix)
          ? Promise.reject(
              Object.assign(new Error(`${op}: Reduce your concurrent request rate for the same object.`), {
                code: 10058,
              }),
            )
          : (value as (...a: unknown[]) => unknown).call(target, key, ...rest);
    },
  });
}

const SIM = "https://api.openai.com";
const responsesCreated = async () =>
  ((await (await fetch(`${SIM}/__sim/counters`)).json()) as { responses_created: number }).responses_created;

async function call(
  env: object,
  key: string,
  path: string,
  init: RequestInit & { json?: unknown } = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${key}`);
  if (init.json !== undefined) headers.set("content-type", "application/json");
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request(`${BASE}${path}`, {
      ...init,
      headers,
      body: init.json === undefined ? init.body : JSON.stringify(init.json),
    }),
    env as never,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

const create = (input: string) => ({
  method: "POST",
  json: { model: "gpt-5", input, tools: [{ type: "code_interpreter", container: { type: "auto" } }] },
});

async function expectOverload(res: Response, retryAfter: string, code: string) {
  expect(res.status).toBe(503);
  expect(res.headers.get("retry-after")).toBe(retryAfter);
  expect(await res.json()).toEqual({
    error: { message: expect.stringContaining("retry after"), type: "server_error", param: null, code },
  });
}

describe("overload of an internal object", () => {
  it("an overloaded rate counter answers 503 with Retry-After before anything goes upstream", async () => {
    const tenant = await makeTenant({ limits: { requests_per_minute: 1_000 } });
    const before = await responsesCreated();
    const res = await call(
      { ...ENVS.multi, RATE_COUNTER: failingNamespace("overloaded") },
      tenant.secret,
      "/v1/responses",
      create("hi\nsim: scenario=no-tool"),
    );
    await expectOverload(res, "5", "overloaded");
    expect(await responsesCreated()).toBe(before);
  });

  it("a directory that cannot be reached answers 503 with a short Retry-After", async () => {
    const tenant = await makeTenant();
    const before = await responsesCreated();
    const res = await call(
      { ...ENVS.multi, TENANT_DIRECTORY: failingNamespace("retryable") },
      tenant.secret,
      "/v1/responses",
      create("hi\nsim: scenario=no-tool"),
    );
    await expectOverload(res, "1", "temporarily_unavailable");
    expect(await responsesCreated()).toBe(before);
  });

  it("an ownership ledger overloaded after the model ran still delivers the answer", async () => {
    const tenant = await makeTenant();
    const res = await call(
      { ...ENVS.multi, OWNERSHIP_LEDGER: failingNamespace("overloaded") },
      tenant.secret,
      "/v1/responses",
      create("One file.\nsim: scenario=one-file"),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("x-unsandbox-degraded")).toBe("overloaded");
    const body = (await res.json()) as {
      id: string;
      status: string;
      output: unknown[];
      unsandbox: { files: { state: string }[] };
    };
    expect(body).toMatchObject({ status: "completed", unsandbox: { files: [{ state: "stored" }] } });
    // The answer is upstream's own.
    expect((await fetch(`${SIM}/__sim/responses/${body.id}`)).status).toBe(200);
  });

  it("owner records R2 cannot write after the model ran still deliver the answer, marked degraded", async () => {
    const tenant = await makeTenant();
    const res = await call(
      { ...ENVS.multi, FILES: bucketFailingOn(OWNER_PREFIX, "put") },
      tenant.secret,
      "/v1/responses",
      create("One file.\nsim: scenario=one-file"),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("x-unsandbox-degraded")).toBe("overloaded");
    const body = (await res.json()) as { id: string; unsandbox: { files: { state: string }[] } };
    expect(body).toMatchObject({ unsandbox: { files: [{ state: "stored" }] } });
    expect((await fetch(`${SIM}/__sim/responses/${body.id}`)).status).toBe(200);
  });

  it("an owner lookup R2 cannot answer is a 503 with Retry-After before anything goes upstream", async () => {
    const tenant = await makeTenant();
    const before = await responsesCreated();
    const res = await call(
      { ...ENVS.multi, FILES: bucketFailingOn(OWNER_PREFIX, "head") },
      tenant.secret,
      "/v1/responses",
      {
        method: "POST",
        json: {
          model: "gpt-5",
          input: "hi\nsim: scenario=no-tool",
          previous_response_id: `resp_never${crypto.randomUUID().replace(/-/g, "")}`,
        },
      },
    );
    await expectOverload(res, "5", "overloaded");
    expect(await responsesCreated()).toBe(before);
  });

  it("an overloaded response index on read-back still returns upstream's Response (its files reported later)", async () => {
    const created = await call(ENVS.single, SINGLE_KEY, "/v1/responses", create("One file.\nsim: scenario=one-file"));
    const { id } = (await created.json()) as { id: string };
    const res = await call(
      { ...ENVS.single, RESPONSE_INDEX: failingNamespace("overloaded") },
      SINGLE_KEY,
      `/v1/responses/${id}`,
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id, status: "completed", unsandbox: { files: [] } });
    // With the index back, the same read reports the file.
    const again = await call(ENVS.single, SINGLE_KEY, `/v1/responses/${id}`);
    expect(await again.json()).toMatchObject({ id, unsandbox: { files: [{ state: "stored" }] } });
  });

  it("trackers that cannot be reached cost the file list of a create, never its answer", async () => {
    const res = await call(
      { ...ENVS.single, CONTAINER_TRACKER: failingNamespace("overloaded") },
      SINGLE_KEY,
      "/v1/responses",
      create("One file.\nsim: scenario=one-file"),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "completed", output: expect.any(Array) });
  });
});
