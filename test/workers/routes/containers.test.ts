/**
 * The container-file routes through the SDK: live containers list upstream's files with
 * unsandbox's url and state; after expiry the listing and the bytes come from unsandbox.
 */
import { describe, expect, it } from "vitest";
import { exports } from "cloudflare:workers";
import { download, sim, unsandbox, UNSANDBOX_KEY } from "../support/clients";
import { TOOLS, truthOf } from "../support/scenario";

async function sha256(bytes: ArrayBuffer) {
  return [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

describe("/v1/containers/{id}/files", () => {
  it("lists and serves a container's files, also after it expired", async () => {
    const client = unsandbox();
    // Listed at once upstream (late listing off), so the live listing below shows every file.
    const r = await client.responses.create({
      model: "gpt-5",
      input: "sim: scenario=several-files; quirks=-late_listing",
      tools: TOOLS,
    });
    const truth = await truthOf(r.id);
    const cid = truth.container_id!;

    const live: { id: string; url: string | null; state: string }[] = [];
    for await (const f of client.containers.files.list(cid, { limit: 2 })) live.push(f as never);
    for (const w of truth.written) {
      const entry = live.find((f) => f.id === w.file_id);
      expect(entry?.state).toBe("stored");
      expect((await download(entry!.url!)).sha256).toBe(w.sha256);
    }

    await sim(`/containers/${cid}/expire`, { body: {} });
    const after: { id: string; path: string; state: string }[] = [];
    for await (const f of client.containers.files.list(cid, { limit: 1, order: "asc" })) after.push(f as never);
    expect(new Set(after.map((f) => f.id))).toEqual(new Set(truth.written.map((w) => w.file_id)));
    for (const w of truth.written) {
      const meta = await client.containers.files.retrieve(w.file_id, { container_id: cid });
      expect(meta.path).toBe(w.path);
      const content = await client.containers.files.content.retrieve(w.file_id, { container_id: cid });
      expect(await sha256(await content.arrayBuffer())).toBe(w.sha256);
    }
    // Unknown files of a gone container are OpenAI-shaped 404s.
    await expect(
      client.containers.files.retrieve("cfile_00000000000000000000000000000000", { container_id: cid }),
    ).rejects.toMatchObject({ status: 404 });
  });

  it("serves stored content like a download link: ETag, Range, If-None-Match, HEAD and the safety headers", async () => {
    const r = await unsandbox().responses.create({ model: "gpt-5", input: "sim: scenario=one-file", tools: TOOLS });
    const truth = await truthOf(r.id);
    const w = truth.written[0]!;
    const cid = truth.container_id!;
    await sim(`/containers/${cid}/expire`, { body: {} });
    const get = (headers: Record<string, string> = {}, method = "GET") =>
      exports.default.fetch(`https://unsandbox.test/v1/containers/${cid}/files/${w.file_id}/content`, {
        method,
        headers: { authorization: `Bearer ${UNSANDBOX_KEY}`, ...headers },
      });
    const full = await get();
    expect(full.status).toBe(200);
    const bytes = new Uint8Array(await full.arrayBuffer());
    expect(await sha256(bytes.buffer)).toBe(w.sha256);
    const etag = full.headers.get("etag")!;
    expect(etag).toBeTruthy();
    expect(
      Object.fromEntries(
        [
          "x-content-type-options",
          "content-security-policy",
          "referrer-policy",
          "x-robots-tag",
          "accept-ranges",
          "content-length",
        ].map((h) => [h, full.headers.get(h)]),
      ),
    ).toEqual({
      "x-content-type-options": "nosniff",
      "content-security-policy": "sandbox",
      "referrer-policy": "no-referrer",
      "x-robots-tag": "noindex",
      "accept-ranges": "bytes",
      "content-length": String(bytes.length),
    });
    expect(full.headers.get("last-modified")).toBeTruthy();
    const part = await get({ range: "bytes=1-3" });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 1-3/${bytes.length}`);
    expect([...new Uint8Array(await part.arrayBuffer())]).toEqual([...bytes.subarray(1, 4)]);
    const past = await get({ range: `bytes=${bytes.length}-` });
    expect(past.status).toBe(416);
    expect(past.headers.get("content-range")).toBe(`bytes */${bytes.length}`);
    expect((await get({ "if-none-match": etag })).status).toBe(304);
    const head = await get({}, "HEAD");
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(bytes.length));
    expect(await head.text()).toBe("");
  });

  it("refuses a malformed list query in OpenAI's shape", async () => {
    await expect(unsandbox().containers.files.list("cntr_abc", { limit: 1000 })).rejects.toMatchObject({ status: 400 });
  });
});
