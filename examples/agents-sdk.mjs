#!/usr/bin/env node
/**
 * unsandbox from the OpenAI Agents SDK for JavaScript (`@openai/agents`): the agent's OpenAI
 * client gets unsandbox's `baseURL` and key; nothing else changes. A run and a streamed run of
 * an agent with the hosted code-interpreter tool: `finalOutput` has working download links.
 *
 * Where the rest is: each message's annotations (a `container_file_citation` with the link's
 * `url`) are in the run's items, `result.newItems[].rawItem.content[].providerData.annotations`;
 * the `unsandbox` object of a plain run is in `result.rawResponses[].providerData.unsandbox`, and
 * the manifest of any response is `GET /v1/responses/{id}/files` (`result.lastResponseId`).
 * Tracing is off: the SDK would send traces to OpenAI with the key it has, which is unsandbox's.
 *
 *   npm start                          # in another terminal (simulated upstream without OPENAI_API_KEY)
 *   node examples/agents-sdk.mjs
 *
 * Settings: UNSANDBOX_URL (default http://127.0.0.1:8787), UNSANDBOX_API_KEY (default the local key),
 * UNSANDBOX_PROMPT (the question).
 */
import {
  Agent,
  codeInterpreterTool,
  run,
  setDefaultOpenAIClient,
  setOpenAIAPI,
  setTracingDisabled,
} from "@openai/agents";
import OpenAI from "openai";

const origin = process.env.UNSANDBOX_URL ?? "http://127.0.0.1:8787";
// The two lines that change: the client's baseURL and key.
setDefaultOpenAIClient(
  new OpenAI({ baseURL: `${origin}/v1`, apiKey: process.env.UNSANDBOX_API_KEY ?? "usk_local_0123456789abcdef" }),
);
setOpenAIAPI("responses");
setTracingDisabled(true);

const agent = new Agent({
  name: "Analyst",
  instructions: "You write files with the code interpreter and link them in your answer.",
  model: "gpt-5",
  tools: [codeInterpreterTool({ container: { type: "auto" } })],
});
const prompt = process.env.UNSANDBOX_PROMPT ?? "Write the squares of 1 to 10 to squares.csv and link it.";

/** Prints the last response's id, the final output, its links, the citations' URLs and the files unsandbox reported. */
function report(label, result) {
  console.log(`${label}: ${result.lastResponseId}`);
  for (const f of result.rawResponses.at(-1)?.providerData?.unsandbox?.files ?? [])
    console.log(`  file ${f.filename}: ${f.state}`);
  console.log(`  text: ${String(result.finalOutput).trim()}`);
  for (const [url] of String(result.finalOutput).matchAll(/https?:\/\/[^\s)\]]+\/files\/[^\s)\]]+/g))
    console.log(`  link ${url}`);
  for (const item of result.newItems) {
    for (const part of item.type === "message_output_item" ? item.rawItem.content : []) {
      for (const a of part.providerData?.annotations ?? []) if (a.url) console.log(`  source ${a.url} ${a.filename}`);
    }
  }
}

// 1. A run.
report("run", await run(agent, prompt));

// 2. A streamed run: text deltas as they come (links already rewritten), then the same result.
const streamed = await run(agent, prompt, { stream: true });
let deltas = "";
for await (const event of streamed) {
  if (event.type === "raw_model_stream_event" && event.data.type === "output_text_delta") deltas += event.data.delta;
}
await streamed.completed;
report("streamed run", streamed);
console.log(`  deltas equal the final output: ${deltas.includes(String(streamed.finalOutput).trim())}`);

// The hosted shell tool (`shellTool({ environment: { type: "container_auto" } })`) runs in the
// same kind of container; it is left out here because the simulated upstream does not offer it.
