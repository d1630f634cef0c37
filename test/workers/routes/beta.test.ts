/**
 * Beta multi-agent Responses (`POST /v1/responses?beta=true` with `OpenAI-Beta:
 * responses_multi_agent=v1`): the query string and the header reach upstream on the create and
 * the read routes, so the request is not silently downgraded to the ordinary API; items and
 * events keep their `agent`, links are rewritten and files stored exactly as without the beta.
 */
import { describe, expect, it } from "vitest";
import { exports } from "cloudflare:workers";
import { findSandboxRefs } from "../../../src/links/find";
import { download, sim, unsandbox, UNSANDBOX_KEY } from "../support/clients";
import { expectOnlyLinksRewritten, textsOf, TOOLS, truthOf, upstreamCopy, type AnswerFile } from "../support/scenario";

const BETA = { "OpenAI-Beta": "responses_multi_agent=v1" };
const AUTH = { authorization: `Bearer ${UNSANDBOX_KEY}` };
const AGENT = { agent_name: "main" };

type Item = { type: string; agent?: unknown };
type Answer = { id: string; output: Item[]; unsandbox: { files: AnswerFile[] } };
type Received = { query: string; openai_beta: string | null };

async function readEvents(res: Response) {
  const text = await res.text();
  return text
    .split("\n\n")
    .filter((b) => b.includes("data:"))
    .map((b) => JSON.parse(b.slice(b.indexOf("data:") + 5)) as Record<string, any>);
}

describe("beta multi-agent responses", () => {
  it("plain: ?beta=true and the header reach upstream; items keep agent, links work, beta items go back as input", async () => {
    const client = unsandbox();
    const t1 = (await client.responses.create(
      { model: "gpt-5", input: "sim: scenario=several-files", tools: TOOLS },
      { query: { beta: "true" }, headers: BETA },
    )) as unknown as Answer;
    const received = await sim<Received>(`/responses/${t1.id}/request`);
    expect(new URLSearchParams(received.query).get("beta")).toBe("true");
    expect(received.openai_beta).toBe("responses_multi_agent=v1");
    for (const item of t1.output) expect(item.agent).toEqual(AGENT);
    const truth = await truthOf(t1.id);
    // Upstream's own copy, read through the beta route as well.
    const theirs = (await (
      await fetch(`https://api.openai.com/v1/responses/${t1.id}?beta=true`, {
        headers: { authorization: "Bearer sk-sim-test", ...BETA },
      })
    ).json()) as { output: unknown[] };
    expect(expectOnlyLinksRewritten(t1, theirs)).toBeGreaterThan(0);
    for (const w of truth.written) {
      const entry = t1.unsandbox.files.find((f) => f.file_id === w.file_id)!;
      expect((await download(entry.url)).sha256).toBe(w.sha256);
    }

    // The beta output (with `agent`) sent back as input is accepted: the beta API reached upstream.
    const t2 = await client.responses.create(
      {
        model: "gpt-5",
        input: [...(t1.output as never[]), { role: "user", content: "sim: scenario=no-tool" }],
        tools: TOOLS,
      },
      { query: { beta: "true" }, headers: BETA },
    );
    expect(t2.status).toBe("completed");
    expect(JSON.stringify((await sim<{ body: unknown }>(`/responses/${t2.id}/request`)).body)).not.toContain(
      "files.unsandbox.test",
    );
  });

  it("streamed: the query string and header reach upstream; every event keeps agent, one for one, links rewritten", async () => {
    const res = await exports.default.fetch("https://unsandbox.test/v1/responses?beta=true", {
      method: "POST",
      headers: { ...AUTH, ...BETA, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-5", stream: true, input: "sim: scenario=one-file", tools: TOOLS }),
    });
    expect(res.status).toBe(200);
    const events = await readEvents(res);
    const id = events[0]!.response.id as string;
    const received = await sim<Received>(`/responses/${id}/request`);
    expect(new URLSearchParams(received.query).get("beta")).toBe("true");
    expect(received.openai_beta).toBe("responses_multi_agent=v1");
    const served = await sim<{ data: { type: string; sequence_number: number }[] }>(`/responses/${id}/events`);
    expect(events.map((e) => [e.type, e.sequence_number])).toEqual(served.data.map((e) => [e.type, e.sequence_number]));
    for (const e of events) expect(e.agent, e.type).toEqual(AGENT);
    const text = events
      .filter((e) => e.type === "response.output_text.delta")
      .map((e) => e.delta)
      .join("");
    expect(text).toMatch(/https:\/\/files\.unsandbox\.test\/files\//);
    expect(findSandboxRefs(text)).toEqual([]);
    const completed = events.find((e) => e.type === "response.completed")!.response as Answer;
    for (const item of completed.output) expect(item.agent).toEqual(AGENT);
    expect(textsOf(completed).some((p) => p.annotations?.some((a) => a.url))).toBe(true);
  });

  it("read back: GET /v1/responses/{id}?beta=true keeps the query string and header", async () => {
    const t1 = (await unsandbox().responses.create(
      { model: "gpt-5", input: "sim: scenario=one-file", tools: TOOLS },
      { query: { beta: "true" }, headers: BETA },
    )) as unknown as Answer;
    const back = (await (
      await exports.default.fetch(`https://unsandbox.test/v1/responses/${t1.id}?beta=true`, {
        headers: { ...AUTH, ...BETA },
      })
    ).json()) as Answer;
    for (const item of back.output) expect(item.agent).toEqual(AGENT);
    const reads = await sim<{ data: (Received & { method: string; path: string })[] }>(
      `/requests?path_contains=${t1.id}`,
    );
    const read = reads.data.filter((r) => r.method === "GET" && r.path === `/v1/responses/${t1.id}`).at(-1)!;
    expect(new URLSearchParams(read.query).get("beta")).toBe("true");
    expect(read.openai_beta).toBe("responses_multi_agent=v1");
    expectOnlyLinksRewritten(back, await upstreamCopy(t1.id));
  });
});
