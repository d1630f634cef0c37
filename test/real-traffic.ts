/**
 * Loads the recorded real OpenAI traffic in `../shared/real-traffic/` (beside the clone; read in
 * place, never copied into the repo) as a list of `POST /v1/responses` answers: a plain Response
 * body, or a stream's events in order. Runs in Node (the workerd tests cannot read files): the
 * global setup passes the list to the tests with `provide("realTraffic", …)`, or `null` with the
 * reason when the folder is absent.
 *
 * Formats (the folder's README): vercel-ai `*.json` (a body) and `*.chunks.txt` (one event JSON a
 * line); pydantic-ai VCR cassettes (YAML: `parsed_body`, or the SSE text in `body.string`);
 * openai-dotnet session records (`Entries[]`: `ResponseBody` an object, or the SSE lines).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import type { RealTraffic, Recording } from "./workers/replay/recordings";

/** The events of an SSE text: every `data:` line's JSON, in order. */
function sseEvents(text: string): Record<string, unknown>[] {
  return text
    .split(/\r?\n/)
    .filter((l) => l.startsWith("data:"))
    .map((l) => l.slice(5).trim())
    .filter((d) => d && d !== "[DONE]")
    .map((d) => JSON.parse(d) as Record<string, unknown>);
}

const files = (dir: string) =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => !f.endsWith(".source.json"))
        .sort()
    : [];
const isCreate = (method: unknown, uri: unknown) =>
  String(method).toUpperCase() === "POST" && /\/v1\/responses(\?|$)/.test(String(uri));

export function loadRealTraffic(root: string): RealTraffic {
  if (!existsSync(root))
    return { absent: `${root} is absent (recorded real traffic lives beside the clone, see the replay test's note)` };
  const out: Recording[] = [];
  const vercel = join(root, "vercel-ai");
  for (const f of files(vercel)) {
    const text = readFileSync(join(vercel, f), "utf8");
    if (f.endsWith(".chunks.txt")) {
      out.push({
        name: `vercel-ai/${f}`,
        events: text
          .split(/\r?\n/)
          .filter((l) => l.trim())
          .map((l) => JSON.parse(l) as Record<string, unknown>),
      });
    } else if (f.endsWith(".json"))
      out.push({ name: `vercel-ai/${f}`, response: JSON.parse(text) as Record<string, unknown> });
  }
  const pydantic = join(root, "pydantic-ai");
  for (const f of files(pydantic).filter((x) => x.endsWith(".yaml"))) {
    const doc = parseYaml(readFileSync(join(pydantic, f), "utf8")) as {
      interactions?: {
        request: { method: string; uri: string };
        response: { status?: { code?: number }; parsed_body?: unknown; body?: { string?: string } };
      }[];
    };
    (doc.interactions ?? []).forEach((x, i) => {
      if (!isCreate(x.request.method, x.request.uri) || (x.response.status?.code ?? 200) !== 200) return;
      const name = `pydantic-ai/${f}#${i}`;
      if (x.response.parsed_body && typeof x.response.parsed_body === "object")
        out.push({ name, response: x.response.parsed_body as Record<string, unknown> });
      else if (typeof x.response.body?.string === "string")
        out.push({ name, events: sseEvents(x.response.body.string) });
    });
  }
  const dotnet = join(root, "openai-dotnet", "ResponsesToolTests");
  for (const f of files(dotnet).filter((x) => x.endsWith(".json"))) {
    const doc = JSON.parse(readFileSync(join(dotnet, f), "utf8")) as {
      Entries: { RequestMethod: string; RequestUri: string; StatusCode: number | string; ResponseBody: unknown }[];
    };
    doc.Entries.forEach((e, i) => {
      if (!isCreate(e.RequestMethod, e.RequestUri) || Number(e.StatusCode) !== 200) return;
      const name = `openai-dotnet/ResponsesToolTests/${f}#${i}`;
      if (Array.isArray(e.ResponseBody)) out.push({ name, events: sseEvents(e.ResponseBody.join("")) });
      else if (e.ResponseBody && typeof e.ResponseBody === "object")
        out.push({ name, response: e.ResponseBody as Record<string, unknown> });
    });
  }
  return { recordings: out };
}
