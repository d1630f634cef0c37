/**
 * The container-file routes through the SDK: live containers list upstream's files with
 * unsandbox's url and state; after expiry the listing and the bytes come from unsandbox.
 */
import { describe, expect, it } from "vitest";
import { download, sim, unsandbox } from "../support/clients";
import { TOOLS, truthOf } from "../support/scenario";

async function sha256(bytes: ArrayBuffer) {
  return [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

describe("/v1/containers/{id}/files", () => {
  it("lists and serves a container's files, also after it expired", async () => {
    const client = unsandbox();
    // Listed at once upstream (late listing off), so the live listing below shows every file.
    const r = await client.responses.create({ model: "gpt-5", input: "sim: scenario=several-files; quirks=-late_listing", tools: TOOLS });
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
    await expect(client.containers.files.retrieve("cfile_00000000000000000000000000000000", { container_id: cid })).rejects.toMatchObject({ status: 404 });
  });

  it("refuses a malformed list query in OpenAI's shape", async () => {
    await expect(unsandbox().containers.files.list("cntr_abc", { limit: 1000 })).rejects.toMatchObject({ status: 400 });
  });
});
