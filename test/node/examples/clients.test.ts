/**
 * The client examples in examples/, each run as a reader runs it, against unsandbox and the
 * simulated upstream started the way `npm start` starts them (ports of their own, temporary
 * storage): the Vercel AI SDK (`generateText`, `streamText`, a Next.js-style route streaming a UI
 * message stream), the OpenAI Agents SDK for JS (a run and a streamed run, with the hosted
 * code-interpreter tool and with the hosted shell tool), and Python (`openai`
 * plain and streamed; the Agents SDK), the Python ones when this machine's python3 has the package.
 *
 * Every answer's links and source URLs are downloaded after its container expired upstream, and
 * each must give the bytes upstream wrote for that file name (the simulator's ground truth).
 * Stream events seen by a client (the AI SDK's raw chunks) must be upstream's, type and sequence
 * number, one for one.
 */
import { execFile, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../../scripts/lib/wrangler-dev.mjs";
import { startUnsandbox, type Unsandbox } from "../browser/support/unsandbox-process";

const run = promisify(execFile);
const KEY = "usk_local_0123456789abcdef";
// The simulator writes the files a prompt's directive names; three files make three links.
const PROMPT = "Write the three files and link each of them.\nsim: scenario=several-files";
// With the shell tool a skill writes three office documents and the answer links only one. Listed
// at once upstream, so the manifest the example reads has all three (late listing, where the
// unnamed ones arrive after the answer, is test/workers/harvest/shell.test.ts's).
const SHELL_PROMPT = "Write the quarterly documents.\nsim: scenario=skill-document; quirks=-late_listing";
/** The Python to run the Python examples with (a virtual environment's, say). */
const PYTHON = process.env.UNSANDBOX_PYTHON ?? "python3";

let unsandbox: Unsandbox;

beforeAll(async () => {
  unsandbox = await startUnsandbox(() => ({}));
}, 240_000);

afterAll(async () => {
  await unsandbox?.stop();
});

interface Answer {
  id: string;
  links: string[];
  sources: { url: string; title: string }[];
  documents: string[];
  events?: [string, number][];
  /** The response's manifest, every file it produced: `[url, state]`. */
  manifest: [string, string][];
  /** The shell commands a streamed run saw. */
  commands: string[];
}

/**
 * The examples' report: `<label>: resp_…`, then `  link <url>`, `  source <url> <title>`,
 * `  document <name> (no URL)`, `  events <json>`, `  manifest <url> <state>`, `  shell <commands>`.
 */
function answersOf(stdout: string): Map<string, Answer> {
  const answers = new Map<string, Answer>();
  let current: Answer | undefined;
  for (const line of stdout.split("\n")) {
    const head = /^(\S.*): (resp_\w+)$/.exec(line);
    if (head)
      answers.set(
        head[1]!,
        (current = { id: head[2]!, links: [], sources: [], documents: [], manifest: [], commands: [] }),
      );
    else if (current && line.startsWith("  link ")) current.links.push(line.slice(7));
    else if (current && line.startsWith("  source ")) {
      const [url, ...title] = line.slice(9).split(" ");
      current.sources.push({ url: url!, title: title.join(" ") });
    } else if (current && line.startsWith("  document ")) current.documents.push(line.slice(11));
    else if (current && line.startsWith("  events ")) current.events = JSON.parse(line.slice(9));
    else if (current && line.startsWith("  manifest "))
      current.manifest.push(line.slice(11).split(" ") as [string, string]);
    else if (current && line.startsWith("  shell ")) current.commands.push(line.slice(8));
  }
  return answers;
}

async function simGet<T>(path: string): Promise<T> {
  const res = await fetch(`${unsandbox.simOrigin}/__sim${path}`);
  if (!res.ok) throw new Error(`sim ${path}: ${res.status}`);
  return (await res.json()) as T;
}

type Truth = { container_id: string | null; written: { file_id: string; path: string; sha256: string }[] };

/**
 * Waits until unsandbox stored every file of the response, expires its container upstream, then
 * downloads each URL: 200, and the sha256 of the file upstream wrote under the URL's file name.
 */
async function expectDownloadsAfterExpiry(answer: Answer, urls: string[]) {
  expect(urls.length, `${answer.id} has URLs`).toBeGreaterThan(0);
  const truth = await simGet<Truth>(`/responses/${answer.id}`);
  for (let i = 0; i < 60; i++) {
    const res = await fetch(`${unsandbox.origin}/v1/responses/${answer.id}/files`, {
      headers: { authorization: `Bearer ${KEY}`, "x-unsandbox-wait-ms": "2000" },
    });
    const files = ((await res.json()) as { data: { file_id: string | null; state: string }[] }).data;
    if (truth.written.every((w) => files.find((f) => f.file_id === w.file_id)?.state === "stored")) break;
  }
  const expired = await fetch(`${unsandbox.simOrigin}/__sim/containers/${truth.container_id}/expire`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  expect(expired.status).toBe(200);
  for (const url of urls) {
    expect(url.startsWith(`${unsandbox.origin}/files/`), url).toBe(true);
    const name = decodeURIComponent(url.split("/").pop()!);
    const written = truth.written.find((w) => w.path.split("/").pop() === name);
    expect(written, `upstream wrote ${name}`).toBeTruthy();
    const res = await fetch(url);
    const sha256 = createHash("sha256")
      .update(new Uint8Array(await res.arrayBuffer()))
      .digest("hex");
    expect(res.status, url).toBe(200);
    expect(sha256, name).toBe(written!.sha256);
  }
}

/** Each labelled answer has the three links, a citation URL for each, and all download after expiry. */
async function expectLinksAndCitations(answers: Map<string, Answer>, labels: string[]) {
  for (const label of labels) {
    const a = answers.get(label)!;
    expect(a, label).toBeTruthy();
    expect(a.links.length, label).toBe(3);
    expect(a.sources.map((s) => s.url).sort(), label).toEqual([...a.links].sort());
    await expectDownloadsAfterExpiry(a, [...a.links, ...a.sources.map((s) => s.url)]);
  }
}

/** The events of the stream upstream served for that response, as `[type, sequence_number]`. */
async function upstreamEvents(id: string): Promise<[string, number][]> {
  return (await simGet<{ data: { type: string; sequence_number: number }[] }>(`/responses/${id}/events`)).data.map(
    (e) => [e.type, e.sequence_number],
  );
}

const env = (extra: Record<string, string> = {}) => ({
  ...process.env,
  UNSANDBOX_URL: unsandbox.origin,
  UNSANDBOX_PROMPT: PROMPT,
  ...extra,
});

/** Runs an example; returns its answers by label. */
async function runExample(command: string, file: string, extra: Record<string, string> = {}) {
  const { stdout } = await run(command, [join(REPO_ROOT, file)], {
    env: env(extra),
    cwd: REPO_ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
  return answersOf(stdout);
}

/** Whether `python -c "import <module>"` works here. */
function pythonHas(module: string): boolean {
  return spawnSync(PYTHON, ["-c", `import ${module}`], { stdio: "ignore" }).status === 0;
}

describe("examples/: Vercel AI SDK", () => {
  it("ai-sdk.mjs: generateText and streamText; with URL citations the sources are the links and download after expiry; raw chunks are upstream's events", async () => {
    const answers = await runExample(process.execPath, "examples/ai-sdk.mjs", { UNSANDBOX_SHOW_EVENTS: "1" });
    for (const label of ["generateText", "streamText"]) {
      const a = answers.get(label)!;
      expect(a, label).toBeTruthy();
      expect(a.links.length, label).toBe(3);
      expect(a.documents, label).toEqual([]);
      // Each citation became a url source: the same URLs as the links, titled by file name.
      expect(a.sources.map((s) => s.url).sort(), label).toEqual([...a.links].sort());
      for (const s of a.sources) expect(decodeURIComponent(s.url.split("/").pop()!)).toBe(s.title);
      await expectDownloadsAfterExpiry(a, [...a.links, ...a.sources.map((s) => s.url)]);
    }
    const without = answers.get("streamText without URL citations")!;
    // Without the style the SDK keeps document sources (file name, no URL); the links still work.
    expect(without.sources).toEqual([]);
    expect(without.documents.length).toBe(3);
    await expectDownloadsAfterExpiry(without, without.links);
    for (const label of ["streamText", "streamText without URL citations"]) {
      const a = answers.get(label)!;
      expect(a.events, label).toEqual(await upstreamEvents(a.id));
    }
  });

  it("ai-sdk-route.mjs: a Next.js-style route streams a UI message stream whose source-url parts and text links download after expiry", async () => {
    process.env.UNSANDBOX_URL = unsandbox.origin;
    const { POST, uiChunks } = await import("../../../examples/ai-sdk-route.mjs");
    const res: Response = await POST(
      new Request("http://localhost/api/chat", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ messages: [{ id: "m1", role: "user", parts: [{ type: "text", text: PROMPT }] }] }),
      }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const chunks: {
      type: string;
      delta?: string;
      url?: string;
      title?: string;
      messageMetadata?: { responseId?: string };
    }[] = await uiChunks(res);
    const id = chunks.find((c) => c.type === "finish")?.messageMetadata?.responseId;
    expect(id).toMatch(/^resp_/);
    const text = chunks
      .filter((c) => c.type === "text-delta")
      .map((c) => c.delta)
      .join("");
    const links = [...text.matchAll(/https?:\/\/[^\s)\]]+\/files\/[^\s)\]]+/g)].map((m) => m[0]);
    const sources = chunks.filter((c) => c.type === "source-url");
    expect(links.length).toBe(3);
    expect(sources.map((s) => s.url).sort()).toEqual([...links].sort());
    expect(chunks.some((c) => c.type === "source-document")).toBe(false);
    await expectDownloadsAfterExpiry({ id: id!, links, sources: [], documents: [], manifest: [], commands: [] }, [
      ...links,
      ...sources.map((s) => s.url!),
    ]);
  });
});

