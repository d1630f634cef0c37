// Optional repair (issue 8): off by default; one attempt; a file the repair turn writes is
// attributed to the original response, whose link then starts working.
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config";
import { repairEnabled } from "../../../src/harvest/repair";
import { targetOf, type UpstreamTarget } from "../../../src/upstream/fetch";
import { repairPrompt, startRepairTurn } from "../../../src/upstream/repair-turn";
import { env, sha256Hex, sim, tracker } from "../support/tracker";
import { alarmAt, fetchWorker, link, register, T } from "../support/lifecycle";

async function phantomResponse(): Promise<{ id: string; created_at: number; containerId: string }> {
  const res = await fetch("https://api.openai.com/v1/responses", {
    method: "POST",
    headers: { authorization: "Bearer sk-sim-test", "content-type": "application/json" },
    body: JSON.stringify({
      model: "gpt-5",
      input: "Compute the results and link the file.\nsim: scenario=phantom; files=report.pdf",
      tools: [{ type: "code_interpreter", container: { type: "auto" } }],
    }),
  });
  const body = (await res.json()) as {
    id: string;
    created_at: number;
    output: { type: string; container_id?: string }[];
  };
  return {
    id: body.id,
    created_at: body.created_at,
    containerId: body.output.find((o) => o.type === "code_interpreter_call")!.container_id!,
  };
}

/**
 * The repair sequence driven from outside, in one call, through the tracker's public RPC (the
 * tracker's alarm runs the same steps on its own: test/workers/harvest/repair.test.ts): claim the
 * one attempt, start the repair turn, track it like any response, wait for its copies, adopt.
 */
async function repairFromOutside(input: {
  responseId: string;
  containerId: string;
  model: string;
  upstream: UpstreamTarget;
}) {
  const t = tracker(input.containerId);
  const paths = await t.beginRepair({ tenant: T, responseId: input.responseId });
  if (!paths?.length)
    return { attempted: false, repaired: [] as string[], stillMissing: [] as string[], repairResponseId: null };
  const started = await startRepairTurn(input.upstream, {
    responseId: input.responseId,
    containerId: input.containerId,
    model: input.model,
    paths,
  });
  if (!started) return { attempted: true, repaired: [] as string[], stillMissing: paths, repairResponseId: null };
  await t.track({
    tenant: T,
    containerId: input.containerId,
    responseId: started.id,
    responseCreatedAt: started.createdAt,
    refs: paths.map((path) => ({ path, cited: "link" as const })),
    sweep: true,
  });
  await t.waitForStored(started.id, 20_000);
  const repaired = await t.adoptRepair({
    tenant: T,
    responseId: input.responseId,
    repairResponseId: started.id,
    paths,
  });
  return {
    attempted: true,
    repaired,
    stillMissing: paths.filter((p) => !repaired.includes(p)),
    repairResponseId: started.id,
  };
}

describe("repair", () => {
  it("is off by default", () => {
    expect(repairEnabled(env)).toBe(false);
    expect(repairEnabled({ UNSANDBOX_REPAIR: "true" })).toBe(true);
    expect(repairPrompt(["/mnt/data/a.csv"])).toContain("/mnt/data/a.csv");
  });

  it("asks once, forcing the code interpreter, and the original link starts working", async () => {
    const r = await phantomResponse();
    const path = "/mnt/data/report.pdf";
    await register(r.containerId, r.id, r.created_at, [{ path, cited: "link" }], { sweep: true });
    await alarmAt(r.containerId, 60_000); // the late-registration window closes: never written
    const [before] = await tracker(r.containerId).manifest(r.id);
    expect(before).toMatchObject({ path, state: "missing", file_id: null });
    const url = await link({ responseId: r.id, path });
    expect((await fetchWorker(url)).status).toBe(404);

    const upstream = targetOf(loadConfig(env));
    const result = await repairFromOutside({ responseId: r.id, containerId: r.containerId, model: "gpt-5", upstream });
    expect(result).toMatchObject({ attempted: true, repaired: [path], stillMissing: [] });
    const [after] = await tracker(r.containerId).manifest(r.id);
    expect(after).toMatchObject({ path, state: "stored", cited: ["link"] });
    const res = await fetchWorker(url);
    expect(res.status).toBe(200);
    expect(await sha256Hex(await res.arrayBuffer())).toBe((await sim.truth(after!.file_id!)).sha256);
    // The repair turn really was a forced code-interpreter turn in the same chain, in this container.
    const truth = (await (await fetch(`https://api.openai.com/__sim/responses/${result.repairResponseId}`)).json()) as {
      container_id: string;
      written: { file_id: string }[];
    };
    expect(truth.container_id).toBe(r.containerId);
    expect(truth.written.map((w) => w.file_id)).toEqual([after!.file_id]);
    // One attempt only.
    const again = await repairFromOutside({ responseId: r.id, containerId: r.containerId, model: "gpt-5", upstream });
    expect(again.attempted).toBe(false);
  });
});
