// Optional repair (issue 8): off by default; one attempt; a file the repair turn writes is
// attributed to the original response, whose link then starts working.
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config";
import { repairEnabled, repairMissingFiles, repairPrompt } from "../../../src/harvest/repair";
import { targetOf } from "../../../src/upstream/fetch";
import { env, sha256Hex, sim, tracker } from "../tracker/sim";
import { alarmAt, fetchWorker, link, register, T } from "./helpers";

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
  const body = (await res.json()) as { id: string; created_at: number; output: { type: string; container_id?: string }[] };
  return { id: body.id, created_at: body.created_at, containerId: body.output.find((o) => o.type === "code_interpreter_call")!.container_id! };
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
    const result = await repairMissingFiles(env, { tenant: T, responseId: r.id, containerId: r.containerId, model: "gpt-5", upstream });
    expect(result).toMatchObject({ attempted: true, repaired: [path], stillMissing: [] });
    const [after] = await tracker(r.containerId).manifest(r.id);
    expect(after).toMatchObject({ path, state: "stored", cited: ["link"] });
    const res = await fetchWorker(url);
    expect(res.status).toBe(200);
    expect(await sha256Hex(await res.arrayBuffer())).toBe((await sim.truth(after!.file_id!)).sha256);
    // The repair turn really was a forced code-interpreter turn in the same chain, in this container.
    const truth = (await (await fetch(`https://api.openai.com/__sim/responses/${result.repairResponseId}`)).json()) as { container_id: string; written: { file_id: string }[] };
    expect(truth.container_id).toBe(r.containerId);
    expect(truth.written.map((w) => w.file_id)).toEqual([after!.file_id]);
    // One attempt only.
    const again = await repairMissingFiles(env, { tenant: T, responseId: r.id, containerId: r.containerId, model: "gpt-5", upstream });
    expect(again.attempted).toBe(false);
  });
});
