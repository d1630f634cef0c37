import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { SIM_OTHER_ORG_KEY } from "../../test-keys";
import { api, client, control, drain, sha256, sleep } from "../support/sim";

describe("Containers API through the official SDK", () => {
  it("keeps each key's organisation apart: another organisation's ids are not found", async () => {
    const mine = client();
    const theirs = client({ apiKey: SIM_OTHER_ORG_KEY });
    // A response made with the second key runs in a container of the second organisation.
    const r = await theirs.responses.create({
      model: "gpt-5",
      input: "Make a CSV.\nsim: scenario=one-file",
      tools: [{ type: "code_interpreter", container: { type: "auto" } }],
    });
    const cid = (r.output.find((o) => o.type === "code_interpreter_call") as { container_id: string }).container_id;
    const [file] = (await theirs.containers.files.list(cid)).data;
    expect(file).toBeDefined();
    const content = await theirs.containers.files.content.retrieve(file!.id, { container_id: cid });
    expect(content.status).toBe(200);
    // The first organisation sees none of it, with the answer a made-up id gets.
    for (const attempt of [
      () => mine.containers.retrieve(cid),
      () => mine.containers.files.list(cid),
      () => mine.containers.files.retrieve(file!.id, { container_id: cid }),
      () => mine.containers.files.content.retrieve(file!.id, { container_id: cid }),
      () => mine.responses.retrieve(r.id),
      () => mine.responses.create({ model: "gpt-5", input: "again", previous_response_id: r.id }),
    ]) {
      const err = await attempt().catch((e) => e);
      expect(err, String(attempt)).toBeInstanceOf(OpenAI.APIError);
      expect([400, 404]).toContain(err.status);
      expect(err.message).toMatch(/not found/);
    }
    const listed: string[] = [];
    for await (const c of mine.containers.list()) listed.push(c.id);
    expect(listed).not.toContain(cid);
    // Its own organisation still reads everything.
    expect((await theirs.containers.retrieve(cid)).id).toBe(cid);
    expect((await theirs.responses.retrieve(r.id)).id).toBe(r.id);
  });

  it("creates, retrieves, lists and deletes a container", async () => {
    const openai = client();
    const created = await openai.containers.create({
      name: "c-crud",
      expires_after: { anchor: "last_active_at", minutes: 5 },
    });
    expect(created.id).toMatch(/^cntr_[0-9a-f]{48}$/);
    expect(created.status).toBe("running");
    expect(created.expires_after).toEqual({ anchor: "last_active_at", minutes: 5 });
    const got = await openai.containers.retrieve(created.id);
    expect(got.name).toBe("c-crud");
    const ids: string[] = [];
    for await (const c of openai.containers.list({ name: "c-crud" } as never)) ids.push(c.id);
    expect(ids).toContain(created.id);
    await openai.containers.delete(created.id);
    await expect(openai.containers.retrieve(created.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("pages a listing with after/limit/order, newest first by default, through auto-paging", async () => {
    const c = await control("/containers", {
      name: "paging",
      files: Array.from({ length: 45 }, (_, i) => ({ path: `f${i}.txt`, size: 10 })),
    });
    const openai = client();
    const first = await openai.containers.files.list(c.id, { limit: 20 });
    expect(first.data).toHaveLength(20);
    expect(first.has_more).toBe(true);
    expect(first.data[0]!.path).toBe("/mnt/data/f44.txt");
    const all: string[] = [];
    for await (const f of openai.containers.files.list(c.id, { limit: 20 })) all.push(f.path);
    expect(all).toHaveLength(45);
    expect(new Set(all).size).toBe(45);
    const asc = await openai.containers.files.list(c.id, { order: "asc", limit: 100 });
    expect(asc.data.map((f) => f.path)).toEqual([...all].reverse());
    const raw = await (await api(`/containers/${c.id}/files?limit=5&after=${first.data[4]!.id}`)).json<any>();
    expect(raw.first_id).toBe(first.data[5]!.id);
    expect(raw.last_id).toBe(first.data[9]!.id);
  });

  it("refuses limit outside 1..100", async () => {
    const c = await control("/containers", { name: "limits" });
    await expect(client().containers.files.list(c.id, { limit: 101 })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });

  it("uploads a file (multipart) and serves the same bytes; JSON {file_id} also works", async () => {
    const openai = client();
    const c = await openai.containers.create({ name: "upload" });
    const bytes = new TextEncoder().encode("a,b\n1,2\n");
    const f = await openai.containers.files.create(c.id, { file: new File([bytes], "in.csv") });
    expect(f.source).toBe("user");
    expect(f.bytes).toBe(bytes.length);
    expect(f.path).toMatch(/^\/mnt\/data\/[0-9a-f]{32}-in\.csv$/);
    const res = await openai.containers.files.content.retrieve(f.id, { container_id: c.id });
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
    const byId = await openai.containers.files.create(c.id, { file_id: "file-abc123" });
    expect(byId.path).toContain("file-abc123");
    await openai.containers.files.delete(f.id, { container_id: c.id });
    await expect(openai.containers.files.retrieve(f.id, { container_id: c.id })).rejects.toBeInstanceOf(
      OpenAI.NotFoundError,
    );
  });

  it("generates deterministic content as a stream whose sha256 matches the ground truth", async () => {
    const c = await control("/containers", {
      name: "content",
      files: [
        { path: "r.pdf" },
        { path: "d.csv", size: 5000 },
        { path: "p.png" },
        { path: "blob.bin", size: 3 * 1024 * 1024 + 7 },
      ],
    });
    const openai = client();
    for (const f of c.files) {
      const res = await openai.containers.files.content.retrieve(f.id, { container_id: c.id });
      const bytes = new Uint8Array(await res.arrayBuffer());
      expect(bytes.length).toBe(f.size);
      const truth = await control(`/files/${f.id}`);
      expect(await sha256(bytes)).toBe(truth.sha256);
    }
    const [pdf, csv, png] = c.files;
    const pdfText = new TextDecoder().decode(
      await (await openai.containers.files.content.retrieve(pdf.id, { container_id: c.id })).arrayBuffer(),
    );
    expect(pdfText.startsWith("%PDF-1.4")).toBe(true);
    expect(pdfText).toContain("%%EOF");
    const csvText = new TextDecoder().decode(
      await (await openai.containers.files.content.retrieve(csv.id, { container_id: c.id })).arrayBuffer(),
    );
    expect(csvText.split("\n")[0]).toBe("row,value,square");
    const pngBytes = new Uint8Array(
      await (await openai.containers.files.content.retrieve(png.id, { container_id: c.id })).arrayBuffer(),
    );
    expect([...pngBytes.slice(1, 4)]).toEqual([0x50, 0x4e, 0x47]);
  });

  it("counts list calls, container reads and content fetches", async () => {
    const c = await control("/containers", { name: "counters", files: [{ path: "x.txt", size: 10 }] });
    const openai = client();
    await openai.containers.files.list(c.id);
    await (await openai.containers.files.content.retrieve(c.files[0].id, { container_id: c.id })).arrayBuffer();
    await (await openai.containers.files.content.retrieve(c.files[0].id, { container_id: c.id })).arrayBuffer();
    const counters = await control("/counters");
    expect(counters.list_calls[c.id]).toBe(1);
    expect(counters.content_fetches[c.files[0].id]).toBe(2);
    expect(counters.container_reads[c.id]).toBeGreaterThanOrEqual(3);
  });

  it("expires: container status expired, file endpoints 404 'Container is expired.'", async () => {
    const c = await control("/containers", { name: "exp", files: [{ path: "x.txt", size: 10 }] });
    await control(`/containers/${c.id}/expire`, {});
    const openai = client();
    const got = await openai.containers.retrieve(c.id);
    expect(got.status).toBe("expired");
    const err = await openai.containers.files.list(c.id).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err.message).toContain("Container is expired.");
    const content = await openai.containers.files.content
      .retrieve(c.files[0].id, { container_id: c.id })
      .catch((e) => e);
    expect(content).toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("expires after its idle time, counted from the last activity", async () => {
    const c = await control("/containers", { name: "idle", expire_idle_ms: 300 });
    const openai = client();
    await sleep(150);
    await openai.containers.files.list(c.id); // activity
    await sleep(200);
    await openai.containers.files.list(c.id); // still alive: 200 ms since last activity
    await sleep(400);
    await expect(openai.containers.files.list(c.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("refuses a missing or wrong bearer key with 401", async () => {
    const missing = await fetch("https://api.openai.com/v1/containers");
    expect(missing.status).toBe(401);
    const body = await missing.json<any>();
    expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "type"]);
    const wrong = new OpenAI({ apiKey: "sk-wrong-key-123456", baseURL: "https://api.openai.com/v1", maxRetries: 0 });
    const err = await wrong.containers.list().catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(err.code).toBe("invalid_api_key");
  });

  it("serves /v1/models", async () => {
    const models = await client().models.list();
    expect(models.data.map((m) => m.id)).toContain("gpt-5");
  });

  it("drains a body", async () => {
    const c = await control("/containers", { name: "drain", files: [{ path: "x.bin", size: 1000 }] });
    const res = await api(`/containers/${c.id}/files/${c.files[0].id}/content`);
    const { bytes, failed } = await drain(res.body);
    expect(failed).toBe(false);
    expect(bytes.length).toBe(1000);
  });
});
