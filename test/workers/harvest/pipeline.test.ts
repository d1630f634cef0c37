/**
 * What the response pipeline decoded is handed over (harvest/pipeline.ts, app.ts `onDecoded`):
 * the ids an answer reveals, as they are decoded (before the stream event that reveals them goes
 * out, without holding it), and the answer's end (the plain answer, the terminal event) waits until
 * the hook is done with them, so owners are recorded from this one parse instead of a second one. Driven through the real
 * route, authentication and guard, Durable Objects and simulator; the only addition is a middleware in
 * front of the route that sets the hook, as an owner-recording middleware would.
 */
import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import OpenAI from "openai";
import { createApp, type DecodedIds } from "../../../src/app";
import { installSecurity } from "../../../src/auth/install";
import { responses } from "../../../src/routes/responses";
import { TOOLS } from "../support/scenario";
import { UNSANDBOX_KEY } from "../support/clients";

/** The route behind authentication, with a hook that takes a while before it has recorded the ids. */
function appWithHook() {
  const handed = new Set<string>();
  const recorded = new Set<string>();
  const calls: DecodedIds[] = [];
  const app = createApp();
  // Authentication and the guard, as src/index.ts installs them (the route refuses to run without).
  installSecurity(app);
  app.use("/v1/responses", async (c, next) => {
    c.set("onDecoded", async (ids) => {
      for (const id of [ids.responseId, ...ids.containerIds, ...ids.itemIds]) if (id) handed.add(id);
      // Slow on purpose: an answer sent before the hook is done would reach the client first.
      await new Promise((r) => setTimeout(r, 20));
      calls.push(ids);
      for (const id of [ids.responseId, ...ids.containerIds, ...ids.itemIds]) if (id) recorded.add(id);
    });
    await next();
  });
  app.route("/", responses);
  const ctx = createExecutionContext();
  const client = new OpenAI({
    apiKey: UNSANDBOX_KEY,
    baseURL: "https://unsandbox.test/v1",
    maxRetries: 0,
    // The answer is handed over at once: a streamed one is fed from waitUntil.
    fetch: async (input, init) => app.fetch(new Request(input as RequestInfo, init as RequestInit), env as never, ctx),
  });
  return { client, handed, recorded, calls, done: () => waitOnExecutionContext(ctx) };
}

type Item = { id?: string; container_id?: string | null };

describe("the response pipeline hands over the ids it decoded", () => {
  it("plain: the response, its containers and its output items, before the answer", async () => {
    const { client, calls, recorded, done } = appWithHook();
    const answer = (await client.responses.create({
      model: "gpt-5",
      input: "Please make the files.\nsim: scenario=one-file",
      tools: TOOLS,
    })) as unknown as {
      id: string;
      output: Item[];
    };
    // The answer waited for the hook.
    expect(recorded.has(answer.id)).toBe(true);
    await done();
    const containers = [...new Set(answer.output.flatMap((i) => (i.container_id ? [i.container_id] : [])))];
    expect(containers.length).toBeGreaterThan(0);
    expect(calls).toEqual([
      { responseId: answer.id, containerIds: containers, itemIds: answer.output.map((i) => i.id) },
    ]);
  });

  it("stream: every id is handed over before the first event that reveals it reaches the client, and recorded before the terminal event", async () => {
    const { client, handed, recorded, calls, done } = appWithHook();
    const stream = client.responses.stream({
      model: "gpt-5",
      input: "Please make the files.\nsim: scenario=one-file",
      tools: TOOLS,
    });
    const revealed = new Set<string>();
    for await (const e of stream) {
      const event = e as { response?: { id?: string }; item?: Item };
      for (const id of [event.response?.id, event.item?.container_id, event.item?.id]) {
        if (typeof id !== "string") continue;
        // The response and its containers are handed over at once (their records run beside the
        // relay); a stream's output items together at its end (harvest/decoded.ts).
        if (!event.item?.id || id !== event.item.id) expect(handed.has(id), `${e.type} reveals ${id}`).toBe(true);
        revealed.add(id);
      }
      if (e.type === "response.completed") {
        // Not held for the hook before: the terminal event waits until every id is recorded.
        for (const id of revealed) expect(recorded.has(id), `recorded before ${e.type}: ${id}`).toBe(true);
      }
    }
    await done();
    const final = await stream.finalResponse();
    expect(revealed.has(final.id)).toBe(true);
    expect(final.output.some((i) => (i as Item).container_id)).toBe(true);
    // Each id once per stream.
    const handedOver = calls.flatMap((c) => [c.responseId, ...c.containerIds, ...c.itemIds]).filter(Boolean);
    expect(handedOver.length).toBe(new Set(handedOver).size);
    expect(new Set(handedOver)).toEqual(revealed);
  });
});
