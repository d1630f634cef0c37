/**
 * Replays every recorded real answer of `POST /v1/responses` (../shared/real-traffic, read in
 * place by the global setup; this test skips and says so when the folder is absent) through
 * unsandbox, against a simulator that answers with the recording (`POST /__sim/replays`, then the
 * directive `sim: replay=<id>`). For each, plain or streamed:
 * - streamed: the events are the recording's, one for one (types and sequence numbers);
 * - the text is the recording's, identical outside link destinations, and no sandbox link is left;
 * - every other field of every output item is the recording's;
 * - every `container_file_citation` has a `url`, and a citation that spanned a link spans the new one;
 * - every link and citation URL downloads the bytes the simulator holds for that file (recordings
 *   hold no file contents, so the simulator serves deterministic bytes for the recorded ids).
 */
import { describe, expect, inject, it } from "vitest";
import { env, exports } from "cloudflare:workers";
import { loadConfig } from "../../../src/config";
import { findSandboxRefs } from "../../../src/links/find";
import { verifyLink } from "../../../src/links/token";
import { download, sim, UNSANDBOX_KEY } from "../support/clients";
import { expectOnlyLinksRewritten, textsOf, TOOLS } from "../support/scenario";
import type { Recording } from "./recordings";

type Json = Record<string, any>;
type ReplayFile = { file_id: string; container_id: string; path: string };

const AUTH = { authorization: `Bearer ${UNSANDBOX_KEY}`, "content-type": "application/json" };
const OURS = /https:\/\/files\.unsandbox\.test\/files\/[A-Za-z0-9_-]+\/[A-Za-z0-9._~%-]*/g;
const traffic = inject("realTraffic");

async function ask(replayId: string, stream: boolean): Promise<Response> {
  const res = await exports.default.fetch("https://unsandbox.test/v1/responses", {
    method: "POST",
    headers: AUTH,
    // The client asks for the outputs, so the answer keeps them as recorded.
    body: JSON.stringify({
      model: "gpt-5",
      stream,
      input: `sim: replay=${replayId}`,
      tools: TOOLS,
      include: ["code_interpreter_call.outputs"],
    }),
  });
  expect(res.status).toBe(200);
  return res;
}

async function readEvents(res: Response): Promise<Json[]> {
  return (await res.text())
    .split("\n\n")
    .filter((b) => b.includes("data:"))
    .map((b) => JSON.parse(b.slice(b.indexOf("data:") + 5)) as Json);
}

/** An output item without its text parts' `text` and `annotations` (compared on their own). */
function withoutTexts(item: Json): Json {
  if (item.type !== "message" || !Array.isArray(item.content)) return item;
  return {
    ...item,
    content: item.content.map((p: Json) =>
      p.type === "output_text" ? { ...p, text: undefined, annotations: (p.annotations ?? []).length } : p,
    ),
  };
}

