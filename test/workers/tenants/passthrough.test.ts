/**
 * Pass-through mode with a caller whose OpenAI key is not the deployment's: the simulator treats
 * the two keys as two organisations (sim/src/orgs.ts), so the deployment's key cannot see the
 * caller's containers or responses. Every call unsandbox makes after the request (the trackers'
 * listings and copies, the background watch) must therefore use the caller's own key, kept sealed.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { trackerFor } from "../../../src/tracker/stubs";
import { SIM_OTHER_ORG_KEY } from "../../test-keys";
import { control } from "../support/sim";
import { as, sdk, sleep } from "../support/tenants";

const TOOLS = [{ type: "code_interpreter" as const, container: { type: "auto" as const } }];

interface ManifestFile {
  file_id: string | null;
  path: string;
  state: string;
  sha256: string | null;
  url: string;
}

/** The response's manifest once every file has settled (the wait header, no polling). */
async function settled(responseId: string): Promise<ManifestFile[]> {
  const res = await as("passthrough", SIM_OTHER_ORG_KEY, `/v1/responses/${responseId}/files`, {
    headers: { "x-unsandbox-wait-ms": "30000" },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: ManifestFile[] }).data;
}

async function expectStoredLikeTheSimulator(files: ManifestFile[], n: number) {
  expect(files.map((f) => f.state)).toEqual(Array(n).fill("stored"));
  for (const f of files) {
    const truth = await control<{ sha256: string }>(`/files/${f.file_id}`);
    expect(f.sha256).toBe(truth.sha256);
  }
}

describe("pass-through with the caller's own key", () => {
  it("copies the files of a plain answer with the caller's key, not the deployment's", async () => {
    const openai = sdk("passthrough", SIM_OTHER_ORG_KEY, { "x-unsandbox-wait-ms": "20000" });
    const r = (await openai.responses.create({
      model: "gpt-5",
      input: "Two files.\nsim: scenario=several-files",
      tools: TOOLS,
    })) as unknown as { id: string; unsandbox: { files: ManifestFile[] } };
    await expectStoredLikeTheSimulator(r.unsandbox.files, r.unsandbox.files.length);
    expect(r.unsandbox.files.length).toBeGreaterThanOrEqual(2);
    await expectStoredLikeTheSimulator(await settled(r.id), r.unsandbox.files.length);
    // The tracker keeps the caller's key for its later reads, sealed, never in the clear.
    const call = (r as unknown as { output: { type: string; container_id?: string }[] }).output.find(
      (o) => o.type === "code_interpreter_call",
    );
    const [row] = await runInDurableObject(
      trackerFor(env as never, call!.container_id!),
      (_: unknown, state: DurableObjectState) =>
        state.storage.sql
          .exec<{ upstream_key_sealed: string | null }>("SELECT upstream_key_sealed FROM _schema")
          .toArray(),
    );
    expect(row!.upstream_key_sealed).toBeTruthy();
    expect(row!.upstream_key_sealed).not.toContain(SIM_OTHER_ORG_KEY);
  });

  it("copies the files of a streamed answer with the caller's key", async () => {
    const openai = sdk("passthrough", SIM_OTHER_ORG_KEY);
    const stream = openai.responses.stream({
      model: "gpt-5",
      input: "Two files.\nsim: scenario=several-files",
      tools: TOOLS,
    });
    const final = (await stream.finalResponse()) as unknown as { id: string };
    const files = await settled(final.id);
    expect(files.length).toBeGreaterThanOrEqual(2);
    await expectStoredLikeTheSimulator(files, files.length);
  });

  it("follows a background response with the caller's key until it ends, then stores its files", async () => {
    const openai = sdk("passthrough", SIM_OTHER_ORG_KEY);
    const r = await openai.responses.create({
      model: "gpt-5",
      input: "One file.\nsim: scenario=one-file",
      tools: TOOLS,
      background: true,
    });
    expect(r.status).not.toBe("completed");
    // Nobody polls: the response's own index follows it upstream and harvests it.
    let files: ManifestFile[] = [];
    for (let i = 0; i < 60 && files.length === 0; i++) {
      files = await settled(r.id);
      if (files.length === 0) await sleep(250);
    }
    await expectStoredLikeTheSimulator(files, 1);
  });
});