describe("examples/: OpenAI Agents SDK (JS)", () => {
  // One run of the example serves both tests: the code-interpreter agent, then the shell agent.
  let example: Promise<Map<string, Answer>> | undefined;
  const agentsSdk = () =>
    (example ??= runExample(process.execPath, "examples/agents-sdk.mjs", { UNSANDBOX_SHELL_PROMPT: SHELL_PROMPT }));

  it("agents-sdk.mjs: a run and a streamed run with the code-interpreter tool; links and citation URLs download after expiry", async () => {
    await expectLinksAndCitations(await agentsSdk(), ["run", "streamed run"]);
  });

  it("agents-sdk.mjs: a run and a streamed run with the hosted shell tool; the link, its citation and the documents the answer never names download after expiry", async () => {
    const answers = await agentsSdk();
    for (const label of ["shell run", "shell streamed run"]) {
      const a = answers.get(label)!;
      expect(a, label).toBeTruthy();
      // The SDK sent the hosted shell tool, and upstream ran the scenario with it.
      const request = await simGet<{ body: { tools: unknown[] } }>(`/responses/${a.id}/request`);
      expect(request.body.tools, label).toEqual([{ type: "shell", environment: { type: "container_auto" } }]);
      // One link, the spreadsheet, with its citation; the manifest has all three documents.
      expect(
        a.links.map((u) => decodeURIComponent(u.split("/").pop()!)),
        label,
      ).toEqual(["figures.xlsx"]);
      expect(
        a.sources.map((s) => s.url),
        label,
      ).toEqual(a.links);
      const names = a.manifest.map(([url]) => decodeURIComponent(url.split("/").pop()!)).sort();
      expect(names, label).toEqual(["brief.docx", "deck.pptx", "figures.xlsx"]);
      expect(
        a.manifest.map(([, state]) => state),
        label,
      ).toEqual(["stored", "stored", "stored"]);
      await expectDownloadsAfterExpiry(a, [
        ...a.links,
        ...a.sources.map((s) => s.url),
        ...a.manifest.map(([url]) => url),
      ]);
    }
    // The streamed run saw the shell call as it came.
    expect(answers.get("shell streamed run")!.commands.length).toBeGreaterThan(0);
    expect(answers.get("shell run")!.commands).toEqual([]);
  });
});

describe("examples/: Python", () => {
  const why = (module: string) =>
    `skipped: \`${PYTHON} -c "import ${module}"\` fails on this machine (pip install ${module === "agents" ? "openai-agents" : module}, or point UNSANDBOX_PYTHON at a Python that has it)`;
  const hasOpenai = pythonHas("openai");
  const hasAgents = pythonHas("agents");

  it.skipIf(!hasOpenai)(
    `python/openai_sdk.py: plain and streamed; links and citation URLs download after expiry${hasOpenai ? "" : ` — ${why("openai")}`}`,
    async () => {
      const answers = await runExample(PYTHON, "examples/python/openai_sdk.py");
      await expectLinksAndCitations(answers, ["plain", "stream"]);
    },
  );

  it.skipIf(!hasAgents)(
    `python/agents_sdk.py: a run and a streamed run; links and citation URLs download after expiry${hasAgents ? "" : ` — ${why("agents")}`}`,
    async () => {
      const answers = await runExample(PYTHON, "examples/python/agents_sdk.py");
      await expectLinksAndCitations(answers, ["run", "streamed run"]);
    },
  );
});
