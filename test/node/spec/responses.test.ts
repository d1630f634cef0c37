/**
 * Spec conformance of the simulator's Responses API: the bodies it answers and every SSE event
 * it streams validate against the official OpenAI OpenAPI document, driven through the official
 * `openai` SDK against the simulator running as a real `wrangler dev` process.
 *
 * Known deviations of real traffic from the spec (shared/reference/openai-code-interpreter-files.md),
 * where real traffic wins and the simulator follows it:
 * - `keepalive` events (§3.2, §6.8) are in no schema of the spec: checked for their observed
 *   shape instead.
 * - the `error` event nests its payload (§3.2): flattened before validating, and validated
 *   unpatched with the simulator's `nested_error_event` quirk off.
 * - `user: null` / `usage: null` on Responses (seen in the CAP-V capture): see support/deviations.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { ResponsesWS } from "openai/resources/responses/ws";
import { expectConforms, expectEachRequiredEnforced, expectRejected } from "../support/conformance";
import { observedEvent, observedResponse } from "../support/deviations";
import { startSim, type SimProcess } from "../support/sim-process";
import { readSse } from "../support/sse";
import { loadSpec, SPEC_MISSING } from "../support/spec";

const spec = loadSpec();
if (!spec) console.warn(SPEC_MISSING);

const TOOLS = [{ type: "code_interpreter" as const, container: { type: "auto" as const } }];
const SCENARIOS = ["one-file", "several-files", "figure", "link-no-annotation", "no-tool"];
/** The events a file-producing turn must stream (facts §3.2, observed order); proves the loop saw real traffic. */
const FILE_TURN_EVENTS = [
  "response.created",
  "response.in_progress",
  "response.output_item.added",
  "response.code_interpreter_call.in_progress",
  "response.code_interpreter_call_code.delta",
  "response.code_interpreter_call_code.done",
  "response.code_interpreter_call.interpreting",
  "response.code_interpreter_call.completed",
  "response.output_item.done",
  "response.content_part.added",
  "response.output_text.delta",
  "response.output_text.annotation.added",
  "response.output_text.done",
  "response.content_part.done",
  "response.completed",
];

const prompt = (directive: string) => `Write a small file and link it.\nsim: ${directive}`;

