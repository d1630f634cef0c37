/**
 * Spec conformance of the simulator's refusals: each is the status the real API gives and an
 * `ErrorResponse` body, and the official SDK raises the matching typed error from it. Bodies are
 * read from the wire (fetch) because the SDK keeps only their `error` member.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { expectConforms, expectEachRequiredEnforced, expectRejected } from "../support/conformance";
import { startSim, type SimProcess } from "../support/sim-process";
import { loadSpec, SPEC_MISSING } from "../support/spec";

const spec = loadSpec();
if (!spec) console.warn(SPEC_MISSING);

const TOOLS = [{ type: "code_interpreter", container: { type: "auto" } }];

describe.skipIf(!spec)(spec ? "simulator error bodies conform to the OpenAI spec" : SPEC_MISSING, () => {
  const s = spec!;
  let sim: SimProcess;
  let client: OpenAI;
  beforeAll(async () => {
    sim = await startSim();
    client = sim.client();
  });
  afterAll(async () => {
    await sim?.stop();
  });

  /** The wire status and JSON body of a request to the simulator. */
  async function wire(method: string, path: string, body?: unknown, key: string | null = sim.apiKey) {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (key !== null) headers.authorization = `Bearer ${key}`;
    const res = await fetch(`${sim.baseURL}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      body: JSON.parse(text) as { error: { message: string; type: string; param: string | null; code: string | null } },
    };
  }

  /** Asserts an ErrorResponse body, plus its negative controls. */
  function expectErrorBody(body: unknown) {
    expectConforms(s, "ErrorResponse", body);
    expectEachRequiredEnforced(s, "ErrorResponse", body as Record<string, unknown>);
    const inner = (body as { error: Record<string, unknown> }).error;
    expect(expectEachRequiredEnforced(s, "Error", inner)).toBe(4);
    expectRejected(s, "ErrorResponse", { error: { ...inner, param: 7 } });
    expectRejected(s, "ErrorResponse", { error: { ...inner, message: null } });
  }

  it("no bearer key: 401 ErrorResponse", async () => {
    const { status, body } = await wire("POST", "/responses", { model: "gpt-5", input: "hi" }, null);
    expect(status).toBe(401);
    expectErrorBody(body);
  });

  it("a wrong bearer key: 401 ErrorResponse, AuthenticationError in the SDK", async () => {
    const { status, body } = await wire("GET", "/containers", undefined, "sk-wrong");
    expect(status).toBe(401);
    expectErrorBody(body);
    await expect(sim.client({ apiKey: "sk-wrong" }).containers.list()).rejects.toBeInstanceOf(
      OpenAI.AuthenticationError,
    );
  });

  it("an unknown request parameter: 400 naming it, BadRequestError in the SDK", async () => {
    const request = { model: "gpt-5", input: "hi", tools: TOOLS, frobnicate: true };
    const { status, body } = await wire("POST", "/responses", request);
    expect(status).toBe(400);
    expect(body.error.param).toBe("frobnicate");
    expectErrorBody(body);
    await expect(client.responses.create(request as never)).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });

  it("an unknown parameter nested in an input item: 400", async () => {
    const request = { model: "gpt-5", input: [{ role: "user", content: "hi", colour: "blue" }], tools: TOOLS };
    const { status, body } = await wire("POST", "/responses", request);
    expect(status).toBe(400);
    expect(body.error.param).toMatch(/colour/);
    expectErrorBody(body);
  });

  it("the code_interpreter tool without container: 400 naming tools[0].container", async () => {
    const { status, body } = await wire("POST", "/responses", {
      model: "gpt-5",
      input: "hi",
      tools: [{ type: "code_interpreter" }],
    });
    expect(status).toBe(400);
    expect(body.error.param).toBe("tools[0].container");
    expectErrorBody(body);
  });

  it("a bad include value: 400", async () => {
    const { status, body } = await wire("POST", "/responses", {
      model: "gpt-5",
      input: "hi",
      tools: TOOLS,
      include: ["code_interpreter_call.everything"],
    });
    expect(status).toBe(400);
    expectErrorBody(body);
  });

  it("unknown response, container and file ids: 404, NotFoundError in the SDK", async () => {
    for (const path of [
      "/responses/resp_doesnotexist",
      "/containers/cntr_doesnotexist",
      "/containers/cntr_doesnotexist/files",
    ]) {
      const { status, body } = await wire("GET", path);
      expect(status, path).toBe(404);
      expectErrorBody(body);
    }
    await expect(client.responses.retrieve("resp_doesnotexist")).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const container = await client.containers.create({ name: "spec-errors" });
    const { status, body } = await wire("GET", `/containers/${container.id}/files/cfile_doesnotexist`);
    expect(status).toBe(404);
    expectErrorBody(body);
  });

  it("an expired container: 404 from file endpoints, 400 from /v1/responses (facts §4, Expiry)", async () => {
    const container = await client.containers.create({ name: "spec-expired" });
    const expire = await fetch(`${sim.origin}/__sim/containers/${container.id}/expire`, { method: "POST" });
    expect(expire.ok).toBe(true);

    const files = await wire("GET", `/containers/${container.id}/files`);
    expect(files.status).toBe(404);
    expect(files.body.error.message).toBe("Container is expired.");
    expectErrorBody(files.body);

    const reuse = await wire("POST", "/responses", {
      model: "gpt-5",
      input: "again",
      tools: [{ type: "code_interpreter", container: container.id }],
    });
    expect(reuse.status).toBe(400);
    expect(reuse.body.error.message).toBe("Container is expired.");
    expectErrorBody(reuse.body);
    await expect(
      client.responses.create({
        model: "gpt-5",
        input: "again",
        tools: [{ type: "code_interpreter", container: container.id }],
      }),
    ).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });
});
