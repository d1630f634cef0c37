#!/usr/bin/env node
/**
 * unsandbox from the Vercel AI SDK (`ai` with `@ai-sdk/openai`): only `baseURL` and the key change.
 * `generateText` and `streamText` with the provider's code-interpreter tool; the links in the text
 * download the files the model wrote, even after its container expired.
 *
 * The SDK turns a `container_file_citation` into a `document` source and drops the `url` unsandbox
 * adds. With the header `x-unsandbox-url-citations: on` (or the tenant's `url_citations` default),
 * unsandbox delivers those citations as `url_citation`s instead, so `sources` carry working URLs.
 *
 *   npm start                          # in another terminal (simulated upstream without OPENAI_API_KEY)
 *   node examples/ai-sdk.mjs
 *
 * Settings: UNSANDBOX_URL (default http://127.0.0.1:8787), UNSANDBOX_API_KEY (default the local key),
 * UNSANDBOX_PROMPT (the question);
 * UNSANDBOX_SHOW_EVENTS=1 also prints the raw stream events (type and sequence number).
 */
import { createOpenAI } from "@ai-sdk/openai";
import { generateText, streamText } from "ai";

const origin = process.env.UNSANDBOX_URL ?? "http://127.0.0.1:8787";
const settings = { baseURL: `${origin}/v1`, apiKey: process.env.UNSANDBOX_API_KEY ?? "usk_local_0123456789abcdef" };
// The two lines that change: baseURL and apiKey. The header asks for URL citations.
const openai = createOpenAI(settings);
const openaiWithUrls = createOpenAI({ ...settings, headers: { "x-unsandbox-url-citations": "on" } });

const prompt = process.env.UNSANDBOX_PROMPT ?? "Write the squares of 1 to 10 to squares.csv and link it.";

/** Prints the response id, the text, every download link in it and every source. */
function report(label, responseId, text, sources) {
  console.log(`${label}: ${responseId}`);
  console.log(`  text: ${text.trim()}`);
  for (const [url] of text.matchAll(/https?:\/\/[^\s)\]]+\/files\/[^\s)\]]+/g)) console.log(`  link ${url}`);
  for (const s of sources) {
    if (s.sourceType === "url") console.log(`  source ${s.url} ${s.title}`);
    else console.log(`  document ${s.filename ?? s.title} (no URL)`);
  }
}

/** The raw Responses API events of a stream (the SDK's `raw` parts), as `type#sequence_number`. */
function showEvents(raw) {
  if (process.env.UNSANDBOX_SHOW_EVENTS === "1")
    console.log(`  events ${JSON.stringify(raw.map((e) => [e.type, e.sequence_number]))}`);
}

// 1. generateText with URL citations: sources are `url` sources with the download URL.
const generated = await generateText({
  model: openaiWithUrls("gpt-5"),
  prompt,
  tools: { code_interpreter: openai.tools.codeInterpreter() },
});
report("generateText", generated.response.id, generated.text, generated.sources);

// 2. streamText, with and without URL citations: the events are upstream's, one for one.
for (const [label, provider] of [
  ["streamText", openaiWithUrls],
  ["streamText without URL citations", openai],
]) {
  const result = streamText({
    model: provider("gpt-5"),
    prompt,
    tools: { code_interpreter: provider.tools.codeInterpreter() },
    includeRawChunks: true,
  });
  let text = "";
  const sources = [];
  const raw = [];
  for await (const part of result.fullStream) {
    if (part.type === "text-delta") text += part.text;
    else if (part.type === "source") sources.push(part);
    else if (part.type === "raw") raw.push(part.rawValue);
    else if (part.type === "error") throw part.error;
  }
  report(label, (await result.response).id, text, sources);
  showEvents(raw);
}
