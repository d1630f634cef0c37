/**
 * Conversations: stateful (`previous_response_id`) and stateless (earlier output sent back as
 * input). Each link keeps serving the bytes of the turn that issued it.
 */
import { describe, expect, it } from "vitest";
import { env, exports } from "cloudflare:workers";
import { responseRecordKey } from "../../../src/storage/pins";
import { download, sim, unsandbox, UNSANDBOX_KEY } from "../support/clients";
import { TOOLS, textsOf, truthOf, upstreamCopy, type AnswerFile } from "../support/scenario";

type Answer = { id: string; output: unknown[]; unsandbox: { files: AnswerFile[] } };

const urlsIn = (answer: Answer) =>
  textsOf(answer).flatMap((p) =>
    [...p.text!.matchAll(/https:\/\/files\.unsandbox\.test\/files\/[A-Za-z0-9_-]+\/[A-Za-z0-9._~%-]*/g)].map(
      (m) => m[0],
    ),
  );

describe("multi-turn", () => {
  it("a later turn that rewrites the same path: each turn's link serves its own bytes", async () => {
    const client = unsandbox();
    const t1 = (await client.responses.create({
      model: "gpt-5",
      input: "sim: scenario=one-file",
      tools: TOOLS,
    })) as unknown as Answer;
    const t2 = (await client.responses.create({
      model: "gpt-5",
      input: "sim: scenario=rewrite-same-path",
      tools: TOOLS,
      previous_response_id: t1.id,
    })) as unknown as Answer;
    const [truth1, truth2] = [await truthOf(t1.id), await truthOf(t2.id)];
    expect(truth2.written[0]!.path).toBe(truth1.written[0]!.path);
    expect(truth2.written[0]!.sha256).not.toBe(truth1.written[0]!.sha256);
    const [u1] = urlsIn(t1);
    const [u2] = urlsIn(t2);
    expect(u1).not.toBe(u2);
    expect((await download(u1!)).sha256).toBe(truth1.written[0]!.sha256);
    expect((await download(u2!)).sha256).toBe(truth2.written[0]!.sha256);
  });

  it("a later turn with no tool call links an earlier turn's file: the link resolves through the chain", async () => {
    const client = unsandbox();
    const t1 = (await client.responses.create({
      model: "gpt-5",
      input: "sim: scenario=one-file",
      tools: TOOLS,
    })) as unknown as Answer;
    const t2 = (await client.responses.create({
      model: "gpt-5",
      input: "sim: scenario=later-turn-link",
      tools: TOOLS,
      previous_response_id: t1.id,
    })) as unknown as Answer;
    const truth1 = await truthOf(t1.id);
    const [url] = urlsIn(t2);
    expect(url).toBeTruthy();
    // The container is gone by now; the bytes come from R2.
    await sim(`/containers/${truth1.container_id}/expire`, { body: {} });
    const got = await download(url!);
    expect(got.status).toBe(200);
    expect(got.sha256).toBe(truth1.written[0]!.sha256);
    // The later turn's manifest lists the file its link serves, in the answer and on the files route.
    const listed = t2.unsandbox.files.find((f) => f.file_id === truth1.written[0]!.file_id);
    expect(listed).toMatchObject({ state: "stored", url });
    const route = (await (
      await exports.default.fetch(`https://unsandbox.test/v1/responses/${t2.id}/files`, {
        headers: { authorization: `Bearer ${UNSANDBOX_KEY}` },
      })
    ).json()) as { data: AnswerFile[] };
    expect(route.data.map((f) => [f.file_id, f.url])).toEqual([[truth1.written[0]!.file_id, url]]);
  });

  it("a turn with neither a link nor a container keeps its chain in an R2 record written off its answer's path, and a chain through it resolves", async () => {
    const client = unsandbox();
    const t1 = (await client.responses.create({
      model: "gpt-5",
      input: "sim: scenario=one-file",
      tools: TOOLS,
    })) as unknown as Answer;
    const t2 = (await client.responses.create({
      model: "gpt-5",
      input: "sim: scenario=no-tool",
      tools: TOOLS,
      previous_response_id: t1.id,
    })) as unknown as Answer;
    expect(t2.unsandbox.files).toEqual([]);
    // Its chain is kept as an emptied index would leave it: the response's record in R2.
    let record: unknown = null;
    for (let i = 0; i < 50 && !record; i++) {
      record = await (await env.FILES.get(responseRecordKey("default", t2.id)))?.json();
      if (!record) await new Promise((r) => setTimeout(r, 20));
    }
    expect(record).toMatchObject({ id: t2.id, previousResponseId: t1.id, containerIds: [], links: [] });
    const t3 = (await client.responses.create({
      model: "gpt-5",
      input: "sim: scenario=later-turn-link",
      tools: TOOLS,
      previous_response_id: t2.id,
    })) as unknown as Answer;
    const truth1 = await truthOf(t1.id);
    const [url] = urlsIn(t3);
    expect(t3.unsandbox.files.map((f) => [f.file_id, f.state, f.url])).toEqual([
      [truth1.written[0]!.file_id, "stored", url],
    ]);
    expect((await download(url!)).sha256).toBe(truth1.written[0]!.sha256);
    // The manifest of a turn without files is empty, whether or not an index knows it.
    const alone = (await client.responses.create({
      model: "gpt-5",
      input: "sim: scenario=no-tool",
    })) as unknown as Answer;
    for (const id of [t2.id, alone.id]) {
      const res = await exports.default.fetch(`https://unsandbox.test/v1/responses/${id}/files`, {
        headers: { authorization: `Bearer ${UNSANDBOX_KEY}` },
      });
      expect(res.status, id).toBe(200);
      expect(((await res.json()) as { data: unknown[] }).data).toEqual([]);
    }
    const unknown = await exports.default.fetch("https://unsandbox.test/v1/responses/resp_nothing_here/files", {
      headers: { authorization: `Bearer ${UNSANDBOX_KEY}` },
    });
    expect(unknown.status).toBe(404);
  });

  it("turns with nothing after turns with nothing write no chain record; the first turn after one with a container does", async () => {
    const client = unsandbox();
    const turn = async (input: string, previous?: string) =>
      (await client.responses.create({
        model: "gpt-5",
        input,
        tools: TOOLS,
        ...(previous ? { previous_response_id: previous } : {}),
      })) as unknown as Answer;
    const recordOf = async (id: string) => {
      // Written off the answer's path: give it the time the test above gives it.
      for (let i = 0; i < 50; i++) {
        const r = await env.FILES.get(responseRecordKey("default", id));
        if (r) return r.json();
        await new Promise((res) => setTimeout(res, 20));
      }
      return null;
    };
    const t1 = await turn("sim: scenario=no-tool");
    const t2 = await turn("sim: scenario=no-tool", t1.id);
    const t3 = await turn("sim: scenario=no-tool", t2.id);
    expect(await recordOf(t2.id)).toBeNull();
    expect(await recordOf(t3.id)).toBeNull();
    const t4 = await turn("sim: scenario=one-file", t3.id);
    expect(t4.unsandbox.files).toHaveLength(1);
    const t5 = await turn("sim: scenario=no-tool", t4.id);
    expect(await recordOf(t5.id)).toMatchObject({ id: t5.id, previousResponseId: t4.id, containerIds: [] });
    // And a turn after that one keeps its chain too (t5 is not empty: t4 is behind it).
    const t6 = await turn("sim: scenario=no-tool", t5.id);
    expect(await recordOf(t6.id)).toMatchObject({ id: t6.id, previousResponseId: t5.id });
    // The empty turns' manifests are empty, as any turn's without files.
    for (const id of [t2.id, t3.id]) {
      const res = await exports.default.fetch(`https://unsandbox.test/v1/responses/${id}/files`, {
        headers: { authorization: `Bearer ${UNSANDBOX_KEY}` },
      });
      expect(res.status, id).toBe(200);
      expect(((await res.json()) as { data: unknown[] }).data).toEqual([]);
    }
  });

  it("a later turn with no tool call and no citation lists the earlier file it links, resolved through the chain", async () => {
    const client = unsandbox();
    const t1 = (await client.responses.create({
      model: "gpt-5",
      input: "sim: scenario=one-file",
      tools: TOOLS,
    })) as unknown as Answer;
    const t2 = (await client.responses.create({
      model: "gpt-5",
      input: "sim: scenario=later-turn-link; quirks=+missing_citations",
      tools: TOOLS,
      previous_response_id: t1.id,
    })) as unknown as Answer;
    const truth1 = await truthOf(t1.id);
    // Upstream gave the second turn no container and no citation: only the link's path.
    expect((await upstreamCopy(t2.id)).output.some((o) => o.type === "code_interpreter_call")).toBe(false);
    const [url] = urlsIn(t2);
    expect(t2.unsandbox.files.map((f) => [f.file_id, f.state, f.url])).toEqual([
      [truth1.written[0]!.file_id, "stored", url],
    ]);
    const route = (await (
      await exports.default.fetch(`https://unsandbox.test/v1/responses/${t2.id}/files`, {
        headers: { authorization: `Bearer ${UNSANDBOX_KEY}` },
      })
    ).json()) as { data: AnswerFile[] };
    expect(route.data.map((f) => [f.file_id, f.url])).toEqual([[truth1.written[0]!.file_id, url]]);
    expect((await download(url!)).sha256).toBe(truth1.written[0]!.sha256);
  });

  it("stateless: turn 1's output sent back as input reaches upstream in its original form", async () => {
    const client = unsandbox();
    const t1 = (await client.responses.create({
      model: "gpt-5",
      input: "sim: scenario=several-files",
      tools: TOOLS,
    })) as unknown as Answer;
    // The strict simulator refuses unknown fields (such as a citation's `url`) and would keep
    // any unsandbox URL it is sent; it must see only what it wrote.
    const t2 = await client.responses.create({
      model: "gpt-5",
      input: [...(t1.output as never[]), { role: "user", content: "sim: scenario=no-tool" }],
      tools: TOOLS,
    });
    expect(t2.status).toBe("completed");
    const items = await unsandbox().responses.inputItems.list(t2.id);
    const sent = JSON.stringify(items.data);
    expect(sent).toContain("files.unsandbox.test"); // rewritten on read, like every answer
    const upstreamItems = await fetch(`https://api.openai.com/v1/responses/${t2.id}/input_items?limit=100`, {
      headers: { authorization: "Bearer sk-sim-test" },
    });
    const raw = JSON.stringify(await upstreamItems.json());
    expect(raw).not.toContain("files.unsandbox.test");
    expect(raw).toContain("sandbox:/mnt/data/");
  });
});
