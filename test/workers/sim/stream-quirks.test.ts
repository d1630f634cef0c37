import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { api, client, sleep, sseEvents } from "../support/sim";

const CI_AUTO = [{ type: "code_interpreter" as const, container: { type: "auto" as const } }];

/** The raw events of a streamed response for a prompt (the directive rides in the prompt). */
async function events(prompt: string, extra: Record<string, unknown> = {}) {
  const res = await api("/responses", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "gpt-5",
      input: prompt,
      tools: CI_AUTO,
      stream: true,
      include: ["code_interpreter_call.outputs"],
      ...extra,
    }),
  });
  expect(res.status).toBe(200);
  return (await sseEvents(res)).map((e) => e.data);
}

const lastIndex = (evs: any[], pred: (e: any) => boolean) => evs.map(pred).lastIndexOf(true);

describe("stream quirks (on by default, each with a switch)", () => {
  it("annotations come after the last text delta of their part; off: right after the delta that ends the link", async () => {
    const on = await events("sim: scenario=several-files");
    const msgId = on.find(
      (e) => e.type === "response.output_item.added" && e.item.type === "message" && e.output_index === 2,
    ).item.id;
    const lastDelta = lastIndex(on, (e) => e.type === "response.output_text.delta" && e.item_id === msgId);
    const firstAnn = on.findIndex((e) => e.type === "response.output_text.annotation.added");
    expect(firstAnn).toBeGreaterThan(lastDelta);
    const off = await events("sim: scenario=several-files; quirks=-annotations_after_text");
    const msgId2 = off.find((e) => e.type === "response.output_item.added" && e.output_index === 2).item.id;
    const lastDelta2 = lastIndex(off, (e) => e.type === "response.output_text.delta" && e.item_id === msgId2);
    expect(off.findIndex((e) => e.type === "response.output_text.annotation.added")).toBeLessThan(lastDelta2);
  });

  it("tiny deltas cut the link anywhere; off: one delta per word", async () => {
    const on = await events("x");
    const deltas = on
      .filter((e) => e.type === "response.output_text.delta" && e.output_index === 2)
      .map((e) => e.delta);
    expect(deltas.every((d: string) => [...d].length <= 4)).toBe(true);
    expect(deltas.some((d: string) => d.includes("sandbox:/mnt/data/report.pdf"))).toBe(false);
    expect(deltas.join("")).toBe("Here is your file: [report.pdf](sandbox:/mnt/data/report.pdf)");
    const off = await events("sim: quirks=-tiny_deltas");
    const words = off
      .filter((e) => e.type === "response.output_text.delta" && e.output_index === 2)
      .map((e) => e.delta);
    expect(words).toContain("[report.pdf](sandbox:/mnt/data/report.pdf)");
  });

  it("delta events carry obfuscation; the switch (or stream_options.include_obfuscation=false) drops it", async () => {
    const on = await events("x");
    const deltas = on.filter((e) => e.type.endsWith(".delta"));
    expect(deltas.every((e) => typeof e.obfuscation === "string" && e.obfuscation.length > 0)).toBe(true);
    const off = await events("sim: quirks=-obfuscation");
    expect(off.filter((e) => e.type.endsWith(".delta")).some((e) => "obfuscation" in e)).toBe(false);
    const optOut = await events("x", { stream_options: { include_obfuscation: false } });
    expect(optOut.filter((e) => e.type.endsWith(".delta")).some((e) => "obfuscation" in e)).toBe(false);
  });

  it("keepalive events in the stream (the SDK's stream() copes); off: none", async () => {
    const on = await events("x");
    expect(on.some((e) => e.type === "keepalive")).toBe(true);
    expect(on.map((e) => e.sequence_number)).toEqual(on.map((_, i) => i));
    const off = await events("sim: quirks=-keepalive");
    expect(off.some((e) => e.type === "keepalive")).toBe(false);
    const final = await client().responses.stream({ model: "gpt-5", input: "x", tools: CI_AUTO }).finalResponse();
    expect(final.status).toBe("completed");
  });

  it("the error event nests its payload; off: flat as in the spec; the SDK raises it", async () => {
    const on = await events("sim: scenario=fail");
    const err = on.find((e) => e.type === "error");
    expect(err.error).toMatchObject({ type: "server_error", code: "server_error", param: null });
    expect(on.at(-1).type).toBe("response.failed");
    expect(on.at(-1).response.error.code).toBe("server_error");
    const off = await events("sim: scenario=fail; quirks=-nested_error_event");
    const flat = off.find((e) => e.type === "error");
    expect(flat).toMatchObject({ code: "server_error", param: null });
    expect(flat.error).toBeUndefined();
    const stream = client().responses.stream({ model: "gpt-5", input: "sim: scenario=fail", tools: CI_AUTO });
    await expect(stream.finalResponse()).rejects.toBeInstanceOf(OpenAI.APIError);
  });

  it("a shown figure: zero-span citation cfile_<id>.png and a data: URI image output; off: neither", async () => {
    const openai = client();
    const r = await openai.responses.create({
      model: "gpt-5",
      input: "sim: scenario=figure",
      tools: CI_AUTO,
      include: ["code_interpreter_call.outputs"],
    });
    const call = r.output[1] as any;
    const image = call.outputs.find((o: any) => o.type === "image");
    expect(image.url.startsWith("data:image/png;base64,")).toBe(true);
    const anns = (r.output[2] as any).content[0].annotations;
    const zero = anns.find((a: any) => a.start_index === 0 && a.end_index === 0);
    expect(zero.filename).toBe(`${zero.file_id}.png`);
    expect(zero.file_id).toMatch(/^cfile_/);
    const link = anns.find((a: any) => a.end_index > 0);
    expect(link.file_id).not.toBe(zero.file_id);
    const off = await openai.responses.create({
      model: "gpt-5",
      input: "sim: scenario=figure; quirks=-figure_citation",
      tools: CI_AUTO,
      include: ["code_interpreter_call.outputs"],
    });
    expect((off.output[1] as any).outputs.some((o: any) => o.type === "image")).toBe(false);
    expect((off.output[2] as any).content[0].annotations.every((a: any) => a.end_index > 0)).toBe(true);
  });

  it("indices count code points; off: UTF-16 units (an emoji before the links tells them apart)", async () => {
    const openai = client();
    const r = await openai.responses.create({ model: "gpt-5", input: "sim: scenario=link-forms", tools: CI_AUTO });
    const part = (r.output[2] as any).content[0];
    const a = part.annotations[0];
    expect([...part.text].slice(a.start_index, a.end_index).join("")).toBe("sandbox:/mnt/data/a.csv");
    expect(part.text.slice(a.start_index, a.end_index)).not.toBe("sandbox:/mnt/data/a.csv");
    const off = await openai.responses.create({
      model: "gpt-5",
      input: "sim: scenario=link-forms; quirks=-codepoint_indices",
      tools: CI_AUTO,
    });
    const p2 = (off.output[2] as any).content[0];
    expect(p2.text.slice(p2.annotations[0].start_index, p2.annotations[0].end_index)).toBe("sandbox:/mnt/data/a.csv");
  });

  it("missing_citations (off by default): on, the links come without their file citations", async () => {
    const openai = client();
    const cited = await openai.responses.create({ model: "gpt-5", input: "sim: scenario=one-file", tools: CI_AUTO });
    const partOf = (r: typeof cited) => (r.output.filter((o) => o.type === "message").at(-1) as any).content[0];
    expect(partOf(cited).annotations.map((a: any) => a.type)).toEqual(["container_file_citation"]);
    const bare = await openai.responses.create({
      model: "gpt-5",
      input: "sim: scenario=one-file; quirks=+missing_citations",
      tools: CI_AUTO,
    });
    expect(partOf(bare).text).toContain("sandbox:/mnt/data/");
    expect(partOf(bare).annotations).toEqual([]);
  });
});

