/**
 * Managed containers: with `x-unsandbox-managed-container: 1`, unsandbox creates the container
 * (with the requested expiry), passes its id to the tool, and a conversation chained with
 * previous_response_id keeps that one container, and its one tracker, across turns.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { trackerFor } from "../../../src/tracker/stubs";
import { direct, sim } from "../support/clients";
import { client } from "../support/worker";

const TOOLS = [{ type: "code_interpreter" as const, container: { type: "auto" as const } }];
const turn = (name: string) => `Write ${name}.\nsim: scenario=one-file; files=${name}; quirks=-late_listing`;

/** Containers unsandbox created since `since` with this expiry (each test uses its own, to tell them apart). */
async function managedContainers(since: number, minutes: number) {
  const all = [];
  for await (const c of direct().containers.list({ limit: 100 })) all.push(c);
  return all.filter(
    (c) => c.name.startsWith("unsandbox-default-") && c.created_at >= since && c.expires_after?.minutes === minutes,
  );
}

describe("managed containers", () => {
  it("a three-turn conversation keeps one container, created by unsandbox, and one tracker", async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const sdk = client({ "x-unsandbox-managed-container": "1", "x-unsandbox-container-expiry-minutes": "7" });
    const r1 = (await sdk.responses.create({ model: "gpt-5", input: turn("one.csv"), tools: TOOLS })) as any;
    const r2 = (await sdk.responses.create({
      model: "gpt-5",
      input: turn("two.csv"),
      tools: TOOLS,
      previous_response_id: r1.id,
    })) as any;
    const r3 = (await sdk.responses.create({
      model: "gpt-5",
      input: turn("three.csv"),
      tools: TOOLS,
      previous_response_id: r2.id,
    })) as any;

    const truth = await Promise.all([r1, r2, r3].map((r) => sim<{ container_id: string }>(`/responses/${r.id}`)));
    const ids = new Set(truth.map((t) => t.container_id));
    expect(ids.size).toBe(1);
    const [containerId] = [...ids] as [string];

    const created = await managedContainers(since, 7);
    expect(created.map((c) => c.id)).toEqual([containerId]);
    expect(created[0]!.expires_after?.minutes).toBe(7);

    // Every turn's file is stored, all under that container, all known to its one tracker.
    const tracker = trackerFor(env, containerId);
    const names = [];
    for (const r of [r1, r2, r3]) {
      const files = r.unsandbox.files.filter((f: any) => f.cited.includes("annotation"));
      expect(files.map((f: any) => f.container_id)).toEqual([containerId]);
      expect(files[0].state).toBe("stored");
      const manifest = await tracker.manifest(r.id);
      expect(manifest.map((e) => e.file_id)).toContain(files[0].file_id);
      names.push(files[0].filename);
    }
    expect(names).toEqual(["one.csv", "two.csv", "three.csv"]);
  });

  it("the hosted shell tool: container_auto becomes a container_reference to the one container unsandbox created, kept across turns", async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const sdk = client({ "x-unsandbox-managed-container": "1", "x-unsandbox-container-expiry-minutes": "13" });
    const tools = [
      {
        type: "shell",
        environment: { type: "container_auto", skills: [{ type: "skill_reference", skill_id: "skill_docx" }] },
      },
    ] as never;
    const r1 = (await sdk.responses.create({ model: "gpt-5", input: turn("a.docx"), tools })) as any;
    const r2 = (await sdk.responses.create({
      model: "gpt-5",
      input: turn("b.docx"),
      tools,
      previous_response_id: r1.id,
    })) as any;
    const created = await managedContainers(since, 13);
    expect(created.length).toBe(1);
    for (const r of [r1, r2]) {
      expect(r.output.find((i: any) => i.type === "shell_call").environment).toEqual({
        type: "container_reference",
        container_id: created[0]!.id,
      });
      // The tools echoed upstream show what unsandbox forwarded.
      expect((await direct().responses.retrieve(r.id)).tools).toEqual([
        { type: "shell", environment: { type: "container_reference", container_id: created[0]!.id } },
      ]);
      const stored = r.unsandbox.files.filter((f: any) => f.state === "stored");
      expect(stored.length).toBeGreaterThan(0);
      expect([...new Set(stored.map((f: any) => f.container_id))]).toEqual([created[0]!.id]);
    }
  });

  it("a chain whose container expired gets a fresh managed one instead of a 400", async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const sdk = client({ "x-unsandbox-managed-container": "1", "x-unsandbox-container-expiry-minutes": "11" });
    const r1 = (await sdk.responses.create({ model: "gpt-5", input: turn("first.csv"), tools: TOOLS })) as any;
    const first = (await sim<{ container_id: string }>(`/responses/${r1.id}`)).container_id;
    await sim(`/containers/${first}/expire`, { body: {} });
    const r2 = (await sdk.responses.create({
      model: "gpt-5",
      input: turn("second.csv"),
      tools: TOOLS,
      previous_response_id: r1.id,
    })) as any;
    const second = (await sim<{ container_id: string }>(`/responses/${r2.id}`)).container_id;
    expect(second).not.toBe(first);
    expect((await managedContainers(since, 11)).map((c) => c.id).sort()).toEqual([first, second].sort());
  });

  it("without the header the model's auto container is used, and a bad expiry is a 400", async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const r = (await client().responses.create({ model: "gpt-5", input: turn("auto.csv"), tools: TOOLS })) as any;
    const truth = await sim<{ container_id: string }>(`/responses/${r.id}`);
    expect(truth.container_id).toMatch(/^cntr_/);
    expect((await managedContainers(since, 20)).map((c) => c.id)).not.toContain(truth.container_id);

    const bad = client({ "x-unsandbox-managed-container": "1", "x-unsandbox-container-expiry-minutes": "0" });
    await expect(bad.responses.create({ model: "gpt-5", input: turn("x.csv"), tools: TOOLS })).rejects.toMatchObject({
      status: 400,
      param: "x-unsandbox-container-expiry-minutes",
    });
  });
});
