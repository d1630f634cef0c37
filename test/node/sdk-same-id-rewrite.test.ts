/**
 * The official `openai` SDK against `npm start` (unsandbox and the simulated upstream as processes,
 * test/node/browser/support/unsandbox-process.ts), with the simulator's switch `same_id_rewrite`:
 * turn 2 (`previous_response_id`, streamed) rewrites the file turn 1 (plain) wrote, and upstream
 * keeps its id and `created_at`. Each turn's link downloads its own turn's bytes, before and after
 * the container expired, and each turn's manifest reports its own sha256 (docs/assumptions.md §4).
 */
import { createHash } from "node:crypto";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUnsandbox, type Unsandbox } from "./browser/support/unsandbox-process";

const KEY = "usk_local_0123456789abcdef";
/** Ports of this suite's own (unsandbox, simulator), apart from a developer's 8787/8788. */
const PORTS = [9131, 9132] as const;
const TOOLS = [{ type: "code_interpreter" as const, container: { type: "auto" as const } }];
const PATH = "/mnt/data/report.csv";
const SAME_ID = "; quirks=+same_id_rewrite";
type File = { file_id: string | null; path: string; url: string; state: string; sha256: string | null };
type Truth = { container_id: string | null; written: { file_id: string; path: string; sha256: string }[] };
type Answer = { id: string; output: unknown[] };

let unsandbox: Unsandbox;
let client: OpenAI;

beforeAll(async () => {
  unsandbox = await startUnsandbox(() => ({}), PORTS);
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

/** The response's manifest entry for the path, once it is stored (the route waits for copies). */
async function storedEntry(responseId: string): Promise<File | undefined> {
  let entry: File | undefined;
  for (let i = 0; i < 60 && entry?.state !== "stored"; i++) {
    const res = await fetch(`${unsandbox.origin}/v1/responses/${responseId}/files`, {
      headers: { authorization: `Bearer ${KEY}`, "x-unsandbox-wait-ms": "5000" },
    });
    entry = ((await res.json()) as { data: File[] }).data.find((f) => f.path === PATH);
  }
  return entry;
}

const linkIn = (r: Answer) =>
  (r.output as { type: string; content?: { text?: string }[] }[])
    .flatMap((i) => (i.type === "message" ? (i.content ?? []).map((p) => p.text ?? "") : []))
    .join("\n")
    .match(/https?:\/\/[^\s)]+\/files\/[^\s)]+/)?.[0];

async function sha256Of(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status, url).toBe(200);
  return createHash("sha256")
    .update(Buffer.from(await res.arrayBuffer()))
    .digest("hex");
}

describe("the official SDK against npm start, upstream keeping a rewritten file's id", () => {
  it("turn 1's link serves turn 1's bytes and turn 2's link turn 2's, after the container expired too", async () => {
    const t1 = (await client.responses.create({
      model: "gpt-5",
      input: `Make the report.\nsim: scenario=one-file; files=report.csv${SAME_ID}`,
      tools: TOOLS,
    })) as unknown as Answer;
    const truth1 = await simJson<Truth>(`/responses/${t1.id}`);
    const m1 = await storedEntry(t1.id);
    expect(m1?.sha256).toBe(truth1.written[0]!.sha256);

    const stream = client.responses.stream({
      model: "gpt-5",
      input: `Redo it with new data.\nsim: scenario=rewrite-same-path${SAME_ID}`,
      tools: TOOLS,
      previous_response_id: t1.id,
    });
    for await (const _ of stream);
    const t2 = (await stream.finalResponse()) as unknown as Answer;
    const truth2 = await simJson<Truth>(`/responses/${t2.id}`);
    // Upstream rewrote the path in place: the same id, other bytes.
    expect(truth2.written[0]!.file_id).toBe(truth1.written[0]!.file_id);
    expect(truth2.written[0]!.sha256).not.toBe(truth1.written[0]!.sha256);

    const [u1, u2] = [linkIn(t1), linkIn(t2)];
    expect(u1 && u2 && u1 !== u2).toBe(true);
    expect(await sha256Of(u2!)).toBe(truth2.written[0]!.sha256);
    expect(await sha256Of(u1!)).toBe(truth1.written[0]!.sha256);
    const m2 = await storedEntry(t2.id);
    expect([m2?.file_id, m2?.state, m2?.sha256]).toEqual([
      truth1.written[0]!.file_id,
      "stored",
      truth2.written[0]!.sha256,
    ]);
    expect((await storedEntry(t1.id))?.sha256).toBe(truth1.written[0]!.sha256);

    await simJson(`/containers/${truth1.container_id}/expire`, {});
    expect(await sha256Of(u1!)).toBe(truth1.written[0]!.sha256);
    expect(await sha256Of(u2!)).toBe(truth2.written[0]!.sha256);
  }, 120_000);
});
