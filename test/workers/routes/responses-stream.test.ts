/**
 * Streaming through unsandbox with the SDK's `responses.stream()`: the same answer as the plain
 * route (URLs compared by what they name, since response ids differ), deltas that add up to the
 * final text, no sandbox link left, and downloads with upstream's bytes.
 */
import { describe, expect, it } from "vitest";
import { env, exports } from "cloudflare:workers";
import { findSandboxRefs } from "../../../src/links/find";
import { verifyLink } from "../../../src/links/token";
import { loadConfig } from "../../../src/config";
import { download, sim, unsandbox, UNSANDBOX_KEY } from "../support/clients";
import {
  converge,
  expectDownloadsAfterExpiry,
  expectOnlyLinksRewritten,
  textsOf,
  TOOLS,
  truthOf,
  upstreamCopy,
  type AnswerFile,
} from "../support/scenario";

type Answer = { id: string; output: unknown[]; unsandbox: { files: AnswerFile[] } };

const SCENARIOS = [
  "one-file",
  "several-files",
  "link-no-annotation",
  "annotation-no-link",
  "link-forms",
  "code-echo",
  "link-before-tool",
  "unnamed",
  "figure",
  "phantom",
  "no-tool",
];

/** Replaces every unsandbox URL by what its token names, so answers of two responses compare. */
async function normalized(text: string): Promise<string> {
  const config = loadConfig(env);
  let out = "";
  let at = 0;
  for (const m of text.matchAll(/https:\/\/files\.unsandbox\.test\/files\/([A-Za-z0-9_-]+)\/[A-Za-z0-9._~%-]*/g)) {
    const v = await verifyLink(m[1]!, config.LINK_SECRETS, Date.now());
    expect(v.ok).toBe(true);
    out += text.slice(at, m.index) + `<${v.ok ? v.claims.path : "?"}>`;
    at = m.index! + m[0].length;
  }
  return out + text.slice(at);
}

async function shape(answer: { output?: unknown[] }) {
  const parts = textsOf(answer);
  return Promise.all(
    parts.map(async (p) => ({
      text: await normalized(p.text!),
      annotations: await Promise.all(
        (p.annotations ?? []).map(async (a) => ({
          type: a.type,
          start_index: a.start_index,
          end_index: a.end_index,
          // A shown figure's file id differs between two responses: it names its own file.
          url:
            typeof a.url !== "string"
              ? undefined
              : a.start_index === 0 && a.end_index === 0 && (await normalized(a.url)) === `</mnt/data/${a.filename}>`
                ? "<its figure>"
                : await normalized(a.url),
        })),
      ),
    })),
  );
}

async function streamed(scenario: string) {
  const stream = unsandbox().responses.stream({
    model: "gpt-5",
    input: `Please make the files.\nsim: scenario=${scenario}`,
    tools: TOOLS,
  });
  const events: { type: string; sequence_number: number; delta?: string; item_id?: string }[] = [];
  for await (const e of stream) events.push(e as never);
  const final = (await stream.finalResponse()) as unknown as Answer;
  return { events, final };
}

describe("POST /v1/responses (stream: true)", () => {
  for (const scenario of SCENARIOS) {
    it(`${scenario}: same answer as the plain route, deltas add up, links work`, async () => {
      const { events, final } = await streamed(scenario);
      // Event fidelity: exactly upstream's events, one for one, same types and sequence numbers.
      const upstreamEvents = await sim<{ data: { type: string; sequence_number: number }[] }>(
        `/responses/${final.id}/events`,
      );
      expect(events.map((e) => [e.type, e.sequence_number])).toEqual(
        upstreamEvents.data.map((e) => [e.type, e.sequence_number]),
      );
      // Concatenated deltas equal the final text of each part.
      const byItem = new Map<string, string>();
      for (const e of events)
        if (e.type === "response.output_text.delta") byItem.set(e.item_id!, (byItem.get(e.item_id!) ?? "") + e.delta);
      for (const item of final.output as { id: string; type: string; content?: { text?: string }[] }[]) {
        if (item.type === "message")
          expect(byItem.get(item.id) ?? "").toBe(item.content!.map((p) => p.text ?? "").join(""));
      }
      for (const p of textsOf(final)) expect(findSandboxRefs(p.text!)).toEqual([]);
      expectOnlyLinksRewritten(final, (await upstreamCopy(final.id)) as never);

      const plain = (await unsandbox().responses.create({
        model: "gpt-5",
        input: `Please make the files.\nsim: scenario=${scenario}`,
        tools: TOOLS,
      })) as unknown as Answer;
      expect(await shape(final)).toEqual(await shape(plain));

      const truth = await truthOf(final.id);
      if (scenario !== "phantom" && scenario !== "no-tool") {
        // States in the final event are those of that moment; the manifest route converges.
        const files = await converge(final.id, truth);
        await expectDownloadsAfterExpiry(files, truth);
      }
    });
  }

  it("a client that disconnects after the tool call still gets every file stored (listing-only files)", async () => {
    const res = await exports.default.fetch("https://unsandbox.test/v1/responses", {
      method: "POST",
      headers: { authorization: `Bearer ${UNSANDBOX_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-5", stream: true, input: "sim: scenario=unnamed; pace_ms=5", tools: TOOLS }),
    });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    let responseId = "";
    while (!/"type":"response\.output_item\.done"[^\n]*"code_interpreter_call"/.test(seen)) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += value;
      responseId ||= /"id":"(resp_[^"]+)"/.exec(seen)?.[1] ?? "";
    }
    expect(seen).not.toContain("annotation.added");
    await reader.cancel();
    const truth = await truthOf(responseId);
    expect(truth.written.length).toBeGreaterThan(0);
    const files = await converge(responseId, truth);
    for (const w of truth.written) expect(files.find((f) => f.file_id === w.file_id)?.state).toBe("stored");
  });
});

void download;
void sim;
