/**
 * WebSocket mode (`GET /v1/responses` with `Upgrade: websocket`), through the official SDK's
 * Responses WebSocket client (its `ResponsesWSBase` over a workerd socket: support/sdk-socket.ts)
 * and with exactly the frames it sends over a raw socket. Two responses on one
 * socket come back one for one with upstream's events and sequence numbers, links rewritten,
 * files stored and downloadable after the container expired; refused events get the protocol's
 * `error` event and the socket stays usable.
 */
import { describe, expect, it } from "vitest";
import { exports } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { ENV as PRODUCTION_ENV, usage } from "../support/worker";
import app from "../../../src/index";
import { findSandboxRefs } from "../../../src/links/find";
import { sim, unsandbox, UNSANDBOX_KEY } from "../support/clients";
import { WorkerdResponsesWS } from "../support/sdk-socket";
import {
  converge,
  expectDownloadsAfterExpiry,
  expectOnlyLinksRewritten,
  textsOf,
  TOOLS,
  truthOf,
  upstreamCopy,
  type AnswerFile,
} from "../support/scenario";
import { ENVS, makeTenant, sdk } from "../support/tenants";

type Event = {
  type: string;
  sequence_number?: number;
  response?: { id: string; output: unknown[]; unsandbox?: { files: AnswerFile[] } };
  status?: number;
  error?: { code: string | null; param: string | null; type: string };
};

/** A socket to unsandbox, as the SDK opens it (`Authorization: Bearer`, `Upgrade: websocket`). */
async function connect(key = UNSANDBOX_KEY, mode?: "multi") {
  const req = new Request("https://unsandbox.test/v1/responses", {
    headers: { upgrade: "websocket", authorization: `Bearer ${key}` },
  });
  const res = mode
    ? await app.fetch(req, ENVS[mode] as never, createExecutionContext())
    : await exports.default.fetch(req);
  expect(res.status).toBe(101);
  const ws = res.webSocket!;
  ws.accept();
  const events: Event[] = [];
  let closed = false;
  ws.addEventListener("message", (m) => {
    events.push(JSON.parse(m.data as string) as Event);
  });
  ws.addEventListener("close", () => {
    closed = true;
  });
  return {
    events,
    get closed() {
      return closed;
    },
    send: (event: unknown) => ws.send(typeof event === "string" ? event : JSON.stringify(event)),
    /** Waits (bounded) until `count` events satisfy `pred`. */
    async until(pred: (e: Event) => boolean, count = 1) {
      for (let i = 0; i < 600 && events.filter(pred).length < count; i++) await new Promise((r) => setTimeout(r, 50));
      expect(events.filter(pred).length).toBeGreaterThanOrEqual(count);
    },
    close: () => ws.close(1000, "done"),
  };
}

/** Waits (bounded) until `done()`. */
async function until(done: () => boolean) {
  for (let i = 0; i < 600 && !done(); i++) await new Promise((r) => setTimeout(r, 50));
  expect(done()).toBe(true);
}

const create = (input: string, extra: Record<string, unknown> = {}) => ({
  type: "response.create",
  model: "gpt-5",
  input,
  tools: TOOLS,
  ...extra,
});