describe("listing quirks", () => {
  it("a generated file is listed only some time after the message starts; off: at once", async () => {
    const openai = client();
    const r = await openai.responses.create({
      model: "gpt-5",
      input: "sim: late_listing_ms=400; quirks=-dirty_listing",
      tools: CI_AUTO,
    });
    const cid = (r.output[1] as any).container_id;
    const fid = (r.output[2] as any).content[0].annotations[0].file_id;
    const early = await openai.containers.files.list(cid);
    expect(early.data.map((f) => f.id)).not.toContain(fid);
    await sleep(600);
    const later = await openai.containers.files.list(cid);
    expect(later.data.map((f) => f.id)).toContain(fid);
    const r2 = await openai.responses.create({
      model: "gpt-5",
      input: "sim: quirks=-late_listing,-dirty_listing",
      tools: CI_AUTO,
    });
    const now = await openai.containers.files.list((r2.output[1] as any).container_id);
    expect(now.data.map((f) => f.id)).toContain((r2.output[2] as any).content[0].annotations[0].file_id);
  });

  it("listings are dirty: a renamed user upload and a junk entry whose content is 404; off: clean", async () => {
    const openai = client();
    const r = await openai.responses.create({ model: "gpt-5", input: "sim: quirks=-late_listing", tools: CI_AUTO });
    const cid = (r.output[1] as any).container_id;
    const files = (await openai.containers.files.list(cid)).data;
    const user = files.find((f) => f.source === "user")!;
    expect(user.path).toMatch(/^\/mnt\/data\/[0-9a-f]{32}-/);
    const junk = files.find((f) => f.path.split("/mnt/data/").length > 2)!;
    expect(junk.bytes).toBeNull();
    const content = await openai.containers.files.content.retrieve(junk.id, { container_id: cid }).catch((e) => e);
    expect(content).toBeInstanceOf(OpenAI.NotFoundError);
    expect(content.error.message).toContain("not found on container");
    const clean = await openai.responses.create({
      model: "gpt-5",
      input: "sim: quirks=-late_listing,-dirty_listing",
      tools: CI_AUTO,
    });
    const list = (await openai.containers.files.list((clean.output[1] as any).container_id)).data;
    expect(list.map((f) => f.path)).toEqual(["/mnt/data/report.pdf"]);
  });

  it("generated files report bytes: null in listings; the switch reports sizes", async () => {
    const openai = client();
    const r = await openai.responses.create({
      model: "gpt-5",
      input: "sim: quirks=-late_listing,-dirty_listing",
      tools: CI_AUTO,
    });
    const list = (await openai.containers.files.list((r.output[1] as any).container_id)).data;
    expect(list[0]!.bytes).toBeNull();
    const r2 = await openai.responses.create({
      model: "gpt-5",
      input: "sim: quirks=-late_listing,-dirty_listing,-null_bytes",
      tools: CI_AUTO,
    });
    const list2 = (await openai.containers.files.list((r2.output[1] as any).container_id)).data;
    expect(list2[0]!.bytes).toBeGreaterThan(0);
  });
});
