/**
 * @module harvest/restore
 * Stateless multi-turn: a client may send an earlier (rewritten) answer back as input. Upstream
 * must see exactly what it wrote, so every unsandbox URL issued to this tenant goes back to its
 * original sandbox destination, and the `url` unsandbox added to citations goes away (the real
 * API, like the simulator, refuses fields it does not know).
 *
 * Every text of the request body that reaches the model is restored, whatever its shape
 * (OpenAI, "Create a model response", `input` and `instructions`:
 * https://platform.openai.com/docs/api-reference/responses/create): `input` as a string, a
 * message's `content` as a string (the Vercel AI SDK sends history so with `store: false`, and
 * many apps keep history as strings), `output_text` and `input_text` parts, with or without ids
 * or `phase`, and `instructions` (apps template earlier answers into them). A URL of this tenant
 * whose original was never recorded (the index lost it, or the text was edited) still goes back
 * as `sandbox:<path>` from its verified token, so no download URL of ours reaches upstream.
 * Another tenant's URL, or a forged one, stays as it is: it restores nothing and reveals nothing.
 */
import type { Bindings, Config } from "../config";
import { verifyLink } from "../links/token";
import { reversePart, reverseText } from "../links/reverse";
import type { TextAnnotation } from "../links/annotations";
import { responseIndexFor } from "../tracker/stubs";

interface Part {
  type?: string;
  text?: string;
  annotations?: (TextAnnotation & { url?: unknown })[];
}

type Item = { content?: unknown } & Record<string, unknown>;

/** The part types whose `text` the model reads. */
const TEXT_PARTS = new Set(["output_text", "input_text"]);

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

const isTextPart = (part: Part | null | undefined): part is Part & { text: string } =>
  !!part && typeof part === "object" && TEXT_PARTS.has(part.type ?? "") && typeof part.text === "string";

/** Every text of the body that goes to the model (see the module note). */
function textsOf(body: Record<string, unknown>): string[] {
  const texts: string[] = [];
  if (typeof body.instructions === "string") texts.push(body.instructions);
  if (typeof body.input === "string") texts.push(body.input);
  if (!Array.isArray(body.input)) return texts;
  for (const item of body.input as Item[]) {
    if (!item || typeof item !== "object") continue;
    if (typeof item.content === "string") texts.push(item.content);
    else if (Array.isArray(item.content))
      for (const part of item.content as Part[]) if (isTextPart(part)) texts.push(part.text);
  }
  return texts;
}

/** Returns the body with its texts restored (the body itself when it holds no URL of ours). */
export async function restoreInput(
  env: Bindings,
  config: Config,
  tenant: string,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const texts = textsOf(body);
  if (texts.length === 0) return body;

  // Every URL of ours in those texts (each verified once), grouped by the response that issued it.
  const pattern = new RegExp(
    `${escapeRegExp(config.PUBLIC_FILES_ORIGIN)}/files/([A-Za-z0-9_-]+)/[A-Za-z0-9._~%-]*`,
    "g",
  );
  const byResponse = new Map<string, Set<string>>();
  const fallback = new Map<string, string>();
  const seen = new Set<string>();
  const now = Date.now();
  for (const text of texts) {
    for (const m of text.matchAll(pattern)) {
      if (seen.has(m[0])) continue;
      seen.add(m[0]);
      const verified = await verifyLink(m[1]!, config.LINK_SECRETS, now);
      if (!verified.ok || verified.claims.tenant !== tenant) continue;
      const set = byResponse.get(verified.claims.responseId) ?? new Set<string>();
      set.add(m[0]);
      byResponse.set(verified.claims.responseId, set);
      fallback.set(m[0], `sandbox:${verified.claims.path}`);
    }
  }
  const originals = new Map<string, string>();
  for (const [responseId, urls] of byResponse) {
    const found = await responseIndexFor(env, responseId).lookupOriginals([...urls], tenant);
    for (const [url, original] of Object.entries(found)) originals.set(url, original);
  }
  for (const [url, original] of fallback) if (!originals.has(url)) originals.set(url, original);

  const restoreString = (text: string) => reverseText(text, originals).text;
  const restorePart = (part: Part): Part => {
    if (!isTextPart(part)) return part;
    if (part.type !== "output_text") return { ...part, text: restoreString(part.text) };
    const restored = reversePart(part, originals);
    // A citation's `url` is always ours (OpenAI's citation has none), even when its link was foreign.
    restored.annotations = restored.annotations?.map((a) => {
      if (a.type !== "container_file_citation" || !("url" in a)) return a;
      const { url: _ours, ...rest } = a;
      return rest;
    });
    return restored;
  };

  const out: Record<string, unknown> = { ...body };
  if (typeof body.instructions === "string") out.instructions = restoreString(body.instructions);
  if (typeof body.input === "string") out.input = restoreString(body.input);
  else if (Array.isArray(body.input)) {
    out.input = (body.input as unknown[]).map((raw) => {
      const item = raw as Item;
      if (!item || typeof item !== "object") return raw;
      if (typeof item.content === "string") return { ...item, content: restoreString(item.content) };
      if (!Array.isArray(item.content)) return raw;
      return { ...item, content: (item.content as Part[]).map(restorePart) };
    });
  }
  return out;
}
