/**
 * Same path, same id (docs/assumptions.md §4): the real API may give a path written again by a
 * later turn a new file id, or keep the id and `created_at` (the simulator's switch
 * `same_id_rewrite`). Either way each turn's link serves the bytes of its own turn, before and
 * after the container expired, and each turn's manifest reports its own sha256. Plain and streamed.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { direct, download, sim, unsandbox, UNSANDBOX_KEY } from "../support/clients";
import { converge, textsOf, TOOLS, truthOf, type AnswerFile, type Truth } from "../support/scenario";
import { env, sim as control, tracker } from "../support/tracker";

type Answer = { id: string; output: unknown[] };
const PATH = "/mnt/data/report.csv";

/** The download URLs in the answer's text, in order. */
const urlsIn = (answer: Answer) =>
  textsOf(answer).flatMap((p) =>
    [...p.text!.matchAll(/https:\/\/files\.unsandbox\.test\/files\/[A-Za-z0-9_-]+\/[A-Za-z0-9._~%-]*/g)].map(
      (m) => m[0],
    ),
  );

/** One turn through unsandbox, plain or streamed (the SDK's stream, read to its final response). */
async function turn(input: string, streamed: boolean, previous?: string): Promise<Answer> {
  const body = { model: "gpt-5", input, tools: TOOLS, ...(previous ? { previous_response_id: previous } : {}) };
  if (!streamed) return (await unsandbox().responses.create(body)) as unknown as Answer;
  const stream = unsandbox().responses.stream(body);
  for await (const _ of stream);
  return (await stream.finalResponse()) as unknown as Answer;
}

/** The response's manifest (`GET /v1/responses/{id}/files`) entry for the path. */
async function manifestEntry(id: string): Promise<AnswerFile> {
  const res = await exports.default.fetch(`https://unsandbox.test/v1/responses/${id}/files`, {
    headers: { authorization: `Bearer ${UNSANDBOX_KEY}` },
  });
  expect(res.status).toBe(200);
  const entries = ((await res.json()) as { data: AnswerFile[] }).data.filter((f) => f.path === PATH);
  expect(entries, `${id} lists ${PATH} once`).toHaveLength(1);
  return entries[0]!;
}

async function expectLinkServes(url: string, truth: Truth) {
  const got = await download(url);
  expect(got.status).toBe(200);
  expect(got.sha256).toBe(truth.written[0]!.sha256);
}

describe("a later turn rewrites the same path", () => {
  for (const sameId of [true, false])
    for (const streamed of [false, true])
      it(`${sameId ? "same id (same_id_rewrite on)" : "new id (switch off)"}, ${streamed ? "streamed" : "plain"}: each turn's link serves its own bytes, each manifest its own sha256`, async () => {
        const quirks = sameId ? "; quirks=+same_id_rewrite" : "";
        const t1 = await turn(`Make the report.\nsim: scenario=one-file; files=report.csv${quirks}`, streamed);
        const truth1 = await truthOf(t1.id);
        // Turn 1's copy finishes before the app asks again (bytes overwritten before any copy are gone).
        await converge(t1.id, truth1);
        const t2 = await turn(`Redo it with new data.\nsim: scenario=rewrite-same-path${quirks}`, streamed, t1.id);
        const truth2 = await truthOf(t2.id);

        // What upstream did: the same path with new bytes, under the same id or a new one.
        expect(truth2.container_id).toBe(truth1.container_id);
        expect([truth1.written[0]!.path, truth2.written[0]!.path]).toEqual([PATH, PATH]);
        expect(truth2.written[0]!.file_id === truth1.written[0]!.file_id).toBe(sameId);
        expect(truth2.written[0]!.sha256).not.toBe(truth1.written[0]!.sha256);

        const [u1] = urlsIn(t1);
        const [u2] = urlsIn(t2);
        expect(u1 && u2 && u1 !== u2).toBe(true);
        // Turn 2's link first, while its harvest may still run: it must not settle on turn 1's copy.
        await expectLinkServes(u2!, truth2);
        await expectLinkServes(u1!, truth1);

        await converge(t2.id, truth2);
        const [m1, m2] = [await manifestEntry(t1.id), await manifestEntry(t2.id)];
        expect([m1.file_id, m1.state, m1.sha256]).toEqual([
          truth1.written[0]!.file_id,
          "stored",
          truth1.written[0]!.sha256,
        ]);
        expect([m2.file_id, m2.state, m2.sha256]).toEqual([
          truth2.written[0]!.file_id,
          "stored",
          truth2.written[0]!.sha256,
        ]);

        // After the container expired, the bytes come from R2: still each turn's own.
        await sim(`/containers/${truth1.container_id}/expire`, { body: {} });
        await expectLinkServes(u1!, truth1);
        await expectLinkServes(u2!, truth2);
      });
});

