/**
 * Optional repair through the route: a request that asks for it (`x-unsandbox-repair: 1`) and
 * links a file the model never wrote gets one more turn from the tracker's alarm once the sweep
 * window closes, and its link starts serving the repaired file. Without it the link stays a 404
 * (see the phantom case in test/workers/routes/responses.test.ts).
 */
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm } from "cloudflare:test";
import { expect, it } from "vitest";
import { trackerFor } from "../../../src/tracker/stubs";
import { download, sim, unsandbox } from "../support/clients";
import { closeSweepWindow, TOOLS, truthOf, type AnswerFile } from "../support/scenario";

it("repairs a phantom file from the tracker's alarm when the request asks for it", async () => {
  const client = unsandbox({ headers: { "x-unsandbox-repair": "1", "x-unsandbox-wait-ms": "0" } });
  const r = (await client.responses.create({
    model: "gpt-5",
    input: "sim: scenario=phantom",
    tools: TOOLS,
  })) as unknown as {
    id: string;
    unsandbox: { files: AnswerFile[] };
  };
  const truth = await truthOf(r.id);
  expect(truth.written).toEqual([]);
  const phantom = r.unsandbox.files.find((f) => f.file_id === null)!;
  expect(truth.claimed).toContain(phantom.path);

  // The window closes with the path never written: the same alarm run starts the repair turn.
  await closeSweepWindow(truth.container_id!);
  let got = await download(phantom.url);
  for (let i = 0; i < 80 && got.status !== 200; i++) {
    await runDurableObjectAlarm(trackerFor(env, truth.container_id!));
    await new Promise((res) => setTimeout(res, 250));
    got = await download(phantom.url);
  }
  expect(got.status).toBe(200);
  const files = ((await await client.responses.retrieve(r.id)) as unknown as { unsandbox: { files: AnswerFile[] } })
    .unsandbox.files;
  const repaired = files.find((f) => f.path === phantom.path && f.file_id !== null)!;
  expect(repaired.state).toBe("stored");
  expect(got.sha256).toBe((await sim<{ sha256: string }>(`/files/${repaired.file_id}`)).sha256);
});
