/**
 * Background responses: a resumed stream starts after the cursor with upstream's own numbering
 * and working links; a background response is harvested without the client polling.
 */
import { describe, expect, it } from "vitest";
import { exports } from "cloudflare:workers";
import { findSandboxRefs } from "../../../src/links/find";
import { UNSANDBOX_KEY, unsandbox } from "../support/clients";
import { converge, TOOLS, truthOf } from "../support/scenario";

const AUTH = { authorization: `Bearer ${UNSANDBOX_KEY}` };

async function readEvents(res: Response) {
  const text = await res.text();
  return text
    .split("\n\n")
    .filter((b) => b.includes("data:"))
    .map(
      (b) =>
        JSON.parse(b.slice(b.indexOf("data:") + 5)) as {
          type: string;
          sequence_number: number;
          delta?: string;
          response?: { id: string };
        },
    );
}

describe("background responses", () => {
  it("resumes a background stream after N with original sequence numbers and rewritten links", async () => {
    const created = await exports.default.fetch("https://unsandbox.test/v1/responses", {
      method: "POST",
      headers: { ...AUTH, "content-type": "application/json" },
      body: JSON.stringify({
        model: "gpt-5",
        background: true,
        stream: true,
        input: "sim: scenario=several-files",
        tools: TOOLS,
      }),
    });
    const all = await readEvents(created);
    const id = all[0]!.response!.id;
    const cursor = Math.floor(all.length / 2);
    const resumed = await readEvents(
      await exports.default.fetch(`https://unsandbox.test/v1/responses/${id}?stream=true&starting_after=${cursor}`, {
        headers: AUTH,
      }),
    );
    expect(resumed.map((e) => e.sequence_number)).toEqual(
      all.filter((e) => e.sequence_number > cursor).map((e) => e.sequence_number),
    );
    // The resumed events are the same as the tail of the first stream, links and all.
    expect(resumed).toEqual(
      all
        .filter((e) => e.sequence_number > cursor)
        .map((e) => expect.objectContaining({ type: e.type, ...(e.delta !== undefined ? { delta: e.delta } : {}) })),
    );
    const text = all
      .filter((e) => e.type === "response.output_text.delta")
      .map((e) => e.delta)
      .join("");
    expect(findSandboxRefs(text)).toEqual([]);
  });

  it("harvests a background response that the client never polls", async () => {
    const queued = await unsandbox().responses.create({
      model: "gpt-5",
      background: true,
      input: "sim: scenario=one-file",
      tools: TOOLS,
    });
    expect(["queued", "in_progress"]).toContain(queued.status);
    // Wait on the simulator only: the proxy is never asked about this response again.
    let truth = await truthOf(queued.id);
    for (let i = 0; i < 60 && truth.written.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 500));
      truth = await truthOf(queued.id);
    }
    expect(truth.written.length).toBeGreaterThan(0);
    const files = await converge(queued.id, truth);
    for (const w of truth.written) expect(files.find((f) => f.file_id === w.file_id)?.state).toBe("stored");
  });
});
