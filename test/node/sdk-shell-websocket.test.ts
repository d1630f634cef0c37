/**
 * The official `openai` SDK against `npm start` (unsandbox and the simulated upstream as processes,
 * test/node/browser/support/unsandbox-process.ts): a conversation with the hosted `shell` tool,
 * plain and streamed, whose documents (including two the text never mentions) download after the
 * container expired, and a session over the SDK's own Responses WebSocket client (`ResponsesWS`,
 * the Node `ws` transport) whose answers' links download too.
 */
import { createHash } from "node:crypto";
import OpenAI from "openai";
import { ResponsesWS } from "openai/resources/responses/ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUnsandbox, type Unsandbox } from "./browser/support/unsandbox-process";

const KEY = "usk_local_0123456789abcdef";
const SHELL = [{ type: "shell", environment: { type: "container_auto" } }] as never;
type File = { file_id: string | null; path: string; url: string; state: string };
type Truth = { container_id: string | null; written: { file_id: string; path: string; sha256: string }[] };

let unsandbox: Unsandbox;
let client: OpenAI;

beforeAll(async () => {
  unsandbox = await startUnsandbox(() => ({}));
  client = new OpenAI({ apiKey: KEY, baseURL: `${unsandbox.origin}/v1`, maxRetries: 0 });
}, 240_000);
afterAll(async () => {
  await unsandbox?.stop();
});

async function simJson<T>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(
    `${unsandbox.simOrigin}/__sim${path}`,
    body === undefined
      ? {}
      : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) },
  );
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

/** Every file upstream wrote is stored (the manifest waits), the container expires, and each downloads with upstream's bytes. */
async function expectAllDownloadAfterExpiry(responseId: string) {
  const truth = await simJson<Truth>(`/responses/${responseId}`);
  expect(truth.written.length).toBeGreaterThan(0);
  let files: File[] = [];
  // Files the text never names are found by the trackers' sweeps once upstream lists them (late).
  for (let i = 0; i < 120; i++) {
    const res = await fetch(`${unsandbox.origin}/v1/responses/${responseId}/files`, {
      headers: { authorization: `Bearer ${KEY}`, "x-unsandbox-wait-ms": "5000" },
    });
    files = ((await res.json()) as { data: File[] }).data;
    if (truth.written.every((w) => files.find((f) => f.file_id === w.file_id)?.state === "stored")) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  await simJson(`/containers/${truth.container_id}/expire`, {});
  for (const w of truth.written) {
    const file = files.find((f) => f.file_id === w.file_id);
    expect(file?.state, w.path).toBe("stored");
    const got = await fetch(file!.url);
    expect(got.status, w.path).toBe(200);
    expect(
      createHash("sha256")
        .update(Buffer.from(await got.arrayBuffer()))
        .digest("hex"),
      w.path,
    ).toBe(w.sha256);
  }
  return truth;
}

const textOf = (r: { output: unknown[] }) =>
  (r.output as { type: string; content?: { text?: string }[] }[])
    .flatMap((i) => (i.type === "message" ? (i.content ?? []).map((p) => p.text ?? "") : []))
    .join("\n");

describe("the official SDK against npm start", () => {
  it("the hosted shell tool, plain and streamed: every document downloads after the container expired", async () => {
    const plain = await client.responses.create({
      model: "gpt-5",
      input: "Write the quarterly documents.\nsim: scenario=skill-document",
      tools: SHELL,
    });
    expect(plain.output.some((i) => i.type === "shell_call")).toBe(true);
    expect(textOf(plain)).not.toContain("sandbox:");
    expect(textOf(plain)).not.toContain("brief.docx");
    const truth = await expectAllDownloadAfterExpiry(plain.id);
    expect(truth.written.map((w) => w.path.split("/").pop()).sort()).toEqual([
      "brief.docx",
      "deck.pptx",
      "figures.xlsx",
    ]);

    const stream = client.responses.stream({
      model: "gpt-5",
      input: "Once more.\nsim: scenario=skill-document; files=plan.xlsx,memo.docx",
      tools: SHELL,
    });
    const types = new Set<string>();
    for await (const e of stream) types.add(e.type);
    expect(types).toContain("response.shell_call_command.delta");
    const streamed = await stream.finalResponse();
    expect(textOf(streamed)).not.toContain("sandbox:");
    await expectAllDownloadAfterExpiry(streamed.id);
  });

  it("a session over the SDK's Responses WebSocket client: two answers on one socket, their links download", async () => {
    const rs = new ResponsesWS(client);
    const done: { id: string; output: unknown[] }[] = [];
    const errors: unknown[] = [];
    rs.on("event", (e) => {
      if (e.type === "response.completed") done.push(e.response as never);
    });
    rs.on("error", (err) => {
      errors.push(err);
    });
    const tools = [{ type: "code_interpreter", container: { type: "auto" } }] as never;
    rs.send({
      type: "response.create",
      model: "gpt-5",
      input: "Make it.\nsim: scenario=one-file; files=ws.csv",
      tools,
    } as never);
    for (let i = 0; i < 600 && done.length < 1; i++) await new Promise((r) => setTimeout(r, 50));
    rs.send({
      type: "response.create",
      model: "gpt-5",
      input: "And a figure.\nsim: scenario=figure",
      tools,
      previous_response_id: done[0]?.id,
    } as never);
    for (let i = 0; i < 600 && done.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect(errors).toEqual([]);
    expect(done.length).toBe(2);
    for (const r of done) {
      expect(textOf(r)).toContain(`${unsandbox.origin}/files/`);
      expect(textOf(r)).not.toContain("sandbox:");
      await expectAllDownloadAfterExpiry(r.id);
    }
    rs.close({ code: 1000, reason: "done" });
  });
});
