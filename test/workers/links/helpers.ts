import fc from "fast-check";
import { MAX_LINK_CHARS, type SandboxRef } from "../../../src/links/find";
import type { LinkNamer } from "../../../src/links/naming";
import { StreamRewriter, type StreamEvent } from "../../../src/links/stream-rewriter";
import { encodeFileName } from "../../../src/links/token";
import { SseDecoder, encodeSse } from "../../../src/upstream/sse";

/** A namer whose URLs show what they name, so golden outputs can be written by hand. */
export const readableNamer: LinkNamer = async (refs: readonly SandboxRef[]) =>
  refs.map((r) => `https://f.test/${encodeFileName(r.containerPath.slice("/mnt/data/".length))}`);

/** The held text may only be a prefix of a link destination. */
export function isPossibleLinkPrefix(held: string): boolean {
  if (held === "") return true;
  if (held.length > MAX_LINK_CHARS) return false;
  const lower = held.toLowerCase();
  const scheme = "sandbox:/";
  const dir = "/mnt/data/";
  return scheme.startsWith(lower) || lower.startsWith(scheme) || dir.startsWith(held) || held.startsWith(dir);
}

/** The events of one message with one output_text part, as upstream streams them. */
export function messageEvents(deltas: string[], annotations: object[] = []): StreamEvent[] {
  const text = deltas.join("");
  const item = {
    id: "msg_1",
    type: "message",
    role: "assistant",
    status: "completed",
    content: [{ type: "output_text", text, annotations, logprobs: [] }],
  };
  const at = { item_id: "msg_1", output_index: 0, content_index: 0 };
  const events: Omit<StreamEvent, "sequence_number">[] = [
    { type: "response.created", response: { id: "resp_1", object: "response", status: "in_progress", output: [] } },
    { type: "response.in_progress", response: { id: "resp_1", object: "response", status: "in_progress", output: [] } },
    { type: "response.output_item.added", output_index: 0, item: { ...item, status: "in_progress", content: [] } },
    { type: "response.content_part.added", ...at, part: { type: "output_text", text: "", annotations: [] } },
    ...deltas.map((delta) => ({ type: "response.output_text.delta", ...at, delta, logprobs: [], obfuscation: "xyz" })),
    ...annotations.map((annotation, k) => ({
      type: "response.output_text.annotation.added",
      ...at,
      annotation_index: k,
      annotation,
    })),
    { type: "response.output_text.done", ...at, text, logprobs: [] },
    { type: "response.content_part.done", ...at, part: item.content[0] },
    { type: "response.output_item.done", output_index: 0, item },
    { type: "response.completed", response: { id: "resp_1", object: "response", status: "completed", output: [item] } },
  ];
  return events.map((e, k) => ({ ...e, sequence_number: k }) as StreamEvent);
}

/** Cuts `s` at the given fractional points (sorted, deduplicated), keeping every piece. */
export function cutAt(s: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((f) => Math.floor(f * (s.length + 1))))]
    .filter((p) => p > 0 && p < s.length)
    .sort((a, b) => a - b);
  const out: string[] = [];
  let at = 0;
  for (const p of points) {
    out.push(s.slice(at, p));
    at = p;
  }
  out.push(s.slice(at));
  return out;
}

/** Serialises events to SSE bytes, cuts the bytes anywhere, and parses them back with SseDecoder. */
export async function throughSse(events: StreamEvent[], byteCuts: number[]): Promise<StreamEvent[]> {
  const bytes = concat(events.map((e) => encodeSse({ event: e.type, data: JSON.stringify(e) })));
  const points = [...new Set(byteCuts.map((f) => Math.floor(f * bytes.length)))]
    .filter((p) => p > 0 && p < bytes.length)
    .sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const p of [...points, bytes.length]) {
    chunks.push(bytes.slice(at, p));
    at = p;
  }
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks.shift();
      if (next) controller.enqueue(next);
      else controller.close();
    },
  });
  const out: StreamEvent[] = [];
  const reader = body.pipeThrough(new SseDecoder()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const event = JSON.parse(value.data) as StreamEvent;
    if (value.event !== event.type) throw new Error("event name and type disagree");
    out.push(event);
  }
  return out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Runs events through a StreamRewriter, checking the holdback invariant after every push. */
export async function rewriteStream(events: StreamEvent[], name: LinkNamer): Promise<StreamEvent[]> {
  const rw = new StreamRewriter(name);
  const out: StreamEvent[] = [];
  for (const e of events) {
    out.push(...(await rw.push(e)));
    if (rw.held > MAX_LINK_CHARS || !isPossibleLinkPrefix(rw.heldText) || rw.heldText.length !== rw.held) {
      throw new Error(`holdback invariant broken: ${JSON.stringify(rw.heldText.slice(0, 80))} (${rw.held})`);
    }
  }
  out.push(...(await rw.end()));
  return out;
}

export function deltasOf(events: StreamEvent[]): string {
  return events
    .filter((e) => e.type === "response.output_text.delta")
    .map((e) => e.delta as string)
    .join("");
}

/** Fragments of model output: link forms, near-misses, code, emoji, Markdown punctuation. */
export const fragment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "[report](sandbox:/mnt/data/report.csv)",
    "![plot](sandbox:/mnt/data/plot.png)",
    "[x](sandbox:/x.txt)",
    "[x](sandbox://y.txt)",
    "[x](/mnt/data/z.json)",
    "[x](<sandbox:/mnt/data/a b.csv>)",
    "[x](sandbox:/mnt/data/my file (1).csv)",
    '[x](sandbox:/mnt/data/t.csv "title")',
    "<sandbox:/mnt/data/auto.txt>",
    "</mnt/data/auto2.txt>",
    "sandbox:/mnt/data/bare.txt",
    "(sandbox:/mnt/data/paren.txt).",
    "[sandbox:/mnt/data/l.csv](sandbox:/mnt/data/l.csv)",
    "[x](sandbox:/mnt/data/caf%C3%A9.csv)",
    "[x](sandbox:/mnt/data/cafe\u0301.csv)",
    "[x](sandbox:/mnt/data/\u{1F3B2}.png)",
    "[x](SANDBOX:/mnt/data/up.txt)",
    "`[x](sandbox:/mnt/data/code.csv)`",
    "``sandbox:/mnt/data/code2.csv``",
    "\n```\n[x](sandbox:/mnt/data/fenced.csv)\n```\n",
    "\n~~~py\nsandbox:/mnt/data/f2.csv\n~~~\n",
    "sandbox in prose",
    "thousandbox:/no",
    "sandbox:sandbox:/no",
    "[x](sandbox:",
    "[x](sandbox:/mnt/data/unterminated",
    "[x](https://example.com/a)",
    "](",
    "[[",
    "\\`",
    "\\](sandbox:/mnt/data/esc.csv)",
    "\u{1F600}",
    "é",
    " ",
    "\n",
    "\n\n",
    "`",
    ")",
    "<",
    ">",
    "s",
    "sand",
    "/mnt/data/prose.txt",
  ),
  fc.string({ maxLength: 6 }),
  fc.constantFrom("a", "b", "(", "]", "[", "*", "_", "."),
);

export const outputText: fc.Arbitrary<string> = fc.array(fragment, { maxLength: 24 }).map((parts) => parts.join(""));
