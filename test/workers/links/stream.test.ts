import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config";
import { findSandboxRefs } from "../../../src/links/find";
import { LinkNaming } from "../../../src/links/naming";
import { rewritePart } from "../../../src/links/response";
import { rewriteText } from "../../../src/links/rewrite";
import { StreamRewriter, type StreamEvent } from "../../../src/links/stream-rewriter";
import { verifyLink } from "../../../src/links/token";
import { cutAt, deltasOf, messageEvents, outputText, readableNamer, rewriteStream, throughSse } from "./helpers";

const config = loadConfig(env);

/** Inserts keepalives (as upstream does on long requests, even between deltas) and renumbers. */
function withKeepalives(events: StreamEvent[], at: number[]): StreamEvent[] {
  const out = [...events];
  for (const n of at) out.splice(1 + (n % out.length), 0, { type: "keepalive" });
  return out.map((e, k) => ({ ...e, sequence_number: k }));
}
const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 30 });

describe("streamed rewrite equals whole-text rewrite (property)", () => {
  it("over generated texts, random deltas and random SSE byte chunks", async () => {
    await fc.assert(
      fc.asyncProperty(
        outputText,
        cuts,
        cuts,
        fc.array(fc.nat(), { maxLength: 4 }),
        async (text, deltaCuts, byteCuts, keepalives) => {
          const whole = (await rewriteText(text, readableNamer)).text;
          const refs = findSandboxRefs(text);
          // One citation per reference, in UTF-16 units, as upstream sends them after the deltas.
          const annotations = refs.map((r, k) => ({
            type: "container_file_citation",
            container_id: "cntr_1",
            file_id: `cfile_${k}`,
            filename: "f",
            start_index: r.start,
            end_index: r.end,
          }));
          const events = withKeepalives(messageEvents(cutAt(text, deltaCuts), annotations), keepalives);
          const parsed = await throughSse(events, byteCuts);
          expect(parsed).toEqual(events);
          const out = await rewriteStream(parsed, readableNamer); // checks the holdback invariant after every event
          expect(out.map((e) => [e.type, e.sequence_number])).toEqual(events.map((e) => [e.type, e.sequence_number]));
          expect(deltasOf(out)).toBe(whole);
          const done = out.find((e) => e.type === "response.output_text.done")!;
          expect(done.text).toBe(whole);
          // annotation.added events agree with the rewritten part in content_part.done.
          const part = out.find((e) => e.type === "response.content_part.done")!.part as {
            text: string;
            annotations: { start_index: number; end_index: number; url: string }[];
          };
          expect(part.text).toBe(whole);
          const added = out.filter((e) => e.type === "response.output_text.annotation.added").map((e) => e.annotation);
          expect(added).toEqual(part.annotations);
          for (const a of part.annotations) expect(whole.slice(a.start_index, a.end_index)).toBe(a.url);
          const completed = out.find((e) => e.type === "response.completed")!.response as {
            output: { content: { text: string }[] }[];
          };
          expect(completed.output[0]!.content[0]!.text).toBe(whole);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("lets keepalives between deltas wait behind a held delta instead of splitting a link", async () => {
    const text = "A [x](sandbox:/mnt/data/a.csv) and [y](sandbox:/mnt/data/b.csv) end";
    const base = messageEvents(Array.from(text));
    // A keepalive after every third event, renumbered as upstream would number them.
    const events = base
      .flatMap((e, k) => (k % 3 === 2 ? [e, { type: "keepalive" }] : [e]))
      .map((e, k) => ({ ...e, sequence_number: k }));
    const out = await rewriteStream(events, readableNamer);
    expect(out.map((e) => e.sequence_number)).toEqual(events.map((e) => e.sequence_number));
    expect(deltasOf(out)).toBe("A [x](https://f.test/a.csv) and [y](https://f.test/b.csv) end");
  });

  it("passes unknown events and keepalives through untouched", async () => {
    const rw = new StreamRewriter(readableNamer);
    const keepalive = { type: "keepalive", sequence_number: 3 };
    const odd = { type: "response.future_event", sequence_number: 4, payload: { text: "sandbox:/mnt/data/a.csv" } };
    expect(await rw.push(keepalive)).toEqual([keepalive]);
    expect(await rw.push(odd)).toEqual([odd]);
  });

  it("holds a delta ending in a link prefix only until the next event", async () => {
    const rw = new StreamRewriter(readableNamer);
    const at = { item_id: "m", output_index: 0, content_index: 0 };
    expect(
      await rw.push({ type: "response.output_text.delta", sequence_number: 1, ...at, delta: "See [x](sand" }),
    ).toEqual([]);
    expect(rw.heldText).toBe("sand");
    const out = await rw.push({
      type: "response.output_text.delta",
      sequence_number: 2,
      ...at,
      delta: "box:/mnt/data/a.csv) ok",
    });
    expect(out.map((e) => e.delta)).toEqual(["See [x](", "https://f.test/a.csv) ok"]);
    expect(rw.held).toBe(0);
    // A different event decides a held tail where it is.
    expect(
      await rw.push({ type: "response.output_text.delta", sequence_number: 3, ...at, delta: " sandbox:/mnt/data/b" }),
    ).toEqual([]);
    const flushed = await rw.push({ type: "response.output_text.done", sequence_number: 4, ...at, text: "" });
    expect(flushed.map((e) => e.sequence_number)).toEqual([3, 4]);
    expect(flushed[0]!.delta).toBe(" https://f.test/b");
  });

  it("names links with real signed tokens that verify to the path, identically in both paths", async () => {
    const text = "Files: [a](sandbox:/mnt/data/a.csv), [b](sandbox:/a.csv) and sandbox:/mnt/data/b%20c.txt.";
    const opts = {
      origin: config.PUBLIC_FILES_ORIGIN,
      secrets: config.LINK_SECRETS,
      tenant: "default",
      responseId: "resp_1",
    };
    const plain = new LinkNaming(opts);
    const streamed = new LinkNaming(opts);
    const whole = await rewriteText(text, plain.name);
    const out = await rewriteStream(messageEvents(Array.from(text)), streamed.name);
    expect(deltasOf(out)).toBe(whole.text);
    expect(whole.links.map((l) => l.original)).toEqual([
      "sandbox:/mnt/data/a.csv",
      "sandbox:/a.csv",
      "sandbox:/mnt/data/b%20c.txt",
    ]);
    expect(streamed.issued).toEqual(plain.issued);
    for (const link of whole.links) {
      const url = new URL(link.url);
      expect(url.origin).toBe(config.PUBLIC_FILES_ORIGIN);
      const [, files, token, name] = url.pathname.split("/");
      expect(files).toBe("files");
      const res = await verifyLink(token!, config.LINK_SECRETS, Date.now());
      expect(res.ok && res.claims.path).toBe(link.path);
      expect(decodeURIComponent(name!)).toBe(link.path.slice("/mnt/data/".length));
    }
    // Two spellings of one path are two links (so each maps back to its own text).
    expect(whole.links[0]!.url).not.toBe(whole.links[1]!.url);
  });

  it("gives a citation the URL and keeps its other fields; zero-width stays zero-width and gets its file's URL", async () => {
    const text = "\u{1F3B2} Roll: [sums](sandbox:/mnt/data/sums.csv)";
    const start = text.indexOf("sandbox:");
    const cp = (u16: number) => Array.from(text.slice(0, u16)).length;
    const cite = {
      type: "container_file_citation",
      container_id: "cntr_1",
      file_id: "cfile_1",
      filename: "sums.csv",
      index: null,
    };
    for (const [unit, conv] of [
      ["utf16", (n: number) => n],
      ["code points", cp],
    ] as const) {
      const part = {
        type: "output_text",
        text,
        logprobs: [],
        annotations: [
          { ...cite, start_index: conv(start), end_index: conv(start + "sandbox:/mnt/data/sums.csv".length) },
          { ...cite, file_id: "cfile_2", filename: "cfile_2.png", start_index: 0, end_index: 0 },
        ],
      };
      const { value } = await rewritePart(part, readableNamer);
      const [a, z] = value.annotations as ((typeof part.annotations)[0] & { url?: string })[];
      const slice =
        unit === "utf16"
          ? value.text.slice(a!.start_index, a!.end_index)
          : Array.from(value.text).slice(a!.start_index, a!.end_index).join("");
      expect(slice, unit).toBe("https://f.test/sums.csv");
      expect(a).toEqual({
        ...part.annotations[0],
        start_index: a!.start_index,
        end_index: a!.end_index,
        url: "https://f.test/sums.csv",
      });
      // A shown figure covers no link: it stays at 0..0 and names its own file, /mnt/data/<filename>.
      expect(z).toEqual({ ...part.annotations[1], url: "https://f.test/cfile_2.png" });
    }
  });
});
