/**
 * The drop-in proxy, non-streaming: every simulator scenario through the official SDK. After the
 * answer the container expires upstream, and every file still downloads with upstream's bytes.
 */
import { describe, expect, it } from "vitest";
import { exports } from "cloudflare:workers";
import { findSandboxRefs } from "../../../src/links/find";
import { FILE_INSTRUCTIONS } from "../../../src/harvest/file-instructions";
import { download, sim, unsandbox } from "../support/clients";
import {
  closeSweepWindow,
  converge,
  expectDownloadsAfterExpiry,
  expectOnlyLinksRewritten,
  textsOf,
  TOOLS,
  truthOf,
  upstreamCopy,
  type AnswerFile,
} from "../support/scenario";

type Answer = { id: string; output: unknown[]; unsandbox: { files: AnswerFile[] } };

async function ask(scenario: string, extra = "") {
  const client = unsandbox();
  const res = (await client.responses.create({
    model: "gpt-5",
    input: `Please make the files.\nsim: scenario=${scenario}${extra}`,
    tools: TOOLS,
  })) as unknown as Answer;
  return { res, truth: await truthOf(res.id), upstream: await upstreamCopy(res.id) };
}

const STORE_ALL = [
  "one-file",
  "several-files",
  "link-no-annotation",
  "annotation-no-link",
  "link-forms",
  "code-echo",
  "link-before-tool",
  "figure",
];

