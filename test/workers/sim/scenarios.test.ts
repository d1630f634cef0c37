import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { client, control, drain, sha256, api } from "../support/sim";

const CI_AUTO = [{ type: "code_interpreter" as const, container: { type: "auto" as const } }];
const openai = client();

/** Runs a prompt with the tool; returns the response, its final text part, and the ground truth. */
async function run(prompt: string, extra: Partial<OpenAI.Responses.ResponseCreateParamsNonStreaming> = {}) {
  const r = await openai.responses.create({
    model: "gpt-5",
    input: prompt,
    tools: CI_AUTO,
    include: ["code_interpreter_call.outputs"],
    ...extra,
  });
  const last = r.output.at(-1) as OpenAI.Responses.ResponseOutputMessage;
  const part = last.content[0] as OpenAI.Responses.ResponseOutputText;
  const truth = await control(`/responses/${r.id}`);
  return { r, part, truth, anns: part.annotations as any[] };
}

const span = (text: string, a: any) => [...text].slice(a.start_index, a.end_index).join("");

describe("scenarios (directive line `sim: scenario=…`)", () => {
  it("one-file (default): one file, its link and its annotation; files= renames it", async () => {
    const { part, truth, anns } = await run("sim: scenario=one-file; files=sums.csv");
    expect(part.text).toBe("Here is your file: [sums.csv](sandbox:/mnt/data/sums.csv)");
    expect(anns).toHaveLength(1);
    expect(anns[0].filename).toBe("sums.csv");
    expect(truth.written.map((w: any) => w.path)).toEqual(["/mnt/data/sums.csv"]);
  });

  it("several-files: three links, three annotations", async () => {
    const { part, truth, anns } = await run("sim: scenario=several-files");
    expect(part.text).toBe(
      "Here are your files:\n- [data.csv](sandbox:/mnt/data/data.csv)\n- [summary.txt](sandbox:/mnt/data/summary.txt)\n- [chart.png](sandbox:/mnt/data/chart.png)",
    );
    expect(anns.map((a) => span(part.text, a))).toEqual([
      "sandbox:/mnt/data/data.csv",
      "sandbox:/mnt/data/summary.txt",
      "sandbox:/mnt/data/chart.png",
    ]);
    expect(truth.written).toHaveLength(3);
    expect(truth.cited).toEqual(truth.written.map((w: any) => w.file_id));
  });

  it("link-no-annotation: the link is there, no annotation", async () => {
    const { part, truth, anns } = await run("sim: scenario=link-no-annotation");
    expect(part.text).toBe("Here is your file: [data.csv](sandbox:/mnt/data/data.csv)");
    expect(anns).toEqual([]);
    expect(truth.written).toHaveLength(1);
    expect(truth.cited).toEqual([]);
  });

  it("annotation-no-link: an annotation over plain text", async () => {
    const { part, anns } = await run("sim: scenario=annotation-no-link");
    expect(part.text).toBe("The report is saved as report.pdf in the container.");
    expect(part.text).not.toContain("sandbox:");
    expect(span(part.text, anns[0])).toBe("report.pdf");
  });

  it("link-forms: every link form, each naming a written file", async () => {
    const { part, truth, anns } = await run("sim: scenario=link-forms");
    for (const form of [
      "(sandbox:/mnt/data/a.csv)",
      "(sandbox:/b.csv)",
      "(sandbox://c.csv)",
      "(/mnt/data/d.csv)",
      "![chart.png](sandbox:/mnt/data/chart.png)",
      "my%20report.csv",
      "(sandbox:/mnt/data/meeting notes.txt)",
      "data(1).csv)",
      "Übersicht_é.csv",
      "📊",
    ]) {
      expect(part.text).toContain(form);
    }
    expect(truth.written.map((w: any) => w.path)).toContain("/mnt/data/my report.csv");
    expect(anns).toHaveLength(8); // every sandbox: link; the bare /mnt/data/d.csv link is not annotated
    for (const a of anns) expect(span(part.text, a).startsWith("sandbox:")).toBe(true);
  });

  it("code-echo: paths inside inline code and a fenced block, one real link annotated", async () => {
    const { part, anns } = await run("sim: scenario=code-echo");
    expect(part.text).toContain("`sandbox:/mnt/data/out.csv`");
    expect(part.text).toContain("```python\n");
    expect(anns).toHaveLength(1);
    const cp = [...part.text];
    expect(cp.slice(0, anns[0].start_index).join("").endsWith("Download: [out.csv](")).toBe(true);
  });

  it("link-before-tool: the commentary message links the file before the tool call writes it", async () => {
    const { r } = await run("sim: scenario=link-before-tool");
    expect(r.output.map((o) => o.type)).toEqual(["message", "code_interpreter_call", "message"]);
    const first = (r.output[0] as any).content[0];
    expect(first.text).toBe("I'll write the report to [report.pdf](sandbox:/mnt/data/report.pdf) now.");
    expect(first.annotations).toEqual([]);
  });

  it("later-turn-link: a later turn links the earlier file without calling the tool", async () => {
    const one = await run("sim: scenario=one-file");
    const two = await run("sim: scenario=later-turn-link", { previous_response_id: one.r.id });
    expect(two.r.output.map((o) => o.type)).toEqual(["message"]);
    expect(two.part.text).toBe("As before, here is your file: [report.pdf](sandbox:/mnt/data/report.pdf)");
    expect(two.anns[0].file_id).toBe(one.truth.written[0].file_id);
    expect(two.truth.written).toEqual([]);
    expect(two.truth.container_id).toBe(one.truth.container_id);
  });

  it("rewrite-same-path: the same path again with new bytes; the older file leaves the listing", async () => {
    const one = await run("sim: scenario=one-file; quirks=-late_listing,-dirty_listing");
    const two = await run("sim: scenario=rewrite-same-path; quirks=-late_listing,-dirty_listing", {
      previous_response_id: one.r.id,
    });
    expect(two.truth.written[0].path).toBe(one.truth.written[0].path);
    expect(two.truth.written[0].file_id).not.toBe(one.truth.written[0].file_id);
    expect(two.truth.written[0].sha256).not.toBe(one.truth.written[0].sha256);
    const list = await openai.containers.files.list(one.truth.container_id);
    expect(list.data.map((f) => f.id)).toEqual([two.truth.written[0].file_id]);
  });

  it("rewrite-same-path with same_id_rewrite: the same id and created_at, new bytes; truth keeps each turn's sha256", async () => {
    const q = "quirks=-late_listing,-dirty_listing,+same_id_rewrite";
    const one = await run(`sim: scenario=one-file; files=report.csv; ${q}`);
    const [before] = (await openai.containers.files.list(one.truth.container_id)).data;
    const content = async () =>
      sha256(
        (await drain((await api(`/containers/${one.truth.container_id}/files/${before!.id}/content`)).body)).bytes,
      );
    expect(await content()).toBe(one.truth.written[0].sha256);
    const two = await run(`sim: scenario=rewrite-same-path; ${q}`, { previous_response_id: one.r.id });
    expect(two.part.text).toBe("I rewrote the file with new data: [report.csv](sandbox:/mnt/data/report.csv)");
    expect(two.anns[0].file_id).toBe(one.truth.written[0].file_id);
    expect(two.truth.written.map((w: any) => [w.file_id, w.path])).toEqual([
      [one.truth.written[0].file_id, "/mnt/data/report.csv"],
    ]);
    expect(two.truth.written[0].sha256).not.toBe(one.truth.written[0].sha256);
    // Turn 1's ground truth is still turn 1's bytes; the container now serves turn 2's.
    expect((await control(`/responses/${one.r.id}`)).written[0].sha256).toBe(one.truth.written[0].sha256);
    expect(await content()).toBe(two.truth.written[0].sha256);
    const after = (await openai.containers.files.list(one.truth.container_id)).data;
    expect(after.map((f) => [f.id, f.created_at, f.path])).toEqual([[before!.id, before!.created_at, before!.path]]);
  });

  it("phantom: a link to a file that was never written", async () => {
    const { part, truth, anns } = await run("sim: scenario=phantom");
    expect(part.text).toBe("Here is the file: [results.csv](sandbox:/mnt/data/results.csv)");
    expect(anns).toEqual([]);
    expect(truth.written).toEqual([]);
    expect(truth.claimed).toEqual(["/mnt/data/results.csv"]);
  });

  it("unnamed: a file written but never named", async () => {
    const { part, truth } = await run("sim: scenario=unnamed");
    expect(part.text).toBe("Done. The computation finished.");
    expect(truth.written.map((w: any) => w.path)).toEqual(["/mnt/data/hidden.bin"]);
    expect(truth.claimed).toEqual([]);
  });

  it("many-temp: hundreds of small files, listed across pages", async () => {
    const { part, truth } = await run("sim: scenario=many-temp; count=250; quirks=-late_listing,-dirty_listing");
    expect(part.text).toBe("Processed 250 parts: [summary.csv](sandbox:/mnt/data/summary.csv)");
    expect(truth.written).toHaveLength(251);
    let n = 0;
    for await (const _ of openai.containers.files.list(truth.container_id, { limit: 100 })) n++;
    expect(n).toBe(251);
  });

  it("big: one file of N MB, streamed in chunks, whose bytes match the ground truth", async () => {
    const { truth, anns } = await run("sim: scenario=big; size=24MB");
    const w = truth.written[0];
    expect(w.bytes).toBe(24 * 1024 * 1024);
    const res = await api(`/containers/${truth.container_id}/files/${anns[0].file_id}/content`, {
      headers: { "accept-encoding": "identity" },
    });
    expect(res.headers.get("content-length")).toBe(String(24 * 1024 * 1024));
    const reader = res.body!.getReader();
    const digest = new crypto.DigestStream("SHA-256");
    const writer = digest.getWriter();
    let total = 0;
    let largest = 0;
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      total += r.value.length;
      largest = Math.max(largest, r.value.length);
      await writer.write(r.value);
    }
    await writer.close();
    const hex = Array.from(new Uint8Array(await digest.digest), (b) => b.toString(16).padStart(2, "0")).join("");
    expect(total).toBe(w.bytes);
    expect(largest).toBeLessThan(w.bytes);
    expect(hex).toBe(w.sha256);
  });

  it("no-tool: the model answers without calling the tool, and no container is made", async () => {
    const { r, part, truth } = await run("sim: scenario=no-tool");
    expect(r.output.map((o) => o.type)).toEqual(["message"]);
    expect(part.text).toBe("2 + 2 = 4.");
    expect(truth.container_id).toBeNull();
  });

  it("figure: the plot file, its link, and the shown figure", async () => {
    const { part, truth, anns } = await run("sim: scenario=figure; quirks=-late_listing,-dirty_listing");
    expect(part.text).toBe("Here is the plot: [plot.png](sandbox:/mnt/data/plot.png)");
    expect(anns).toHaveLength(2);
    const png = truth.written.find((w: any) => w.path === "/mnt/data/plot.png");
    const res = await openai.containers.files.content.retrieve(png.file_id, { container_id: truth.container_id });
    expect(await sha256(await res.arrayBuffer())).toBe(png.sha256);
  });

  it("fail: a failed response (plain)", async () => {
    const r = await openai.responses.create({ model: "gpt-5", input: "sim: scenario=fail", tools: CI_AUTO });
    expect(r.status).toBe("failed");
    expect(r.error?.code).toBe("server_error");
  });

  it("a directive status fault: the first N attempts of the same request fail, the SDK retries through", async () => {
    const body = {
      model: "gpt-5",
      input: `sim: status=503x1; retry_after=0; files=${crypto.randomUUID()}.csv`,
      tools: CI_AUTO,
    };
    const e = await openai.responses.create(body).catch((x) => x);
    expect(e).toBeInstanceOf(OpenAI.InternalServerError);
    expect(e.status).toBe(503);
    const ok = await openai.responses.create(body);
    expect(ok.status).toBe("completed");
    const body429 = { ...body, input: `sim: status=429x1; retry_after=0; files=${crypto.randomUUID()}.csv` };
    const retried = await client({ maxRetries: 1 }).responses.create(body429);
    expect(retried.status).toBe("completed");
  });

  it("a bad directive is refused with 400", async () => {
    const e = await openai.responses
      .create({ model: "gpt-5", input: "sim: scenario=nope", tools: CI_AUTO })
      .catch((x) => x);
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    void drain;
  });
});