describe("the later turn's harvest", () => {
  it("a later turn takes an earlier turn's file unchanged only by naming it: a sweep inside its slack leaves it to the earlier turn", async () => {
    const ct = await control.container([{ path: PATH, size: 2129 }]);
    const f = ct.files[0]!;
    const t = tracker(ct.id);
    const at = { tenant: "default", containerId: ct.id };
    const cite = [{ fileId: f.id, cited: "annotation" as const }];
    await t.track({ ...at, responseId: "resp_slack_a", responseCreatedAt: f.created_at, refs: cite, sweep: false });
    expect((await t.waitForStored("resp_slack_a", 30_000)).map((e) => [e.file_id, e.version, e.state])).toEqual([
      [f.id, 1, "stored"],
    ]);
    // A second later (within the 5 s slack of its window) another turn lists the container: not its file.
    const b = await t.track({ ...at, responseId: "resp_slack_b", responseCreatedAt: f.created_at + 1, refs: [] });
    expect(b).toEqual([]);
    // A turn that links the path gets a version of its own, copied after it ended.
    const c = await t.track({
      ...at,
      responseId: "resp_slack_c",
      responseCreatedAt: f.created_at + 2,
      refs: [{ path: PATH, cited: "link" }],
    });
    expect(c.map((e) => [e.file_id, e.version, e.cited])).toEqual([[f.id, 2, ["link"]]]);
    const stored = await t.waitForStored("resp_slack_c", 30_000);
    expect([stored[0]!.state, stored[0]!.sha256]).toEqual(["stored", (await control.truth(f.id)).sha256]);
  });

  it("a link of the later turn resolved while its stream runs waits for its own version, never settles on the earlier copy", async () => {
    const quirks = "; quirks=+same_id_rewrite";
    const t1 = await turn(`Make the report.\nsim: scenario=one-file; files=report.csv${quirks}`, false);
    const truth1 = await truthOf(t1.id);
    await converge(t1.id, truth1);
    // Turn 2 runs upstream and rewrites the file in place; unsandbox has only seen its stream start.
    const t2 = await direct().responses.create({
      model: "gpt-5",
      input: `sim: scenario=rewrite-same-path${quirks}`,
      tools: TOOLS,
      previous_response_id: t1.id,
    });
    const truth2 = await truthOf(t2.id);
    const fileId = truth1.written[0]!.file_id;
    expect(truth2.written[0]!.file_id).toBe(fileId);
    const t = tracker(truth1.container_id!);
    const who = { tenant: "default", containerId: truth1.container_id!, responseId: t2.id };
    await t.open({ ...who, responseCreatedAt: t2.created_at });
    expect(await t.resolvePath({ tenant: "default", responseId: t2.id, path: PATH })).toEqual({ kind: "pending" });

    await t.track({
      ...who,
      responseCreatedAt: t2.created_at,
      refs: [
        { fileId, filename: "report.csv", cited: "annotation" },
        { path: PATH, cited: "link" },
      ],
    });
    const r2 = await t.resolvePath({ tenant: "default", responseId: t2.id, path: PATH });
    expect(r2).toEqual({ kind: "file", containerId: truth1.container_id, fileId, version: 2 });
    expect(await t.resolvePath({ tenant: "default", responseId: t1.id, path: PATH })).toEqual({
      ...r2,
      version: 1,
    });
    const stored = await t.waitForFile({ tenant: "default", fileId, version: 2 }, 30_000);
    expect([stored?.state, stored?.sha256]).toEqual(["stored", truth2.written[0]!.sha256]);
    // Each version has its own R2 key, written once.
    const v1 = await t.lookup({ tenant: "default", fileId, version: 1 });
    expect(v1?.sha256).toBe(truth1.written[0]!.sha256);
    expect(stored!.r2Key).not.toBe(v1!.r2Key);
    expect((await env.FILES.head(stored!.r2Key))?.size).toBe(truth2.written[0]!.bytes);
  });
});