describe("POST /v1/responses (plain)", () => {
  for (const scenario of STORE_ALL) {
    it(`${scenario}: links rewritten, every written file stored and downloadable after expiry`, async () => {
      const { res, truth, upstream } = await ask(scenario);
      expectOnlyLinksRewritten(res, upstream as never);
      // Every file upstream wrote in this response is stored (its ground truth, not the manifest);
      // anything else stored is a figure the answer showed.
      const stored = res.unsandbox.files.filter((f) => f.state === "stored");
      for (const w of truth.written) expect(stored.map((f) => f.file_id)).toContain(w.file_id);
      for (const f of stored)
        if (!truth.written.some((w) => w.file_id === f.file_id)) expect(f.cited).toContain("figure");
      // Junk listing entries (several paths joined into one) are not files of the answer.
      for (const f of res.unsandbox.files) expect(f.path.indexOf("/mnt/data/", 1)).toBe(-1);
      await expectDownloadsAfterExpiry(res.unsandbox.files, truth);
    });
  }

  it("unnamed: a file written but named nowhere is found by the sweep, stored and downloadable", async () => {
    const { res, truth, upstream } = await ask("unnamed");
    expectOnlyLinksRewritten(res, upstream as never);
    const named = new Set(textsOf(res).flatMap((p) => findSandboxRefs(p.text!).map((r) => r.containerPath)));
    const unnamed = truth.written.filter((w) => !named.has(w.path));
    expect(unnamed.length).toBeGreaterThan(0);
    // It registers late upstream, so the route may answer first; the manifest converges.
    const files = await converge(res.id, truth);
    for (const w of unnamed) expect(files.find((f) => f.file_id === w.file_id)?.state).toBe("stored");
    await expectDownloadsAfterExpiry(files, truth);
  });

  it("figure: the shown image from the tool output is stored, outputs stay hidden unless asked for", async () => {
    const { res, upstream } = await ask("figure");
    const call = (upstream.output as { type: string; outputs?: { type: string }[] }[]).find(
      (i) => i.type === "code_interpreter_call",
    )!;
    expect(call.outputs?.some((o) => o.type === "image")).toBe(true);
    const ours = (res.output as { type: string; outputs?: unknown }[]).find((i) => i.type === "code_interpreter_call")!;
    expect(ours.outputs).toBeNull();
    const figures = res.unsandbox.files.filter((f) => f.cited.includes("figure"));
    expect(figures.length).toBeGreaterThan(0);
    for (const f of figures) {
      expect(f.state).toBe("stored");
      expect((await download(f.url)).status).toBe(200);
    }
  });

  it("phantom: a claimed file that never appears keeps its URL and answers 404 file_not_produced", async () => {
    const { res, truth } = await ask("phantom");
    expect(truth.claimed.length).toBeGreaterThan(0);
    const url = textsOf(res)
      .map((p) => p.text!)
      .join("\n")
      .match(/https:\/\/files\.unsandbox\.test\/files\/\S+?(?=\))/g)!;
    expect(url.length).toBeGreaterThan(0);
    await closeSweepWindow(truth.container_id!);
    const manifest = (await (
      await exports.default.fetch(`https://unsandbox.test/v1/responses/${res.id}/files`, {
        headers: { authorization: "Bearer usk_test_0123456789abcdef" },
      })
    ).json()) as { data: AnswerFile[] };
    const phantom = manifest.data.find((f) => truth.claimed.includes(f.path));
    expect(phantom?.state).toBe("missing");
    const got = await download(phantom!.url, { headers: { accept: "application/json" } });
    expect(got.status).toBe(404);
    expect(JSON.parse(new TextDecoder().decode(got.bytes)).error.code).toBe("file_not_produced");
  });

  it("no-tool: an answer without a tool call passes through unchanged with no files", async () => {
    const { res, upstream } = await ask("no-tool");
    expect(expectOnlyLinksRewritten(res, upstream as never)).toBe(0);
    expect(res.unsandbox.files).toEqual([]);
  });

  it("many-temp: hundreds of small files are all stored", async () => {
    const { res, truth } = await ask("many-temp", "; count=150");
    expect(truth.written.length).toBeGreaterThanOrEqual(150);
    // The copies may outlast the route's wait; the manifest route shows them converge.
    const files = await converge(res.id, truth);
    for (const w of truth.written) expect(files.find((f) => f.file_id === w.file_id)?.state, w.path).toBe("stored");
  });

  it("passes upstream errors through with their status and OpenAI body", async () => {
    const client = unsandbox();
    await expect(
      client.responses.create({ model: "gpt-5", input: "x", tools: [{ type: "code_interpreter" } as never] }),
    ).rejects.toMatchObject({
      status: 400,
      error: { param: expect.stringContaining("container") },
    });
  });

  it("keeps upstream's x-request-id and x-ratelimit-* headers and adds x-unsandbox-request-id", async () => {
    const { response } = await unsandbox()
      .responses.create({ model: "gpt-5", input: "sim: scenario=no-tool", tools: TOOLS })
      .withResponse();
    expect(response.headers.get("x-request-id")).toMatch(/^req_/);
    expect(response.headers.get("x-ratelimit-remaining-requests")).toBeTruthy();
    expect(response.headers.get("x-unsandbox-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("refuses a malformed body in OpenAI's shape without calling upstream", async () => {
    const before = await sim<{ responses_created: number }>("/counters");
    const res = await exports.default.fetch("https://unsandbox.test/v1/responses", {
      method: "POST",
      headers: { authorization: "Bearer usk_test_0123456789abcdef", "content-type": "application/json" },
      body: "{not json",
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_json");
    expect((await sim<{ responses_created: number }>("/counters")).responses_created).toBe(before.responses_created);
  });
  it("x-unsandbox-file-instructions appends the file instructions to the app's own", async () => {
    const client = unsandbox({ headers: { "x-unsandbox-file-instructions": "1" } });
    const r = await client.responses.create({
      model: "gpt-5",
      input: "sim: scenario=no-tool",
      instructions: "Be brief.",
      tools: TOOLS,
    });
    const upstream = await upstreamCopy(r.id);
    expect(upstream.instructions).toBe(`Be brief.\n\n${FILE_INSTRUCTIONS}`);
    const plain = await unsandbox().responses.create({
      model: "gpt-5",
      input: "sim: scenario=no-tool",
      instructions: "Be brief.",
      tools: TOOLS,
    });
    expect((await upstreamCopy(plain.id)).instructions).toBe("Be brief.");
  });
  it("GET /v1/responses/{id} is rewritten on read with the same URLs the answer had", async () => {
    const client = unsandbox();
    const created = (await client.responses.create({
      model: "gpt-5",
      input: "sim: scenario=link-forms",
      tools: TOOLS,
    })) as unknown as Answer;
    const read = (await client.responses.retrieve(created.id)) as unknown as Answer;
    expect(textsOf(read).map((p) => p.text)).toEqual(textsOf(created).map((p) => p.text));
    expect(textsOf(read).map((p) => p.annotations)).toEqual(textsOf(created).map((p) => p.annotations));
    expect(read.unsandbox.files.map((f) => [f.file_id, f.url])).toEqual(
      created.unsandbox.files.map((f) => [f.file_id, f.url]),
    );
  });

  it("passes an unrelated route through: models.list", async () => {
    const models = [];
    for await (const m of unsandbox().models.list()) models.push(m.id);
    expect(models.length).toBeGreaterThan(0);
  });
  it("the manifest holds its answer until the files settle when asked (x-unsandbox-wait-ms), at most that long", async () => {
    const client = unsandbox({ headers: { "x-unsandbox-wait-ms": "0" } });
    const container = await client.containers.create({ name: "manifest-wait" });
    const pause = await sim<{ id: string }>("/faults", {
      body: { container_id: container.id, kind: "pause", at_byte: 1_000 },
    });
    const res = (await client.responses.create({
      model: "gpt-5",
      input: "Write it.\nsim: scenario=one-file; files=wait.csv; size=64KiB",
      tools: [{ type: "code_interpreter", container: container.id }],
    })) as unknown as Answer;
    const manifest = async (wait?: string) => {
      const headers: Record<string, string> = {
        authorization: "Bearer usk_test_0123456789abcdef",
        ...(wait === undefined ? {} : { "x-unsandbox-wait-ms": wait }),
      };
      const got = await exports.default.fetch(`https://unsandbox.test/v1/responses/${res.id}/files`, { headers });
      return { status: got.status, body: (await got.json()) as { data: AnswerFile[]; error?: { param: string } } };
    };
    const stateOf = (m: { body: { data: AnswerFile[] } }) =>
      m.body.data.find((f) => f.path === "/mnt/data/wait.csv")?.state;
    // The copy is stuck on the paused body: a short wait ends with the file still unsettled.
    // (The tracker's own alarm runs the copy; running it from here would wait on the paused body.)
    for (let i = 0; i < 300 && !(await sim<{ paused: boolean }>(`/faults/${pause.id}`)).paused; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect((await sim<{ paused: boolean }>(`/faults/${pause.id}`)).paused).toBe(true);
    expect(["pending", "copying"]).toContain(stateOf(await manifest("200")));
    // A long wait started before the body goes on answers with the file stored, in one request.
    const waiting = manifest("30000");
    await sim(`/faults/${pause.id}/release`, { method: "POST", body: {} });
    const settled = await waiting;
    expect(settled.status).toBe(200);
    expect(stateOf(settled)).toBe("stored");
    // Out of range or not a number: a 400 in OpenAI's shape naming the header.
    for (const bad of ["-1", "60001", "soon", ""]) {
      const refused = await manifest(bad);
      expect(refused.status).toBe(400);
      expect(refused.body.error?.param).toBe("x-unsandbox-wait-ms");
    }
  });

  it("refuses a bad x-unsandbox-wait-ms before anything reaches upstream", async () => {
    const before = await sim<{ responses_created: number }>("/counters");
    await expect(
      unsandbox({ headers: { "x-unsandbox-wait-ms": "soon" } }).responses.create({
        model: "gpt-5",
        input: "sim: scenario=no-tool",
        tools: TOOLS,
      }),
    ).rejects.toMatchObject({ status: 400, error: { param: "x-unsandbox-wait-ms" } });
    expect((await sim<{ responses_created: number }>("/counters")).responses_created).toBe(before.responses_created);
  });
});
