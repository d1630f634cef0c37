/**
 * The simulator's beta multi-agent mode, conversations and replays, held to what the spec and the
 * recordings say (the proxy suites rely on each of these behaving like the real API).
 */
import { describe, expect, it } from "vitest";
import { api, client, control } from "../support/sim";

const BETA = { "openai-beta": "responses_multi_agent=v1", "content-type": "application/json" };
const TOOLS = [{ type: "code_interpreter", container: { type: "auto" } }];

describe("sim: beta multi-agent responses", () => {
  it("tags items and events with agent only with ?beta=true and the header; an input agent is unknown otherwise", async () => {
    const body = { model: "gpt-5", input: "sim: scenario=one-file", tools: TOOLS };
    const beta = (await (
      await api("/responses?beta=true", { method: "POST", headers: BETA, body: JSON.stringify(body) })
    ).json()) as { id: string; output: { agent?: unknown }[] };
    for (const item of beta.output) expect(item.agent).toEqual({ agent_name: "main" });
    const plain = (await (
      await api("/responses", { method: "POST", headers: BETA, body: JSON.stringify(body) })
    ).json()) as { output: { agent?: unknown }[] };
    for (const item of plain.output) expect(item.agent).toBeUndefined();

    const back = { model: "gpt-5", input: [...beta.output, { role: "user", content: "sim: scenario=no-tool" }] };
    const refused = await api("/responses", { method: "POST", headers: BETA, body: JSON.stringify(back) });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain("agent");
    expect(
      (await api("/responses?beta=true", { method: "POST", headers: BETA, body: JSON.stringify(back) })).status,
    ).toBe(200);

    const stream = await api("/responses?beta=true", {
      method: "POST",
      headers: BETA,
      body: JSON.stringify({ ...body, stream: true }),
    });
    const events = (await stream.text())
      .split("\n\n")
      .filter((b) => b.includes("data:"))
      .map((b) => JSON.parse(b.slice(b.indexOf("data:") + 5)));
    expect(events.length).toBeGreaterThan(5);
    for (const e of events) expect(e.agent).toEqual({ agent_name: "main" });
  });
});

describe("sim: conversations", () => {
  it("appends each turn's input and output items; earlier turns play the previous-response chain", async () => {
    const sdk = client();
    const conv = await sdk.conversations.create({ metadata: { topic: "files" } });
    expect(conv).toMatchObject({ object: "conversation", metadata: { topic: "files" } });
    const t1 = await sdk.responses.create({
      model: "gpt-5",
      conversation: conv.id,
      input: "sim: scenario=one-file",
      tools: TOOLS as never,
    });
    expect((t1 as unknown as { conversation?: unknown }).conversation).toEqual({ id: conv.id });
    const t2 = await sdk.responses.create({
      model: "gpt-5",
      conversation: { id: conv.id },
      input: "sim: scenario=later-turn-link",
      tools: TOOLS as never,
    });
    expect(t2.output_text).toContain("sandbox:/mnt/data/report.pdf");
    const items = await sdk.conversations.items.list(conv.id, { order: "asc", limit: 100 });
    const ids = items.data.map((i) => (i as { id: string }).id);
    expect(ids).toEqual([
      expect.any(String),
      ...t1.output.map((o) => o.id),
      expect.any(String),
      ...t2.output.map((o) => o.id),
    ]);
    const desc = await sdk.conversations.items.list(conv.id, { limit: 1 });
    expect((desc.data[0] as { id: string }).id).toBe(t2.output.at(-1)!.id);
    const one = await sdk.conversations.items.retrieve(t1.output.at(-1)!.id!, { conversation_id: conv.id });
    expect((one as { id: string }).id).toBe(t1.output.at(-1)!.id);
    await expect(
      sdk.responses.create({ model: "gpt-5", conversation: conv.id, previous_response_id: t1.id, input: "x" }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(sdk.responses.create({ model: "gpt-5", conversation: "conv_nope", input: "x" })).rejects.toMatchObject(
      { status: 404 },
    );
  });
});

describe("sim: replays", () => {
  it("answers with the registered recording and makes its container and cited files exist", async () => {
    const text = "Here: [a.csv](sandbox:/mnt/data/a.csv)";
    const recording = {
      id: "resp_replay0001",
      object: "response",
      created_at: 1758315394,
      status: "completed",
      output: [
        {
          id: "ci_1",
          type: "code_interpreter_call",
          status: "completed",
          code: "",
          container_id: "cntr_68cdc387replay0001",
          outputs: null,
        },
        {
          id: "msg_1",
          type: "message",
          role: "assistant",
          status: "completed",
          content: [
            {
              type: "output_text",
              text,
              logprobs: [],
              annotations: [
                {
                  type: "container_file_citation",
                  container_id: "cntr_68cdc387replay0001",
                  file_id: "cfile_68cdc395replay0001",
                  filename: "cfile_68cdc395replay0001.png",
                  start_index: 0,
                  end_index: 0,
                },
              ],
            },
          ],
        },
      ],
    };
    const { id, files } = await control<{ id: string; files: { file_id: string; path: string }[] }>("/replays", {
      response: recording,
    });
    expect(files.map((f) => f.path).sort()).toEqual(["/mnt/data/a.csv", "/mnt/data/cfile_68cdc395replay0001.png"]);
    const answer = await (
      await api("/responses", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-5", input: `sim: replay=${id}` }),
      })
    ).json();
    expect(answer).toEqual(recording);
    const listing = (await (await api("/containers/cntr_68cdc387replay0001/files")).json()) as {
      data: { id: string }[];
    };
    expect(listing.data.map((f) => f.id)).toContain("cfile_68cdc395replay0001");
  });
});
