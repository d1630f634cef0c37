#!/usr/bin/env node
/**
 * unsandbox from the OpenAI Agents SDK for JavaScript (`@openai/agents`): the agent's OpenAI
 * client gets unsandbox's `baseURL` and key; nothing else changes. A run and a streamed run of
 * an agent with the hosted code-interpreter tool, then of one with the hosted shell tool
 * (`shellTool({ environment: { type: "container_auto" } })`, commands in an OpenAI container, where
 * skills may write files the answer never names): `finalOutput` has working download links, and
 * for the shell runs the example prints the manifest, the unnamed files' download URLs included.
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
 * UNSANDBOX_PROMPT (the question), UNSANDBOX_SHELL_PROMPT (the shell agent's question),
 * UNSANDBOX_SHELL=0 (skip the shell agent).
 */
import {
  Agent,
  codeInterpreterTool,
  run,
  setDefaultOpenAIClient,
  shellTool,
  setOpenAIAPI,
  setTracingDisabled,
} from "@openai/agents";
import OpenAI from "openai";

const origin = process.env.UNSANDBOX_URL ?? "http://127.0.0.1:8787";
const apiKey = process.env.UNSANDBOX_API_KEY ?? "usk_local_0123456789abcdef";
// The two lines that change: the client's baseURL and key.
setDefaultOpenAIClient(new OpenAI({ baseURL: `${origin}/v1`, apiKey }));
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

// 3. The hosted shell tool: the same two runs of an agent whose commands run in an OpenAI container.
if (process.env.UNSANDBOX_SHELL !== "0") {
  const shellAgent = new Agent({
    name: "Office",
    instructions: "You write documents with the shell and link them in your answer.",
    model: "gpt-5.2",
    tools: [shellTool({ environment: { type: "container_auto" } })],
  });
  const shellPrompt = process.env.UNSANDBOX_SHELL_PROMPT ?? "Write this quarter's figures to figures.xlsx and link it.";

  /**
   * Every file of the response, linked or not, from its manifest: it answers once the listed ones
   * settled; a file upstream lists late may only be there on a later call.
   */
  async function manifest(result) {
    const res = await fetch(`${origin}/v1/responses/${result.lastResponseId}/files`, {
      headers: { authorization: `Bearer ${apiKey}`, "x-unsandbox-wait-ms": "30000" },
    });
    for (const f of (await res.json()).data) console.log(`  manifest ${f.url} ${f.state}`);
  }

  const shellRun = await run(shellAgent, shellPrompt);
  report("shell run", shellRun);
  await manifest(shellRun);

  // A streamed run: upstream's events pass through as they come, the shell's commands among them.
  const shellStreamed = await run(shellAgent, shellPrompt, { stream: true });
  const commands = [];
  for await (const event of shellStreamed) {
    const e = event.type === "raw_model_stream_event" && event.data.type === "model" ? event.data.event : undefined;
    if (e?.type === "response.output_item.done" && e.item.type === "shell_call")
      commands.push(e.item.action.commands.join("; "));
  }
  await shellStreamed.completed;
  report("shell streamed run", shellStreamed);
  for (const c of commands) console.log(`  shell ${c}`);
  await manifest(shellStreamed);
}
