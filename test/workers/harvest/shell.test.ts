/**
 * The hosted `shell` tool through unsandbox with the official SDK: the model runs commands in an
 * OpenAI container (`shell_call.environment.container_id`) and a skill writes office documents,
 * two of which the answer never mentions. Plain, streamed and after a disconnect, every file the
 * container got is stored and downloads with upstream's bytes after the container expired, and
 * the text's links are rewritten exactly.
 */
import { describe, expect, it } from "vitest";
import { exports } from "cloudflare:workers";
import { findSandboxRefs } from "../../../src/links/find";
import { sim, unsandbox, UNSANDBOX_KEY } from "../support/clients";
import { makeTenant, sdk } from "../support/tenants";
import {
  converge,
  expectDownloadsAfterExpiry,
  expectOnlyLinksRewritten,
  textsOf,
  truthOf,
  upstreamCopy,
  type AnswerFile,
} from "../support/scenario";

type Item = {
  type: string;
  id: string;
  environment?: { type: string; container_id?: string };
  content?: { text?: string }[];
};
type Answer = { id: string; output: Item[]; unsandbox: { files: AnswerFile[] } };

const SHELL = [{ type: "shell", environment: { type: "container_auto" } }] as never;
const SKILL = "Write the quarterly documents.\nsim: scenario=skill-document";

/** The files upstream wrote that the answer's text names nowhere. */
function unmentioned(answer: Answer, written: { path: string }[]) {
  const named = new Set(textsOf(answer).flatMap((p) => findSandboxRefs(p.text ?? "").map((r) => r.containerPath)));
  const text = textsOf(answer)
    .map((p) => p.text)
    .join("\n");
  return written.filter((w) => !named.has(w.path) && !text.includes(w.path.split("/").pop()!));
}

