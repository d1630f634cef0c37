/**
 * Conversations through unsandbox with the official SDK: a turn with `conversation` and no tool
 * call that links a file an earlier turn wrote resolves it through the conversation's earlier
 * turns (as through `previous_response_id`), the items read back (`conversations.items.list` and
 * `.retrieve`) carry working download URLs instead of the stored `sandbox:` links, and items sent
 * to a conversation go upstream restored.
 */
import { describe, expect, it } from "vitest";
import { findSandboxRefs } from "../../../src/links/find";
import { download, sim, unsandbox } from "../support/clients";
import { textsOf, TOOLS, truthOf, type AnswerFile } from "../support/scenario";

type Answer = { id: string; output: unknown[]; unsandbox: { files: AnswerFile[] } };
const URL_RE = /https:\/\/files\.unsandbox\.test\/files\/[A-Za-z0-9_-]+\/[A-Za-z0-9._~%-]*/g;
const urlsIn = (answer: { output?: unknown[] }) =>
  textsOf(answer).flatMap((p) => [...p.text!.matchAll(URL_RE)].map((m) => m[0]));

async function twoTurns(extra = "") {
  const client = unsandbox();
  const conv = await client.conversations.create({});
  const t1 = (await client.responses.create({
    model: "gpt-5",
    conversation: conv.id,
    input: "sim: scenario=one-file",
    tools: TOOLS,
  })) as unknown as Answer;
  const t2 = (await client.responses.create({
    model: "gpt-5",
    conversation: conv.id,
    input: `sim: scenario=later-turn-link${extra}`,
    tools: TOOLS,
  })) as unknown as Answer;
  return { client, conv, t1, t2, truth1: await truthOf(t1.id) };
}

describe("conversations", () => {
  it("a later turn with no tool call and no citation links an earlier turn's file: it downloads after the container expired", async () => {
    // Upstream gives the later turn no container and no citation: only the link's path.
    const { t2, truth1 } = await twoTurns("; quirks=+missing_citations");
    expect(t2.output.some((o) => (o as { type: string }).type === "code_interpreter_call")).toBe(false);
    const [url] = urlsIn(t2);
    expect(url).toBeTruthy();
    expect(t2.unsandbox.files.map((f) => [f.file_id, f.state, f.url])).toEqual([
      [truth1.written[0]!.file_id, "stored", url],
    ]);
    await sim(`/containers/${truth1.container_id}/expire`, { body: {} });
    const got = await download(url!);
    expect(got.status).toBe(200);
    expect(got.sha256).toBe(truth1.written[0]!.sha256);
  });

  it("streamed: a later turn of the conversation resolves its link through the earlier turns", async () => {
    const client = unsandbox();
    const conv = await client.conversations.create({});
    const t1 = await client.responses.create({
      model: "gpt-5",
      conversation: conv.id,
      input: "sim: scenario=one-file",
      tools: TOOLS,
    });
    const truth1 = await truthOf(t1.id);
    const stream = client.responses.stream({
      model: "gpt-5",
      conversation: conv.id,
      input: "sim: scenario=later-turn-link; quirks=+missing_citations",
      tools: TOOLS,
    });
    const t2 = (await stream.finalResponse()) as unknown as Answer;
    const [url] = urlsIn(t2);
    expect(t2.unsandbox.files.map((f) => [f.file_id, f.url])).toEqual([[truth1.written[0]!.file_id, url]]);
    await sim(`/containers/${truth1.container_id}/expire`, { body: {} });
    expect((await download(url!)).sha256).toBe(truth1.written[0]!.sha256);
  });

  it("items read back carry each turn's own download URLs, listed and retrieved one by one", async () => {
    const { client, conv, t1, t2, truth1 } = await twoTurns();
    const items = (await client.conversations.items.list(conv.id, { order: "asc" })).data as {
      id: string;
      type: string;
    }[];
    const messages = items.filter((i) => i.type === "message" && (i as { role?: string }).role === "assistant");
    const listedUrls = urlsIn({ output: messages });
    // Every link of the stored items is rewritten, and no sandbox link is left.
    for (const m of messages) for (const p of textsOf({ output: [m] })) expect(findSandboxRefs(p.text!)).toEqual([]);
    expect(listedUrls).toEqual([...urlsIn(t1), ...urlsIn(t2)]);
    for (const p of textsOf({ output: messages })) for (const a of p.annotations ?? []) expect(a.url).toBeTruthy();
    const one = await client.conversations.items.retrieve(messages.at(-1)!.id, { conversation_id: conv.id });
    expect(urlsIn({ output: [one] })).toEqual(urlsIn(t2));
    await sim(`/containers/${truth1.container_id}/expire`, { body: {} });
    for (const url of listedUrls) expect((await download(url)).sha256).toBe(truth1.written[0]!.sha256);
  });

  it("items added to a conversation go upstream with the original sandbox links", async () => {
    const { client, conv, t1 } = await twoTurns();
    const [url] = urlsIn(t1);
    const added = await client.conversations.items.create(conv.id, {
      items: [{ role: "assistant", content: `Earlier: [report](${url})`, type: "message" }],
    });
    // What upstream stored is the sandbox link; what the app reads back is the download URL again.
    const upstream = (await (
      await fetch(`https://api.openai.com/v1/conversations/${conv.id}/items/${added.data[0]!.id}`, {
        headers: { authorization: "Bearer sk-sim-test" },
      })
    ).json()) as { content: { text: string }[] };
    expect(upstream.content[0]!.text).toBe("Earlier: [report](sandbox:/mnt/data/report.pdf)");
    expect(urlsIn({ output: added.data })).toHaveLength(1);
  });
});