describe("WebSocket mode", () => {
  it("the official SDK's client: two responses on one socket, their links download after expiry; a refused create is an SDK error and the socket goes on", async () => {
    const rs = new WorkerdResponsesWS(unsandbox(), (req) => exports.default.fetch(req));
    const events: Event[] = [];
    const errors: { message: string; error?: Event }[] = [];
    rs.on("event", (e) => {
      events.push(e as Event);
    });
    rs.on("error", (err) => {
      errors.push(err as never);
    });
    const completed = (n: number) => until(() => events.filter((e) => e.type === "response.completed").length >= n);
    rs.send({
      type: "response.create",
      model: "gpt-5",
      input: "Make it.\nsim: scenario=one-file; files=first.csv",
      tools: TOOLS,
    } as never);
    await completed(1);
    rs.send({ type: "response.create", model: "gpt-5", input: "x", previous_response_id: "resp_../../etc" } as never);
    await until(() => errors.length >= 1);
    expect(errors[0]!.error).toMatchObject({
      type: "error",
      status: 400,
      error: { code: "invalid_value", param: "previous_response_id" },
    });
    rs.send({
      type: "response.create",
      model: "gpt-5",
      input: "Another.\nsim: scenario=one-file; files=second.csv",
      tools: TOOLS,
    } as never);
    await completed(2);
    const finals = events.filter((e) => e.type === "response.completed").map((e) => e.response!);
    expect(finals.map((f) => f.unsandbox!.files.map((x) => x.path))).toEqual([
      ["/mnt/data/first.csv"],
      ["/mnt/data/second.csv"],
    ]);
    for (const final of finals) {
      for (const p of textsOf(final)) expect(findSandboxRefs(p.text!)).toEqual([]);
      const truth = await truthOf(final.id);
      await expectDownloadsAfterExpiry(await converge(final.id, truth), truth);
    }
    rs.close({ code: 1000, reason: "done" });
  });

  it("two response.create in sequence on one socket: upstream's events one for one, links rewritten, files download after expiry", async () => {
    const s = await connect();
    s.send(create("Make the files.\nsim: scenario=several-files"));
    s.send(create("And one more.\nsim: scenario=unnamed"));
    await s.until((e) => e.type === "response.completed", 2);
    const finals = s.events.filter((e) => e.type === "response.completed").map((e) => e.response!);
    expect(finals[0]!.id).not.toBe(finals[1]!.id);
    // Each response's events are upstream's, in order, with upstream's sequence numbers.
    let at = 0;
    for (const final of finals) {
      const upstream = (
        await sim<{ data: { type: string; sequence_number: number }[] }>(`/responses/${final.id}/events`)
      ).data;
      const ours = s.events.slice(at, at + upstream.length);
      expect(ours.map((e) => [e.type, e.sequence_number])).toEqual(upstream.map((e) => [e.type, e.sequence_number]));
      at += upstream.length;
    }
    expect(at).toBe(s.events.length);

    const [first, second] = finals as [NonNullable<Event["response"]>, NonNullable<Event["response"]>];
    for (const p of textsOf(first)) expect(findSandboxRefs(p.text!)).toEqual([]);
    expect(expectOnlyLinksRewritten(first, (await upstreamCopy(first.id)) as never)).toBe(3);
    expect(first.unsandbox!.files.length).toBe(3);
    for (const final of [first, second]) {
      const truth = await truthOf(final.id);
      const files = await converge(final.id, truth);
      await expectDownloadsAfterExpiry(files, truth);
    }
    // The socket is still open for more.
    expect(s.closed).toBe(false);
    s.close();
  });

  it("a later turn over the socket continues the conversation (previous_response_id) and restores its own links", async () => {
    const s = await connect();
    s.send(create("Make it.\nsim: scenario=one-file; files=table.csv"));
    await s.until((e) => e.type === "response.completed");
    const first = s.events.find((e) => e.type === "response.completed")!.response!;
    // The app sends back the answer's message with unsandbox's URL in it, as many apps keep history.
    const message = first.output.find(
      (i) => (i as { type: string }).type === "message" && (i as { phase?: string }).phase === "final_answer",
    ) as { content: { text: string }[] };
    const history = [{ role: "assistant", content: [{ type: "output_text", text: message.content[0]!.text }] }];
    s.send(
      create("", {
        previous_response_id: first.id,
        input: [...history, { role: "user", content: "Link it again.\nsim: scenario=later-turn-link" }],
      }),
    );
    await s.until((e) => e.type === "response.completed", 2);
    const second = s.events.filter((e) => e.type === "response.completed")[1]!.response!;
    const upstreamInput = (await (
      await fetch(`https://api.openai.com/v1/responses/${second.id}/input_items?order=asc`, {
        headers: { authorization: "Bearer sk-sim-test" },
      })
    ).json()) as { data: { role?: string; content: { text?: string }[] }[] };
    const assistant = upstreamInput.data.find((i) => i.role === "assistant")!;
    expect(assistant.content[0]!.text).toContain("sandbox:/mnt/data/table.csv");
    expect(assistant.content[0]!.text).not.toContain("files.unsandbox.test");
    expect(
      textsOf(second)
        .map((p) => p.text)
        .join(""),
    ).toContain("https://files.unsandbox.test/files/");
    s.close();
  });

  it("a client that goes away after the tool call still gets every file stored (its response handed to the trackers)", async () => {
    const s = await connect();
    s.send(create("sim: scenario=unnamed; pace_ms=60"));
    await s.until(
      (e) =>
        e.type === "response.output_item.done" &&
        (e as { item?: { type?: string } }).item?.type === "code_interpreter_call",
    );
    const responseId = s.events.find((e) => e.type === "response.created")!.response!.id;
    s.close();
    expect(s.events.some((e) => e.type === "response.completed")).toBe(false);
    const truth = await truthOf(responseId);
    expect(truth.written.length).toBeGreaterThan(0);
    const files = await converge(responseId, truth);
    for (const w of truth.written) expect(files.find((f) => f.file_id === w.file_id)?.state, w.path).toBe("stored");
  });

  it("response.steer: relayed for the caller's own response; the successor upstream starts is harvested like any response", async () => {
    const s = await connect();
    s.send(create("Make it.\nsim: scenario=one-file; files=before.csv; pace_ms=40"));
    await s.until((e) => e.type === "response.created");
    const first = s.events.find((e) => e.type === "response.created")!.response!.id;
    s.send({
      type: "response.steer",
      previous_response_id: first,
      input: "Also this.\nsim: scenario=one-file; files=steered.csv",
    });
    await s.until((e) => e.type === "response.completed", 2);
    expect(s.events.some((e) => e.type === "response.steer.accepted")).toBe(true);
    const [a, b] = s.events.filter((e) => e.type === "response.completed").map((e) => e.response!) as [
      NonNullable<Event["response"]>,
      NonNullable<Event["response"]> & { previous_response_id?: string },
    ];
    expect(a.id).toBe(first);
    expect(b.previous_response_id).toBe(first);
    // Both responses' events are upstream's one for one (the accepted steer numbered in the first).
    for (const id of [a.id, b.id]) {
      const upstream = (await sim<{ data: { type: string; sequence_number: number }[] }>(`/responses/${id}/events`))
        .data;
      const from = s.events.findIndex((e) => e.type === "response.created" && e.response!.id === id);
      expect(s.events.slice(from, from + upstream.length).map((e) => [e.type, e.sequence_number])).toEqual(
        upstream.map((e) => [e.type, e.sequence_number]),
      );
    }
    expect(b.unsandbox!.files.map((f) => f.path)).toContain("/mnt/data/steered.csv");
    expect(expectOnlyLinksRewritten(b, (await upstreamCopy(b.id)) as never)).toBe(1);
    const truth = await truthOf(b.id);
    await expectDownloadsAfterExpiry(await converge(b.id, truth), truth);
    // Steering a response this socket is not streaming is upstream's to refuse, and the socket goes on.
    s.send({ type: "response.steer", previous_response_id: first, input: "late" });
    await s.until((e) => e.type === "response.steer.failed");
    expect(s.closed).toBe(false);
    s.close();
  });

  it("each response a socket runs is metered as one model request; refused ones are not", async () => {
    const before = (await usage()).totals.model_requests ?? 0;
    const req = new Request("https://unsandbox.test/v1/responses", {
      headers: { upgrade: "websocket", authorization: `Bearer ${UNSANDBOX_KEY}` },
    });
    const ctx = createExecutionContext();
    const res = await app.fetch(req, PRODUCTION_ENV, ctx);
    const ws = res.webSocket!;
    ws.accept();
    const seen: Event[] = [];
    ws.addEventListener("message", (m) => {
      seen.push(JSON.parse(m.data as string) as Event);
    });
    ws.send(JSON.stringify(create("sim: scenario=no-tool")));
    ws.send(JSON.stringify(create("x", { previous_response_id: "resp_missing_0123" })));
    ws.send(JSON.stringify(create("sim: scenario=no-tool")));
    await until(
      () => seen.filter((e) => e.type === "response.completed").length === 2 && seen.some((e) => e.type === "error"),
    );
    ws.close(1000, "done");
    await waitOnExecutionContext(ctx);
    expect((await usage()).totals.model_requests - before).toBe(2);
  });

  it("refused events (foreign previous_response_id, bad JSON, unknown type) get an error event; the socket stays usable", async () => {
    const [a, b] = await Promise.all([makeTenant(), makeTenant()]);
    const foreign = await sdk("multi", a.secret).responses.create({ model: "gpt-5", input: "sim: scenario=no-tool" });
    const s = await connect(b.secret, "multi");
    s.send(create("sim: scenario=no-tool", { previous_response_id: foreign.id, stream_id: "lane_1" }));
    s.send("{not json");
    s.send({ type: "session.update" });
    s.send({ type: "response.steer", previous_response_id: foreign.id, input: "x" });
    await s.until((e) => e.type === "error", 4);
    const errors = s.events.filter((e) => e.type === "error");
    expect(
      errors.map((e) => ({
        status: e.status,
        code: e.error?.code,
        param: e.error?.param,
        stream_id: (e as { stream_id?: string }).stream_id,
      })),
    ).toEqual([
      { status: 404, code: "not_found", param: "previous_response_id", stream_id: "lane_1" },
      { status: 400, code: "invalid_json", param: null, stream_id: undefined },
      { status: 400, code: "invalid_value", param: "type", stream_id: undefined },
      { status: 404, code: "not_found", param: "previous_response_id", stream_id: undefined },
    ]);
    // Nothing of the refused create reached upstream, and the same socket still works.
    s.send(create("Make it.\nsim: scenario=one-file", { stream_id: "lane_1" }));
    await s.until((e) => e.type === "response.completed");
    const done = s.events.find((e) => e.type === "response.completed")! as Event & { stream_id?: string };
    expect(done.stream_id).toBe("lane_1");
    expect(done.response!.unsandbox!.files.length).toBe(1);
    // Its response is B's now: B reads it back over HTTP, A may not.
    expect((await sdk("multi", b.secret).responses.retrieve(done.response!.id)).id).toBe(done.response!.id);
    const refused = await sdk("multi", a.secret)
      .responses.retrieve(done.response!.id)
      .then(
        () => null,
        (e: { status?: number }) => e.status,
      );
    expect(refused).toBe(404);
    expect(s.closed).toBe(false);
    s.close();
  });
});