describe("the hosted shell tool", () => {
  it("plain: the shell call's container is harvested; every document, mentioned or not, downloads after expiry", async () => {
    const res = (await unsandbox().responses.create({
      model: "gpt-5",
      input: SKILL,
      tools: SHELL,
    })) as unknown as Answer;
    const truth = await truthOf(res.id);
    const call = res.output.find((i) => i.type === "shell_call")!;
    expect(call.environment).toEqual({ type: "container_reference", container_id: truth.container_id });
    expect(res.output.some((i) => i.type === "shell_call_output")).toBe(true);
    expect(truth.written.map((w) => w.path.split("/").pop()).sort()).toEqual([
      "brief.docx",
      "deck.pptx",
      "figures.xlsx",
    ]);
    expect(
      unmentioned(res, truth.written)
        .map((w) => w.path.split("/").pop())
        .sort(),
    ).toEqual(["brief.docx", "deck.pptx"]);
    expect(expectOnlyLinksRewritten(res, (await upstreamCopy(res.id)) as never)).toBe(1);
    // The linked spreadsheet is in the answer's manifest; the unnamed documents arrive from the sweep.
    expect(res.unsandbox.files.some((f) => f.path === "/mnt/data/figures.xlsx")).toBe(true);
    const files = await converge(res.id, truth);
    for (const w of truth.written) expect(files.find((f) => f.file_id === w.file_id)?.state, w.path).toBe("stored");
    await expectDownloadsAfterExpiry(files, truth);
  });

  it("streamed: upstream's events one for one (shell commands and output included), links rewritten, every document downloads after expiry", async () => {
    const stream = unsandbox().responses.stream({ model: "gpt-5", input: SKILL, tools: SHELL });
    const events: { type: string; sequence_number: number }[] = [];
    for await (const e of stream) events.push(e as never);
    const final = (await stream.finalResponse()) as unknown as Answer;
    const upstreamEvents = await sim<{ data: { type: string; sequence_number: number }[] }>(
      `/responses/${final.id}/events`,
    );
    expect(events.map((e) => [e.type, e.sequence_number])).toEqual(
      upstreamEvents.data.map((e) => [e.type, e.sequence_number]),
    );
    for (const type of ["response.shell_call_command.delta", "response.shell_call_output_content.done"])
      expect(events.map((e) => e.type)).toContain(type);
    expect(expectOnlyLinksRewritten(final, (await upstreamCopy(final.id)) as never)).toBe(1);
    const truth = await truthOf(final.id);
    expect(unmentioned(final, truth.written).length).toBe(2);
    const files = await converge(final.id, truth);
    await expectDownloadsAfterExpiry(files, truth);
  });

  it("plain, nothing cited: the shell call alone names the container, and its file is stored", async () => {
    const res = (await unsandbox().responses.create({
      model: "gpt-5",
      input: "Compute it.\nsim: scenario=unnamed; files=result.xlsx",
      tools: SHELL,
    })) as unknown as Answer;
    const truth = await truthOf(res.id);
    expect(textsOf(res).flatMap((p) => findSandboxRefs(p.text ?? ""))).toEqual([]);
    const files = await converge(res.id, truth);
    expect(files.map((f) => f.path)).toContain("/mnt/data/result.xlsx");
    await expectDownloadsAfterExpiry(files, truth);
  });

  it("a second turn in the same container (container_reference) keeps harvesting it", async () => {
    const first = (await unsandbox().responses.create({
      model: "gpt-5",
      input: SKILL,
      tools: SHELL,
    })) as unknown as Answer;
    const container = (await truthOf(first.id)).container_id!;
    const tools = [{ type: "shell", environment: { type: "container_reference", container_id: container } }] as never;
    const second = (await unsandbox().responses.create({
      model: "gpt-5",
      previous_response_id: first.id,
      input: "Now the notes.\nsim: scenario=one-file; files=notes.docx",
      tools,
    })) as unknown as Answer;
    const truth = await truthOf(second.id);
    expect(truth.container_id).toBe(container);
    expect(second.unsandbox.files.map((f) => f.path)).toContain("/mnt/data/notes.docx");
    const files = await converge(second.id, truth);
    await expectDownloadsAfterExpiry(files, truth);
  });

  it("stateless history (store: false): the shell items sent back as input reach upstream, and the next turn's files are stored", async () => {
    const first = (await unsandbox().responses.create({
      model: "gpt-5",
      store: false,
      input: SKILL,
      tools: SHELL,
    })) as unknown as Answer;
    const container = (await truthOf(first.id)).container_id!;
    const shellItems = first.output.filter((i) => i.type === "shell_call" || i.type === "shell_call_output");
    expect(shellItems.length).toBe(2);
    const tools = [{ type: "shell", environment: { type: "container_reference", container_id: container } }] as never;
    const second = (await unsandbox().responses.create({
      model: "gpt-5",
      store: false,
      input: [
        ...shellItems,
        { role: "user", content: "Now the notes.\nsim: scenario=one-file; files=later.docx" },
      ] as never,
      tools,
    })) as unknown as Answer;
    expect(second.unsandbox.files.map((f) => f.path)).toContain("/mnt/data/later.docx");
    const truth = await truthOf(second.id);
    expect(truth.container_id).toBe(container);
    await expectDownloadsAfterExpiry(await converge(second.id, truth), truth);
  });

  it("a client that disconnects after the shell call still gets every document stored", async () => {
    const res = await exports.default.fetch("https://unsandbox.test/v1/responses", {
      method: "POST",
      headers: { authorization: `Bearer ${UNSANDBOX_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-5", stream: true, input: `${SKILL}; pace_ms=5`, tools: SHELL }),
    });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    let responseId = "";
    while (!/"type":"response\.output_item\.done"[^\n]*"shell_call_output"/.test(seen)) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += value;
      responseId ||= /"id":"(resp_[^"]+)"/.exec(seen)?.[1] ?? "";
    }
    expect(seen).not.toContain("annotation.added");
    await reader.cancel();
    const truth = await truthOf(responseId);
    expect(truth.written.length).toBe(3);
    const files = await converge(responseId, truth);
    for (const w of truth.written) expect(files.find((f) => f.file_id === w.file_id)?.state, w.path).toBe("stored");
  });
});

describe("the hosted shell tool: container ownership (multi-tenant)", () => {
  it("a tenant's shell container is its own for a later container_reference; another tenant's reference is refused", async () => {
    const [a, b] = await Promise.all([makeTenant(), makeTenant()]);
    const first = (await sdk("multi", a.secret).responses.create({
      model: "gpt-5",
      input: "Compute it.\nsim: scenario=unnamed",
      tools: SHELL,
    })) as unknown as Answer;
    const container = first.output.find((i) => i.type === "shell_call")!.environment!.container_id!;
    const tools = [{ type: "shell", environment: { type: "container_reference", container_id: container } }] as never;
    const again = (await sdk("multi", a.secret).responses.create({
      model: "gpt-5",
      input: "sim: scenario=one-file",
      tools,
    })) as unknown as Answer;
    expect(again.output.find((i) => i.type === "shell_call")!.environment!.container_id).toBe(container);
    const refused = await sdk("multi", b.secret)
      .responses.create({ model: "gpt-5", input: "sim: scenario=one-file", tools })
      .then(
        () => null,
        (err: { status?: number; param?: string }) => err,
      );
    expect({ status: refused?.status, param: refused?.param }).toEqual({
      status: 404,
      param: "tools[0].environment.container_id",
    });
  });
});
