#!/usr/bin/env node
/**
 * unsandbox from Node with the official `openai` SDK: only `baseURL` and the key change.
 * One plain call and one streamed call, each with the code_interpreter tool; every file the model
 * wrote comes back in `response.unsandbox.files` with a download URL that works without a key.
 *
 *   npm start                          # in another terminal (simulated upstream without OPENAI_API_KEY)
 *   node examples/node-sdk.mjs
 *
 * Settings: UNSANDBOX_URL (default http://127.0.0.1:8787), UNSANDBOX_API_KEY (default the local key).
 */
import { createHash } from "node:crypto";
import OpenAI from "openai";

const origin = process.env.UNSANDBOX_URL ?? "http://127.0.0.1:8787";
const client = new OpenAI({
  baseURL: `${origin}/v1`,
  apiKey: process.env.UNSANDBOX_API_KEY ?? "usk_local_0123456789abcdef",
});
const tools = [{ type: "code_interpreter", container: { type: "auto" } }];

/** Downloads a file by its unsandbox URL and prints its size and sha256 next to the manifest's. */
async function download(file) {
  const res = await fetch(file.url);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  console.log(
    `  download ${file.filename}: HTTP ${res.status}, ${bytes.length} bytes, sha256 ${sha256} (manifest ${file.sha256 ?? "-"})`,
  );
}

// 1. Plain: the answer arrives once the files are copied (or after a bounded wait).
const plain = await client.responses.create({
  model: "gpt-5",
  input: "Write the squares of 1 to 10 to squares.csv and give me a link to it.",
  tools,
});
console.log(`plain: ${plain.id}`);
console.log(`  text: ${plain.output_text}`);
for (const file of plain.unsandbox.files) {
  console.log(`  file ${file.filename}: ${file.state} ${file.url}`);
  if (file.state === "stored") await download(file);
}

// 2. Streamed, continuing the conversation: text deltas as they come; links are already rewritten.
const stream = await client.responses.create({
  model: "gpt-5",
  input: "Now write the cubes of 1 to 10 to cubes.csv and link it.",
  previous_response_id: plain.id,
  tools,
  stream: true,
});
let text = "";
let completed;
for await (const event of stream) {
  if (event.type === "response.output_text.delta") text += event.delta;
  if (event.type === "response.completed") completed = event.response;
}
console.log(`stream: ${completed.id}`);
console.log(`  text: ${text.trim()}`);
// A stream ends before copies finish; the manifest converges (GET /v1/responses/{id}/files).
let files = completed.unsandbox?.files ?? [];
for (let i = 0; i < 40 && files.some((f) => f.state === "pending" || f.state === "copying"); i++) {
  await new Promise((r) => setTimeout(r, 500));
  files = (await client.get(`/responses/${completed.id}/files`)).data;
}
for (const file of files) {
  console.log(`  file ${file.filename}: ${file.state} ${file.url}`);
  if (file.state === "stored") await download(file);
}