/** Every citation has a url; one whose recorded span was a link spans the new link. */
function expectCitations(ours: Json, theirs: Json) {
  const a = textsOf(ours);
  const b = textsOf(theirs);
  a.forEach((part, i) => {
    const recorded = (b[i]!.annotations ?? []) as Json[];
    const links = findSandboxRefs(b[i]!.text!);
    (part.annotations ?? []).forEach((ann: Json, k: number) => {
      if (ann.type !== "container_file_citation") return;
      expect(ann.url, `citation ${ann.file_id} has a url`).toMatch(/^https:\/\/files\.unsandbox\.test\/files\//);
      const was = recorded[k]!;
      if (links.some((l) => l.start === was.start_index && l.end === was.end_index))
        expect(part.text!.slice(ann.start_index, ann.end_index)).toBe(ann.url);
      else expect([ann.start_index, ann.end_index]).toEqual([was.start_index, was.end_index]);
    });
  });
}

/** Every URL of the answer downloads the simulator's bytes for the file it names. */
async function expectDownloads(answer: Json, files: ReplayFile[]) {
  const config = loadConfig(env);
  const urls = new Set<string>();
  for (const p of textsOf(answer)) {
    for (const m of p.text!.matchAll(OURS)) urls.add(m[0]);
    for (const a of p.annotations ?? []) if (a.url) urls.add(a.url);
  }
  const byPath = new Map(files.map((f) => [f.path, f]));
  let checked = 0;
  for (const url of urls) {
    const token = new URL(url).pathname.split("/")[2]!;
    const v = await verifyLink(token, config.LINK_SECRETS, Date.now());
    expect(v.ok).toBe(true);
    const file = v.ok ? byPath.get(v.claims.path) : undefined;
    // A path no recorded container holds (a later turn linking an earlier one's file) is not served here.
    if (!file) continue;
    const truth = await sim<{ sha256: string }>(`/files/${file.file_id}`);
    const got = await download(url);
    expect(got.status, `${file.path} downloads`).toBe(200);
    expect(got.sha256, `${file.path} bytes`).toBe(truth.sha256);
    checked++;
  }
  return checked;
}

function expectSameItems(ours: Json, theirs: Json) {
  expect((ours.output as Json[]).map(withoutTexts)).toEqual((theirs.output as Json[]).map(withoutTexts));
  const links = expectOnlyLinksRewritten(ours, theirs);
  expectCitations(ours, theirs);
  return links;
}

async function replayPlain(rec: Recording) {
  const { id, files } = await sim<{ id: string; files: ReplayFile[] }>("/replays", {
    body: { response: rec.response },
  });
  const answer = (await (await ask(id, false)).json()) as Json;
  const { unsandbox, ...rest } = answer;
  expect(unsandbox.files.length).toBeGreaterThanOrEqual(0);
  expect(Object.keys(rest).sort()).toEqual(Object.keys(rec.response!).sort());
  expectSameItems(answer, rec.response!);
  return { links: await expectDownloads(answer, files), files };
}

async function replayStream(rec: Recording) {
  const { id, files } = await sim<{ id: string; files: ReplayFile[] }>("/replays", { body: { events: rec.events } });
  const events = await readEvents(await ask(id, true));
  const recorded = rec.events!;
  expect(events.map((e) => [e.type, e.sequence_number])).toEqual(recorded.map((e) => [e.type, e.sequence_number]));
  // The deltas of each part add up to its text, identical to the recorded deltas' outside links.
  const deltas = (list: Json[]) => {
    const parts = new Map<string, string>();
    for (const e of list)
      if (e.type === "response.output_text.delta")
        parts.set(`${e.item_id}#${e.content_index}`, (parts.get(`${e.item_id}#${e.content_index}`) ?? "") + e.delta);
    return [...parts.values()];
  };
  const asItems = (texts: string[]) => ({
    output: [{ type: "message", content: texts.map((text) => ({ type: "output_text", text })) }],
  });
  expectOnlyLinksRewritten(asItems(deltas(events)), asItems(deltas(recorded)));
  const final = events.findLast((e) => e.type === "response.completed")?.response as Json | undefined;
  const recordedFinal = recorded.findLast((e) => e.type === "response.completed")?.response as Json | undefined;
  if (!final || !recordedFinal) return { links: 0, files };
  expect(deltas(events).join("")).toBe(
    textsOf(final)
      .map((p) => p.text)
      .join(""),
  );
  expectSameItems(final, recordedFinal);
  // Each annotation event's citation carries a url too.
  for (const e of events)
    if (e.type === "response.output_text.annotation.added" && e.annotation.type === "container_file_citation")
      expect(e.annotation.url).toBeTruthy();
  return { links: await expectDownloads(final, files), files };
}

if ("absent" in traffic) {
  describe("replay of recorded real traffic", () => {
    it.skip(`skipped: ${traffic.absent}`, () => {});
  });
} else {
  describe("replay of recorded real traffic", () => {
    it("has recordings of both kinds, with shown figures among them", () => {
      const all = traffic.recordings;
      expect(all.filter((r) => r.response).length).toBeGreaterThan(0);
      expect(all.filter((r) => r.events).length).toBeGreaterThan(0);
      const figures = all.filter(
        (r) =>
          JSON.stringify(r.response ?? r.events).includes('"end_index":0,"file_id"') ||
          /"start_index":0[^}]*"end_index":0|"end_index":0[^}]*"start_index":0/.test(
            JSON.stringify(r.response ?? r.events),
          ),
      );
      expect(figures.length).toBeGreaterThan(0);
    });
    for (const rec of traffic.recordings) {
      it(`${rec.events ? "stream" : "plain"} ${rec.name}`, async () => {
        const { links } = rec.events ? await replayStream(rec) : await replayPlain(rec);
        const recorded = JSON.stringify(rec.response ?? rec.events);
        // A recording whose text links a file of a container it names has downloads checked.
        if (/sandbox:\/mnt\/data\//.test(recorded) && /"container_id":"cntr_/.test(recorded))
          expect(links).toBeGreaterThan(0);
      });
    }
  });
}
