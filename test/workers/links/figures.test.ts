/**
 * Shown figures: the zero-span `container_file_citation` (`start_index == end_index == 0`,
 * `filename: "<file_id>.png"`) that real traffic puts before a part's link citations gains a `url`
 * like every other citation, in plain, streamed, background and read-back answers, and that URL
 * downloads the cited file's bytes (the simulator's `figure` scenario, quirk `figure_citation`).
 */
import { describe, expect, it } from "vitest";
import { env, exports } from "cloudflare:workers";
import { runDurableObjectAlarm } from "cloudflare:test";
import { responseIndexFor } from "../../../src/tracker/stubs";
import { download, sim, unsandbox, UNSANDBOX_KEY } from "../support/clients";
import { textsOf, TOOLS, type AnswerFile } from "../support/scenario";

const AUTH = { authorization: `Bearer ${UNSANDBOX_KEY}` };
const INPUT = "Plot it.\nsim: scenario=figure";

type Annotation = {
  type: string;
  start_index?: number;
  end_index?: number;
  file_id?: string;
  filename?: string;
  url?: string;
};
type Answer = { id: string; status?: string; output: unknown[]; unsandbox: { files: AnswerFile[] } };

/** The zero-span citations of an answer (at least one, or the test means nothing). */
function figuresOf(answer: { output?: unknown[] }): Annotation[] {
  const all = textsOf(answer).flatMap((p) => (p.annotations ?? []) as Annotation[]);
  const figures = all.filter((a) => a.type === "container_file_citation" && a.start_index === 0 && a.end_index === 0);
  expect(figures.length).toBeGreaterThan(0);
  for (const f of figures) expect(f.filename).toBe(`${f.file_id}.png`);
  return figures;
}

/** Each figure citation has a URL that serves exactly the cited file's bytes. */
async function expectFiguresDownload(figures: Annotation[]) {
  for (const f of figures) {
    expect(f.url, `${f.filename} has a url`).toMatch(/^https:\/\/files\.unsandbox\.test\/files\/[A-Za-z0-9_-]+\//);
    const truth = await sim<{ sha256: string }>(`/files/${f.file_id}`);
    const got = await download(f.url!);
    expect(got.status).toBe(200);
    expect(got.sha256).toBe(truth.sha256);
  }
}

async function readEvents(res: Response) {
  const text = await res.text();
  return text
    .split("\n\n")
    .filter((b) => b.includes("data:"))
    .map((b) => JSON.parse(b.slice(b.indexOf("data:") + 5)) as Record<string, any>);
}

describe("shown figures (zero-span citations)", () => {
  it("plain: the figure citation gains the URL the manifest lists for that file, and it downloads", async () => {
    const res = (await unsandbox().responses.create({
      model: "gpt-5",
      input: INPUT,
      tools: TOOLS,
    })) as unknown as Answer;
    const figures = figuresOf(res);
    for (const f of figures) {
      const entry = res.unsandbox.files.find((e) => e.file_id === f.file_id);
      expect(entry?.cited).toContain("figure");
      expect(f.url).toBe(entry?.url);
    }
    await expectFiguresDownload(figures);

    // Read back: the same URL again.
    const back = (await (
      await exports.default.fetch(`https://unsandbox.test/v1/responses/${res.id}`, { headers: AUTH })
    ).json()) as Answer;
    expect(figuresOf(back).map((f) => f.url)).toEqual(figures.map((f) => f.url));
  });

  it("streamed: annotation.added, content_part.done, output_item.done and response.completed carry the URL", async () => {
    const res = await exports.default.fetch("https://unsandbox.test/v1/responses", {
      method: "POST",
      headers: { ...AUTH, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-5", stream: true, input: INPUT, tools: TOOLS }),
    });
    const events = await readEvents(res);
    const added = events
      .filter((e) => e.type === "response.output_text.annotation.added" && e.annotation.end_index === 0)
      .map((e) => e.annotation as Annotation);
    expect(added.length).toBeGreaterThan(0);
    const part = events.find((e) => e.type === "response.content_part.done" && e.part.annotations?.length)!;
    const item = events.find(
      (e) =>
        e.type === "response.output_item.done" && e.item.type === "message" && e.item.content[0].annotations?.length,
    )!;
    const completed = events.find((e) => e.type === "response.completed")!;
    const urls = added.map((a) => a.url);
    expect(figuresOf({ output: [{ type: "message", content: [part.part] }] }).map((f) => f.url)).toEqual(urls);
    expect(figuresOf({ output: [item.item] }).map((f) => f.url)).toEqual(urls);
    expect(figuresOf(completed.response).map((f) => f.url)).toEqual(urls);
    await expectFiguresDownload(added);
  });

  it("background: the answer read back once finished carries the URL", async () => {
    const queued = await unsandbox().responses.create({ model: "gpt-5", background: true, input: INPUT, tools: TOOLS });
    let back: Answer | undefined;
    for (let i = 0; i < 60; i++) {
      back = (await (
        await exports.default.fetch(`https://unsandbox.test/v1/responses/${queued.id}`, { headers: AUTH })
      ).json()) as Answer;
      if (back.status === "completed") break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(back?.status).toBe("completed");
    const figures = figuresOf(back!);
    // The index harvests it from its own alarm (run now rather than after its backoff).
    for (let i = 0; i < 40; i++) {
      await runDurableObjectAlarm(responseIndexFor(env, queued.id));
      const files = (await (
        await exports.default.fetch(`https://unsandbox.test/v1/responses/${queued.id}/files`, { headers: AUTH })
      ).json()) as { data?: AnswerFile[] };
      if (figures.every((f) => files.data?.some((e) => e.file_id === f.file_id && e.url === f.url))) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    await expectFiguresDownload(figures);
  });
});
