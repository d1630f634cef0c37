/**
 * History sent back in any shape: a download URL unsandbox issued never reaches upstream. An
 * assistant message whose `content` is a string (the Vercel AI SDK with `store: false`), `input`
 * as a string, `input_text` parts, `output_text` parts with an id and `phase`, and `instructions`
 * all go upstream with the original `sandbox:/mnt/data/…` destinations (the simulator records the
 * body it received).
 */
import { describe, expect, it } from "vitest";
import { sim, unsandbox } from "../support/clients";
import { textsOf, TOOLS, upstreamCopy, type AnswerFile } from "../support/scenario";

type Answer = { id: string; output: unknown[]; unsandbox: { files: AnswerFile[] } };
const OURS = /https:\/\/files\.unsandbox\.test\/files\//;

/** The body upstream received for a response, as JSON text (the simulator records it, `store: false` too). */
async function receivedInput(id: string): Promise<string> {
  return JSON.stringify((await sim<{ body: unknown }>(`/responses/${id}/request`)).body);
}

async function firstTurn() {
  const t1 = (await unsandbox().responses.create({
    model: "gpt-5",
    input: "sim: scenario=several-files",
    tools: TOOLS,
  })) as unknown as Answer;
  const ours = textsOf(t1)
    .map((p) => p.text!)
    .join("\n");
  const theirs = textsOf(await upstreamCopy(t1.id))
    .map((p) => p.text!)
    .join("\n");
  expect(ours).toMatch(OURS);
  expect(theirs).toContain("sandbox:/mnt/data/");
  return { t1, ours, theirs };
}

describe("history restored in every input shape", () => {
  it("an assistant message with string content reaches upstream with the original sandbox links", async () => {
    const { ours, theirs } = await firstTurn();
    const t2 = await unsandbox().responses.create({
      model: "gpt-5",
      store: false,
      input: [
        { role: "user", content: "Make the files." },
        { role: "assistant", content: ours },
        { role: "user", content: "sim: scenario=no-tool" },
      ],
      tools: TOOLS,
    });
    expect(t2.status).toBe("completed");
    const received = await receivedInput(t2.id);
    expect(received).not.toMatch(OURS);
    expect(received).toContain(JSON.stringify(theirs).slice(1, -1));
  });

  it("input as a string, input_text parts, output_text parts with id and phase, and instructions are restored", async () => {
    const { t1, ours, theirs } = await firstTurn();
    const message = (t1.output as { type: string; id?: string; phase?: string; content?: unknown[] }[])
      .filter((i) => i.type === "message")
      .at(-1)!;
    expect(message.id).toBeTruthy();
    const t2 = await unsandbox().responses.create({
      model: "gpt-5",
      instructions: `Earlier you said:\n${ours}`,
      input: [
        message as never,
        { role: "user", content: [{ type: "input_text", text: `About this one: ${ours}\nsim: scenario=no-tool` }] },
      ],
      tools: TOOLS,
    });
    expect((await sim<{ body: { instructions: string } }>(`/responses/${t2.id}/request`)).body.instructions).toBe(
      `Earlier you said:\n${theirs}`,
    );
    const received = await receivedInput(t2.id);
    expect(received).not.toMatch(OURS);
    expect(received).toContain(JSON.stringify(`About this one: ${theirs}`).slice(1, -1));

    const t3 = await unsandbox().responses.create({
      model: "gpt-5",
      input: `Look: ${ours}\nsim: scenario=no-tool`,
      tools: TOOLS,
    });
    const received3 = await receivedInput(t3.id);
    expect(received3).not.toMatch(OURS);
    expect(received3).toContain(JSON.stringify(`Look: ${theirs}`).slice(1, -1));
  });
});
