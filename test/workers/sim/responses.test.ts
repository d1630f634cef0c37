import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { api, client, control, sleep, sseEvents } from "../support/sim";

const CI_AUTO = [{ type: "code_interpreter" as const, container: { type: "auto" as const } }];

describe("POST /v1/responses through the official SDK", () => {
  it("plain: a message, the tool call, then a message with a link and its citation", async () => {
    const openai = client();
    const r = await openai.responses.create({
      model: "gpt-5",
      input: "make a report",
      tools: CI_AUTO,
      include: ["code_interpreter_call.outputs"],
    });
    expect(r.status).toBe("completed");
    expect(r.output.map((o) => o.type)).toEqual(["message", "code_interpreter_call", "message"]);
    const call = r.output[1] as OpenAI.Responses.ResponseCodeInterpreterToolCall;
    expect(call.container_id).toMatch(/^cntr_/);
    expect(call.outputs).toEqual([{ type: "logs", logs: "/mnt/data/report.pdf" }]);
    const msg = r.output[2] as OpenAI.Responses.ResponseOutputMessage;
    const text = msg.content[0] as OpenAI.Responses.ResponseOutputText;
    expect(text.text).toBe("Here is your file: [report.pdf](sandbox:/mnt/data/report.pdf)");
    const a = text.annotations[0] as any;
    expect(a.type).toBe("container_file_citation");
    expect(text.text.slice(a.start_index, a.end_index)).toBe("sandbox:/mnt/data/report.pdf");
    expect(r.tools).toEqual(CI_AUTO); // echoed as sent, not resolved
    const truth = await control(`/responses/${r.id}`);
    expect(truth.container_id).toBe(call.container_id);
    expect(truth.written).toHaveLength(1);
    expect(truth.written[0].file_id).toBe(a.file_id);
    expect(truth.cited).toEqual([a.file_id]);
    expect(truth.claimed).toEqual(["/mnt/data/report.pdf"]);
  });

  it("outputs are null without include", async () => {
    const r = await client().responses.create({ model: "gpt-5", input: "x", tools: CI_AUTO });
    expect((r.output[1] as any).outputs).toBeNull();
  });

  it("previous_response_id continues in the same container; an explicit container id is used as given", async () => {
    const openai = client();
    const r1 = await openai.responses.create({ model: "gpt-5", input: "one", tools: CI_AUTO });
    const r2 = await openai.responses.create({
      model: "gpt-5",
      input: "two",
      tools: CI_AUTO,
      previous_response_id: r1.id,
    });
    const cid = (r1.output[1] as any).container_id;
    expect((r2.output[1] as any).container_id).toBe(cid);
    const r3 = await openai.responses.create({
      model: "gpt-5",
      input: "three",
      tools: [{ type: "code_interpreter", container: cid }],
    });
    expect((r3.output[1] as any).container_id).toBe(cid);
  });

  it("stream() with finalResponse(): real event order, contiguous sequence numbers", async () => {
    const openai = client();
    const stream = openai.responses.stream({
      model: "gpt-5",
      input: "stream it",
      tools: CI_AUTO,
      include: ["code_interpreter_call.outputs"],
    });
    const types: string[] = [];
    const seqs: number[] = [];
    for await (const e of stream) {
      types.push(e.type);
      seqs.push(e.sequence_number);
    }
    const final = await stream.finalResponse();
    expect(final.status).toBe("completed");
    expect(seqs).toEqual(seqs.map((_, i) => i));
    expect(types[0]).toBe("response.created");
    expect(types.at(-1)).toBe("response.completed");
    const ci = types.indexOf("response.code_interpreter_call.in_progress");
    expect(types.indexOf("response.code_interpreter_call_code.delta")).toBeGreaterThan(ci);
    expect(types.indexOf("response.code_interpreter_call.interpreting")).toBeGreaterThan(
      types.indexOf("response.code_interpreter_call_code.done"),
    );
    const text = (final.output[2] as any).content[0];
    expect(text.text).toBe("Here is your file: [report.pdf](sandbox:/mnt/data/report.pdf)");
    expect(text.annotations).toHaveLength(1);
  });

  it("the raw stream: SSE framing, container id on the tool call's first event, no [DONE]", async () => {
    const res = await api("/responses", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-5", input: "x", tools: CI_AUTO, stream: true }),
    });
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const events = await sseEvents(res);
    for (const e of events) expect(e.data.type).toBe(e.event);
    const added = events.find(
      (e) => e.event === "response.output_item.added" && e.data.item.type === "code_interpreter_call",
    )!;
    expect(added.data.item).toMatchObject({ status: "in_progress", code: "", outputs: [] });
    expect(added.data.item.container_id).toMatch(/^cntr_/);
  });

  it("retrieve with and without include; input_items lists the input", async () => {
    const openai = client();
    const r = await openai.responses.create({ model: "gpt-5", input: "retrieve me", tools: CI_AUTO });
    const plain = await openai.responses.retrieve(r.id);
    expect((plain.output[1] as any).outputs).toBeNull();
    const full = await openai.responses.retrieve(r.id, { include: ["code_interpreter_call.outputs"] });
    expect((full.output[1] as any).outputs[0].type).toBe("logs");
    const items = await openai.responses.inputItems.list(r.id);
    expect(items.data).toHaveLength(1);
    expect((items.data[0] as any).content[0]).toEqual({ type: "input_text", text: "retrieve me" });
    await expect(openai.responses.retrieve("resp_nope")).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("background: queued → in_progress → completed, read lazily; the stream resumes after N", async () => {
    await control("/config"); // reachable
    const openai = client();
    const r = await openai.responses.create({ model: "gpt-5", input: "bg", tools: CI_AUTO, background: true });
    expect(r.status).toBe("queued");
    expect(r.output).toEqual([]);
    const seen = new Set<string>([r.status!]);
    let cur = r;
    for (let i = 0; i < 200 && cur.status !== "completed"; i++) {
      await sleep(20);
      cur = await openai.responses.retrieve(r.id);
      seen.add(cur.status!);
    }
    expect(cur.status).toBe("completed");
    expect(seen.has("in_progress")).toBe(true);
    const all = await sseEvents(await api(`/responses/${r.id}?stream=true`));
    expect(all[0]!.data.sequence_number).toBe(0);
    const resumed = await sseEvents(await api(`/responses/${r.id}?stream=true&starting_after=5`));
    expect(resumed[0]!.data.sequence_number).toBe(6);
    expect(resumed.map((e) => e.data.sequence_number)).toEqual(all.slice(6).map((e) => e.data.sequence_number));
    const sdkResumed = await openai.responses.retrieve(r.id, { stream: true, starting_after: 10 });
    const firstSeq: number[] = [];
    for await (const e of sdkResumed) firstSeq.push(e.sequence_number);
    expect(firstSeq[0]).toBe(11);
  });

  it("background + stream: starts with created(queued) and queued", async () => {
    const res = await api("/responses", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-5", input: "x", tools: CI_AUTO, stream: true, background: true }),
    });
    const events = await sseEvents(res);
    expect(events.slice(0, 3).map((e) => e.event)).toEqual([
      "response.created",
      "response.queued",
      "response.in_progress",
    ]);
    expect(events[0]!.data.response.status).toBe("queued");
    expect(events.at(-1)!.event).toBe("response.completed");
  });

  it("cancel: a running background response becomes cancelled; a plain one cannot be cancelled", async () => {
    const openai = client();
    const r = await openai.responses.create({ model: "gpt-5", input: "bg", tools: CI_AUTO, background: true });
    const c = await openai.responses.cancel(r.id);
    expect(c.status).toBe("cancelled");
    await sleep(50);
    expect((await openai.responses.retrieve(r.id)).status).toBe("cancelled");
    const p = await openai.responses.create({ model: "gpt-5", input: "x" });
    await expect(openai.responses.cancel(p.id)).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });
});

