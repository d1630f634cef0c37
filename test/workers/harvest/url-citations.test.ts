/**
 * The URL-citation style (`x-unsandbox-url-citations: on`, links/url-citations.ts): each
 * `container_file_citation` of a rewritten link goes out as a `url_citation` over the same span,
 * `url` the download URL, `title` the file name, in the plain answer, the stream (same events,
 * types and sequence numbers as upstream; only the annotation objects change) and read-back; the
 * URLs download upstream's bytes after the container expired. Without the header nothing
 * changes: annotations keep upstream's objects, with only indices moved and `url` added.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { download, sim, unsandbox, UNSANDBOX_KEY } from "../support/clients";
import { converge, textsOf, TOOLS, truthOf, upstreamCopy, type Truth } from "../support/scenario";

const ON = { "x-unsandbox-url-citations": "on" };
const INPUT = "Please make the files.\nsim: scenario=several-files";

type Annotation = {
  type: string;
  start_index: number;
  end_index: number;
  url?: string;
  title?: string;
  filename?: string;
  file_id?: string;
  container_id?: string;
};
type Response = { id: string; output: unknown[] };
type Event = { type: string; sequence_number: number; annotation?: Annotation; response?: Response };

const annotationsOf = (r: { output?: unknown[] }) => textsOf(r).map((p) => (p.annotations ?? []) as Annotation[]);

/** What the style must make of a container citation as unsandbox delivers it without the style. */
function expectedUrlCitation(a: Annotation) {
  expect(a.type).toBe("container_file_citation");
  expect(typeof a.url).toBe("string");
  return { type: "url_citation", start_index: a.start_index, end_index: a.end_index, url: a.url, title: a.filename };
}

/** `POST /v1/responses` with `stream: true`, read raw: the body text and its parsed events. */
async function rawStream(headers: Record<string, string>): Promise<{ body: string; events: Event[] }> {
  const res = await exports.default.fetch("https://unsandbox.test/v1/responses", {
    method: "POST",
    headers: { authorization: `Bearer ${UNSANDBOX_KEY}`, "content-type": "application/json", ...headers },
    body: JSON.stringify({ model: "gpt-5", input: INPUT, tools: TOOLS, stream: true }),
  });
  expect(res.status).toBe(200);
  const body = await res.text();
  const events = body
    .split("\n\n")
    .map((block) => block.split("\n").find((l) => l.startsWith("data: ")))
    .filter((l): l is string => l !== undefined)
    .map((l) => JSON.parse(l.slice(6)) as Event);
  return { body, events };
}

/** Every URL downloads, once the container expired upstream, with the bytes of the file its citation named. */
async function expectUrlsDownload(id: string, cited: { url: string; file_id: string }[]) {
  const truth: Truth = await truthOf(id);
  await converge(id, truth);
  await sim(`/containers/${truth.container_id}/expire`, { body: {} });
  expect(cited.length).toBeGreaterThan(0);
  for (const { url, file_id } of cited) {
    const written = truth.written.find((w) => w.file_id === file_id)!;
    const got = await download(url);
    expect(got.status, written.path).toBe(200);
    expect(got.sha256, written.path).toBe(written.sha256);
  }
}

describe("the URL-citation style", () => {
  it("plain and read-back: url_citations over the same spans, with the download URL and the file name; the URLs download after expiry", async () => {
    const answer = (await unsandbox({ headers: ON }).responses.create({
      model: "gpt-5",
      input: INPUT,
      tools: TOOLS,
    })) as unknown as Response;
    // The same response read back without the style: what the style starts from.
    const classic = (await unsandbox().responses.retrieve(answer.id)) as unknown as Response;
    const expected = annotationsOf(classic).map((list) => list.map(expectedUrlCitation));
    expect(expected.flat().length).toBeGreaterThanOrEqual(2);
    expect(annotationsOf(answer)).toEqual(expected);
    expect(textsOf(answer).map((p) => p.text)).toEqual(textsOf(classic).map((p) => p.text));
    // The span is the link: the text there is the URL.
    textsOf(answer).forEach((p, i) => {
      for (const a of annotationsOf(answer)[i]!) expect(p.text!.slice(a.start_index, a.end_index)).toBe(a.url);
    });
    // Read back with the style: the same.
    expect(
      annotationsOf((await unsandbox({ headers: ON }).responses.retrieve(answer.id)) as unknown as Response),
    ).toEqual(expected);

    const fileIds = annotationsOf(classic).flat();
    await expectUrlsDownload(
      answer.id,
      annotationsOf(answer)
        .flat()
        .map((a, k) => ({ url: a.url!, file_id: fileIds[k]!.file_id! })),
    );
  });

  it("streamed: upstream's events one for one; annotation.added and response.completed carry url_citations", async () => {
    const { events } = await rawStream(ON);
    const completed = events.find((e) => e.type === "response.completed")!.response!;
    const upstreamEvents = await sim<{ data: { type: string; sequence_number: number }[] }>(
      `/responses/${completed.id}/events`,
    );
    expect(events.map((e) => [e.type, e.sequence_number])).toEqual(
      upstreamEvents.data.map((e) => [e.type, e.sequence_number]),
    );

    const classic = (await unsandbox().responses.retrieve(completed.id)) as unknown as Response;
    const expected = annotationsOf(classic).map((list) => list.map(expectedUrlCitation));
    expect(annotationsOf(completed)).toEqual(expected);
    const added = events.filter((e) => e.type === "response.output_text.annotation.added").map((e) => e.annotation);
    expect(added).toEqual(expected.flat());

    const fileIds = annotationsOf(classic).flat();
    await expectUrlsDownload(
      completed.id,
      added.map((a, k) => ({ url: a!.url!, file_id: fileIds[k]!.file_id! })),
    );
  });

  it("without the header (or with it off): upstream's annotation objects, only indices moved and url added", async () => {
    for (const headers of [{}, { "x-unsandbox-url-citations": "off" }] as Record<string, string>[]) {
      const plain = (await unsandbox({ headers }).responses.create({
        model: "gpt-5",
        input: INPUT,
        tools: TOOLS,
      })) as unknown as Response;
      const { body, events } = await rawStream(headers);
      const completed = events.find((e) => e.type === "response.completed")!.response!;
      expect(body).not.toContain("url_citation");
      for (const ours of [plain, completed]) {
        const theirs = annotationsOf(await upstreamCopy(ours.id));
        const mine = annotationsOf(ours);
        expect(mine.flat().length).toBeGreaterThanOrEqual(2);
        mine.forEach((list, i) =>
          list.forEach((a, k) => {
            expect(a).toEqual({ ...theirs[i]![k], start_index: a.start_index, end_index: a.end_index, url: a.url });
            expect(Object.keys(a)).toEqual([...Object.keys(theirs[i]![k]!), "url"]);
          }),
        );
      }
      const added = events.filter((e) => e.type === "response.output_text.annotation.added").map((e) => e.annotation!);
      expect(added).toEqual(annotationsOf(completed).flat());
    }
  });
});