describe.skipIf(!spec)(spec ? "simulator Responses API conforms to the OpenAI spec" : SPEC_MISSING, () => {
  const s = spec!;
  let sim: SimProcess;
  let client: OpenAI;
  /** One conforming sample per event schema, for the negative controls. */
  const eventSamples = new Map<string, Record<string, unknown>>();

  beforeAll(async () => {
    sim = await startSim();
    client = sim.client();
  });
  afterAll(async () => {
    await sim?.stop();
  });

  /** Validates every event of a stream against the schema its `type` names; returns the types seen. */
  async function validateStream(stream: AsyncIterable<unknown>, from = 0): Promise<string[]> {
    const types: string[] = [];
    let expectedSeq = from;
    for await (const raw of stream) {
      const event = raw as Record<string, unknown> & { type: string; sequence_number: number };
      types.push(event.type);
      expect(event.sequence_number, `sequence_number of ${event.type}`).toBe(expectedSeq++);
      if (event.type === "keepalive") {
        // Real traffic (facts §3.2, openai/openai-node#1964): undocumented, `{type, sequence_number}` only.
        expect(Object.keys(event).sort()).toEqual(["sequence_number", "type"]);
        continue;
      }
      const name = s.eventSchema(event.type);
      expect(name, `the spec has a schema for event type ${event.type}`).toBeDefined();
      const observed = observedEvent(event);
      expectConforms(s, name!, observed);
      if (!eventSamples.has(name!)) eventSamples.set(name!, observed);
    }
    return types;
  }

  it.each(SCENARIOS)("a plain Response body (scenario %s) validates as Response", async (scenario) => {
    const res = await client.responses
      .create({
        model: "gpt-5",
        input: prompt(`scenario=${scenario}`),
        tools: TOOLS,
        include: ["code_interpreter_call.outputs"],
      })
      .asResponse();
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, any>;
    expect(body.object).toBe("response");
    expectConforms(s, "Response", observedResponse(body));
    if (scenario !== "no-tool") {
      const call = body.output.find((o: any) => o.type === "code_interpreter_call");
      expect(call?.container_id).toMatch(/^cntr_/);
      expect(Array.isArray(call.outputs)).toBe(true);
    }
  });

  it("negative controls: broken Response bodies are rejected", async () => {
    const body = observedResponse(
      await client.responses
        .create({ model: "gpt-5", input: prompt("scenario=one-file"), tools: TOOLS })
        .asResponse()
        .then((r) => r.json()),
    );
    expectConforms(s, "Response", body);
    // The patch removes only nulls: a wrong value in the same fields still fails.
    expectRejected(s, "Response", { ...structuredClone(body), user: 42 });
    const noId = structuredClone(body);
    delete noId.id;
    expectRejected(s, "Response", noId);
    expectRejected(s, "Response", { ...structuredClone(body), status: 42 });
    expectRejected(s, "Response", {
      ...structuredClone(body),
      output: [{ type: "code_interpreter_call", id: "ci_x" }],
    });
    const badAnnotation = structuredClone(body);
    const message = badAnnotation.output.findLast((o: any) => o.type === "message");
    message.content[0].annotations = [{ type: "container_file_citation", file_id: "cfile_x" }];
    expectRejected(s, "Response", badAnnotation);
  });

  it("GET /v1/responses/{id} with include, and its input items, validate", async () => {
    const created = await client.responses.create({ model: "gpt-5", input: prompt("scenario=one-file"), tools: TOOLS });
    const retrieved = await client.responses
      .retrieve(created.id, { include: ["code_interpreter_call.outputs"] })
      .asResponse();
    expect(retrieved.status).toBe(200);
    expectConforms(s, "Response", observedResponse(await retrieved.json()));

    const items = await client.responses.inputItems.list(created.id).asResponse();
    expect(items.status).toBe(200);
    const list = (await items.json()) as Record<string, unknown>;
    expectConforms(s, "ResponseItemList", list);
    expect(expectEachRequiredEnforced(s, "ResponseItemList", list)).toBeGreaterThan(0);
    expectRejected(s, "ResponseItemList", { ...list, object: "not-a-list" });
  });

  it.each(SCENARIOS)("every SSE event (scenario %s) validates against the schema its type names", async (scenario) => {
    const stream = await client.responses.create({
      model: "gpt-5",
      input: prompt(`scenario=${scenario}`),
      tools: TOOLS,
      include: ["code_interpreter_call.outputs"],
      stream: true,
    });
    const types = await validateStream(stream);
    expect(types[0]).toBe("response.created");
    expect(types.at(-1)).toBe("response.completed");
    if (scenario === "one-file") expect(types).toEqual(expect.arrayContaining(FILE_TURN_EVENTS));
  });

  /** The hosted shell tool (OpenAI API reference, "Shell tool"): the same container files, shown as shell items. */
  const SHELL_TURN_EVENTS = [
    "response.output_item.added",
    "response.shell_call_command.added",
    "response.shell_call_command.delta",
    "response.shell_call_command.done",
    "response.shell_call_output_content.delta",
    "response.shell_call_output_content.done",
    "response.output_item.done",
  ];

  it.each(["one-file", "skill-document"])(
    "the hosted shell tool (scenario %s): the plain body and every SSE event validate",
    async (scenario) => {
      const container = await client.containers.create({ name: "spec-shell" });
      for (const environment of [
        { type: "container_auto" },
        { type: "container_reference", container_id: container.id },
      ]) {
        const tools = [{ type: "shell", environment }] as never;
        const res = await client.responses
          .create({ model: "gpt-5", input: prompt(`scenario=${scenario}`), tools })
          .asResponse();
        expect(res.status).toBe(200);
        const body = (await res.json()) as Record<string, any>;
        expectConforms(s, "Response", observedResponse(body));
        const call = body.output.find((o: any) => o.type === "shell_call");
        expect(call.environment.type).toBe("container_reference");
        expect(call.environment.container_id).toMatch(/^cntr_/);
        if (environment.type === "container_reference") expect(call.environment.container_id).toBe(container.id);
        const output = body.output.find((o: any) => o.type === "shell_call_output");
        expect(output.call_id).toBe(call.call_id);
        expectRejected(s, "Response", {
          ...structuredClone(body),
          output: [{ ...call, environment: { type: "container_reference" } }],
        });

        const types = await validateStream(
          await client.responses.create({ model: "gpt-5", input: prompt(`scenario=${scenario}`), tools, stream: true }),
        );
        // The shell items' events in the order the spec's stream lists them, inside each item.
        const at = types.indexOf("response.shell_call_command.added");
        const run = types.slice(at - 1).filter((t, i, all) => SHELL_TURN_EVENTS.includes(t) && t !== all[i - 1]);
        expect(run.slice(0, 4)).toEqual(SHELL_TURN_EVENTS.slice(0, 4));
        expect(types).toEqual(expect.arrayContaining(SHELL_TURN_EVENTS));
        expect(types.at(-1)).toBe("response.completed");
      }
    },
  );

  it("WebSocket mode: a response.create's events validate like the SSE stream's (stream_id echoed), a refusal is a ResponseWsError", async () => {
    const rs = new ResponsesWS(client);
    const events: Record<string, any>[] = [];
    const errors: Record<string, any>[] = [];
    rs.on("event", (e) => {
      events.push(e as never);
    });
    rs.on("error", (err) => {
      errors.push((err as { error?: Record<string, any> }).error ?? {});
    });
    rs.send({
      type: "response.create",
      stream_id: "lane_a",
      model: "gpt-5",
      input: prompt("scenario=one-file"),
      tools: TOOLS,
    } as never);
    rs.send({ type: "response.create", model: "gpt-5", input: "x", previous_response_id: "resp_missing" } as never);
    for (let i = 0; i < 400 && (!events.some((e) => e.type === "response.completed") || errors.length < 1); i++)
      await new Promise((r) => setTimeout(r, 25));
    rs.close({ code: 1000, reason: "done" });
    const stream = events.filter((e) => e.type !== "error");
    async function* replay() {
      for (const e of stream) {
        expect(e.stream_id).toBe("lane_a");
        // The WebSocket variants are the SSE schemas plus `stream_id` (ResponsesServerEvent); a
        // keepalive, in no schema, is checked for its observed keys, which have no stream_id.
        if (e.type !== "keepalive") yield e;
        else {
          const { stream_id: _, ...keepalive } = e;
          yield keepalive;
        }
      }
    }
    const types = await validateStream(replay());
    expect(types).toEqual(expect.arrayContaining(FILE_TURN_EVENTS));
    expect(errors.length).toBe(1);
    expectConforms(s, "ResponseWsError", errors[0]);
    expect(errors[0]).toMatchObject({
      type: "error",
      status: 400,
      error: { code: "previous_response_not_found", param: "previous_response_id" },
    });
  });

  it("responses.stream() with finalResponse(): the final Response validates", async () => {
    const stream = client.responses.stream({ model: "gpt-5", input: prompt("scenario=one-file"), tools: TOOLS });
    const final = await stream.finalResponse();
    // The SDK adds `output_text` (a convenience, not on the wire; facts §5.1); the spec lists it too.
    expectConforms(s, "Response", observedResponse(final));
  });

  it("background: queued, polled, cancelled and resumed-stream bodies validate", async () => {
    const queued = (await client.responses
      .create({ model: "gpt-5", input: prompt("scenario=one-file"), tools: TOOLS, background: true })
      .asResponse()
      .then((r) => r.json())) as Record<string, any>;
    expect(["queued", "in_progress"]).toContain(queued.status);
    expectConforms(s, "Response", observedResponse(queued));
    let polled: Record<string, any> = queued;
    for (let i = 0; i < 600 && ["queued", "in_progress"].includes(polled.status); i++) {
      await new Promise((r) => setTimeout(r, 100));
      polled = (await client.responses
        .retrieve(queued.id)
        .asResponse()
        .then((r) => r.json())) as Record<string, any>;
      expectConforms(s, "Response", observedResponse(polled));
    }
    expect(polled.status).toBe("completed");

    const toCancel = await client.responses.create({
      model: "gpt-5",
      input: prompt("scenario=one-file"),
      tools: TOOLS,
      background: true,
    });
    const cancelled = await client.responses.cancel(toCancel.id).asResponse();
    expect(cancelled.status).toBe(200);
    expectConforms(s, "Response", observedResponse(await cancelled.json()));

    const streamed = await client.responses.create({
      model: "gpt-5",
      input: prompt("scenario=one-file"),
      tools: TOOLS,
      background: true,
      stream: true,
    });
    const first = await validateStream(streamed);
    expect(first).toContain("response.queued");
    expect(first.at(-1)).toBe("response.completed");
  });

  it("a resumed background stream validates and keeps its original sequence numbers", async () => {
    const stream = await client.responses.create({
      model: "gpt-5",
      input: prompt("scenario=one-file"),
      tools: TOOLS,
      background: true,
      stream: true,
    });
    let id = "";
    const original: number[] = [];
    for await (const event of stream) {
      original.push(event.sequence_number);
      if (event.type === "response.created") id = event.response.id;
    }
    expect(id).toMatch(/^resp_/);
    const resumed = await client.responses.retrieve(id, { stream: true, starting_after: 3 });
    const types = await validateStream(resumed, 4);
    expect(types.length).toBe(original.length - 4);
    expect(types.at(-1)).toBe("response.completed");
  });

  it("a failing turn: the error event (nested as real traffic nests it) and response.failed validate", async () => {
    const failing = (quirks: string) =>
      client.responses
        .create({ model: "gpt-5", input: prompt(`scenario=fail${quirks}`), tools: TOOLS, stream: true })
        .asResponse()
        .then(readSse);

    const frames = await failing("");
    expect(frames.map((f) => f.event)).toEqual(frames.map((f) => f.data.type));
    const error = frames.find((f) => f.data.type === "error")!.data as Record<string, any>;
    // Real traffic nests the payload (facts §3.2, CAP-VE); the spec's ResponseErrorEvent is flat.
    expect(error.error).toBeTypeOf("object");
    expectRejected(s, "ResponseErrorEvent", error);
    const { error: nested, ...rest } = error;
    expectConforms(s, "ResponseErrorEvent", {
      ...rest,
      code: nested.code,
      message: nested.message,
      param: nested.param,
    });
    const failed = frames.find((f) => f.data.type === "response.failed")!.data;
    expectConforms(s, "ResponseFailedEvent", observedEvent(failed));
    expect((failed.response as { status: string }).status).toBe("failed");

    const flat = await failing("; quirks=-nested_error_event");
    const flatError = flat.find((f) => f.data.type === "error")!.data;
    expectConforms(s, "ResponseErrorEvent", flatError);
    expect(expectEachRequiredEnforced(s, "ResponseErrorEvent", flatError)).toBe(5);

    // The SDK turns the error event into a thrown APIError (openai-node ≥ 7.5.0, facts §5.1).
    const stream = await client.responses.create({
      model: "gpt-5",
      input: prompt("scenario=fail"),
      tools: TOOLS,
      stream: true,
    });
    await expect(
      (async () => {
        for await (const _ of stream);
      })(),
    ).rejects.toBeInstanceOf(OpenAI.APIError);
  });

  it("negative controls: every event schema seen rejects a copy missing each required field", () => {
    expect(eventSamples.size).toBeGreaterThanOrEqual(FILE_TURN_EVENTS.length - 2);
    for (const [name, sample] of eventSamples) {
      expect(expectEachRequiredEnforced(s, name, sample), `${name} requires something`).toBeGreaterThan(1);
      expectRejected(s, name, { ...sample, sequence_number: "1" });
    }
  });
});
