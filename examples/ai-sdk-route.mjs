#!/usr/bin/env node
/**
 * A chat route as a Next.js app writes it with the Vercel AI SDK (app/api/chat/route.ts): a plain
 * `Request => Response` function that streams a UI message stream (`toUIMessageStreamResponse()`)
 * from `streamText` with the code-interpreter tool, through unsandbox. `useChat` on the page
 * renders the text (its links download the files) and, with `sendSources`, the `source-url` parts:
 * with `x-unsandbox-url-citations: on` each file citation is one, with the download URL.
 * The response id goes out as message metadata, for a page that wants the manifest
 * (`GET /v1/responses/{id}/files`).
 *
 *   npm start                          # in another terminal (simulated upstream without OPENAI_API_KEY)
 *   node examples/ai-sdk-route.mjs     # calls POST once, as useChat would, and prints the stream's parts
 *
 * Settings: UNSANDBOX_URL (default http://127.0.0.1:8787), UNSANDBOX_API_KEY (default the local key),
 * UNSANDBOX_PROMPT (the question of the direct run).
 */
import { createOpenAI } from "@ai-sdk/openai";
import { convertToModelMessages, streamText } from "ai";

/** The route handler: `export { POST }` from app/api/chat/route.ts. */
export async function POST(req) {
  const origin = process.env.UNSANDBOX_URL ?? "http://127.0.0.1:8787";
  const openai = createOpenAI({
    baseURL: `${origin}/v1`,
    apiKey: process.env.UNSANDBOX_API_KEY ?? "usk_local_0123456789abcdef",
    headers: { "x-unsandbox-url-citations": "on" },
  });
  const { messages } = await req.json();
  let responseId;
  const result = streamText({
    model: openai("gpt-5"),
    messages: await convertToModelMessages(messages),
    tools: { code_interpreter: openai.tools.codeInterpreter() },
    onStepFinish: ({ response }) => {
      responseId = response.id;
    },
  });
  return result.toUIMessageStreamResponse({
    sendSources: true,
    messageMetadata: ({ part }) => (part.type === "finish" ? { responseId } : undefined),
  });
}

/** The UI message stream's chunks (server-sent events of JSON objects, ending with `[DONE]`). */
export async function uiChunks(res) {
  const chunks = [];
  for (const block of (await res.text()).split("\n\n")) {
    const data = block.startsWith("data: ") ? block.slice(6) : undefined;
    if (data && data !== "[DONE]") chunks.push(JSON.parse(data));
  }
  return chunks;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const text = process.env.UNSANDBOX_PROMPT ?? "Write the squares of 1 to 10 to squares.csv and link it.";
  const res = await POST(
    new Request("http://localhost/api/chat", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ id: "m1", role: "user", parts: [{ type: "text", text }] }] }),
    }),
  );
  const chunks = await uiChunks(res);
  const finish = chunks.find((c) => c.type === "finish");
  console.log(`route: ${finish?.messageMetadata?.responseId}`);
  console.log(
    `  text: ${chunks
      .filter((c) => c.type === "text-delta")
      .map((c) => c.delta)
      .join("")
      .trim()}`,
  );
  for (const c of chunks) if (c.type === "source-url") console.log(`  source ${c.url} ${c.title}`);
}