describe("strictness: the real statuses and error bodies", () => {
  const openai = client();
  const fail = (body: unknown) => openai.responses.create(body as never).catch((e) => e);

  it("unknown top-level parameter", async () => {
    const e = await fail({ model: "gpt-5", input: "x", bogus: 1 });
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    expect(e.error).toMatchObject({
      message: "Unknown parameter: 'bogus'.",
      param: "bogus",
      code: "unknown_parameter",
      type: "invalid_request_error",
    });
  });

  it("unknown parameter nested in an input item", async () => {
    const e = await fail({
      model: "gpt-5",
      input: [{ role: "user", content: [{ type: "input_text", text: "x", extra: true }] }],
    });
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    expect(e.param).toBe("input[0].content[0].extra");
  });

  it("a tool without container", async () => {
    const e = await fail({ model: "gpt-5", input: "x", tools: [{ type: "code_interpreter" }] });
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    expect(e.error.message).toBe("Missing required parameter: 'tools[0].container'.");
  });

  it("a bad include value", async () => {
    const e = await fail({ model: "gpt-5", input: "x", include: ["code_interpreter_call.bogus"] });
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    expect(e.param).toBe("include[0]");
    expect(e.code).toBe("invalid_value");
  });

  it("an item reference to nothing; a valid one and a replayed code_interpreter_call are accepted", async () => {
    const e = await fail({ model: "gpt-5", input: [{ type: "item_reference", id: "msg_nothing" }] });
    expect(e).toBeInstanceOf(OpenAI.NotFoundError);
    const r = await openai.responses.create({
      model: "gpt-5",
      input: "x",
      tools: CI_AUTO,
      include: ["code_interpreter_call.outputs"],
    });
    const ok = await openai.responses.create({
      model: "gpt-5",
      input: [{ type: "item_reference", id: r.output[0]!.id! }, r.output[1] as any, { role: "user", content: "again" }],
      tools: CI_AUTO,
    });
    expect(ok.status).toBe("completed");
  });

  it("missing or wrong bearer key", async () => {
    const wrong = new OpenAI({ apiKey: "sk-not-the-key", baseURL: "https://api.openai.com/v1", maxRetries: 0 });
    await expect(wrong.responses.create({ model: "gpt-5", input: "x" })).rejects.toBeInstanceOf(
      OpenAI.AuthenticationError,
    );
    const res = await fetch("https://api.openai.com/v1/responses", { method: "POST", body: "{}" });
    expect(res.status).toBe(401);
  });

  it("an expired container: 400 'Container is expired.' from /v1/responses", async () => {
    const r1 = await openai.responses.create({ model: "gpt-5", input: "x", tools: CI_AUTO });
    const cid = (r1.output[1] as any).container_id;
    await control(`/containers/${cid}/expire`, {});
    const e = await fail({ model: "gpt-5", input: "y", tools: CI_AUTO, previous_response_id: r1.id });
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    expect(e.error.message).toBe("Container is expired.");
    const e2 = await fail({ model: "gpt-5", input: "y", tools: [{ type: "code_interpreter", container: cid }] });
    expect(e2.error.message).toBe("Container is expired.");
  });
});

describe("store: false", () => {
  it("cannot be retrieved, chained or referenced afterwards", async () => {
    const openai = client();
    const r = await openai.responses.create({ model: "gpt-5", input: "x", tools: CI_AUTO, store: false });
    expect(r.status).toBe("completed");
    await expect(openai.responses.retrieve(r.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const chained = await openai.responses
      .create({ model: "gpt-5", input: "y", previous_response_id: r.id })
      .catch((e) => e);
    expect(chained).toBeInstanceOf(OpenAI.BadRequestError);
    const ref = await openai.responses
      .create({ model: "gpt-5", input: [{ type: "item_reference", id: r.output[1]!.id! }] })
      .catch((e) => e);
    expect(ref).toBeInstanceOf(OpenAI.NotFoundError);
    expect(ref.error.message).toContain("Items are not persisted when `store` is set to false");
    expect((await control(`/responses/${r.id}`)).written).toHaveLength(1);
  });

  it("previous_response_id with conversation is refused", async () => {
    const openai = client();
    const r = await openai.responses.create({ model: "gpt-5", input: "x" });
    const e = await openai.responses
      .create({ model: "gpt-5", input: "y", previous_response_id: r.id, conversation: "conv_1" })
      .catch((x) => x);
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
  });
});
