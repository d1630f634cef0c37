/**
 * @module links/response
 * Rewrites the links inside Responses API objects: an `output_text` part, an output item, a
 * whole Response. Used by the plain proxy path and, with the same namer, by the stream rewriter
 * for `*.done` and `response.completed` events, so both paths give byte-identical text.
 */
import { rewriteAnnotations, type TextAnnotation } from "./annotations";
import type { IssuedLink, LinkNamer } from "./naming";
import { rewriteText, type RewriteResult } from "./rewrite";

/** The fields of an `output_text` content part this module reads; the rest is carried over. */
export interface OutputTextPart {
  type: string;
  text?: unknown;
  annotations?: unknown;
  [field: string]: unknown;
}

/** Result of a rewrite: the new value (a copy where something changed) and the links it issued. */
export interface Rewritten<T> {
  value: T;
  links: IssuedLink[];
}

/** Rewrites one content part if it is `output_text`: text, and annotations to match. */
export async function rewritePart<P extends OutputTextPart>(part: P, name: LinkNamer): Promise<Rewritten<P>> {
  if (!part || part.type !== "output_text" || typeof part.text !== "string") return { value: part, links: [] };
  const r: RewriteResult = await rewriteText(part.text, name);
  if (r.edits.length === 0) return { value: part, links: [] };
  const value: P = { ...part, text: r.text };
  if (Array.isArray(part.annotations)) value.annotations = rewriteAnnotations(part.text, r.text, r.edits, part.annotations as TextAnnotation[]);
  return { value, links: r.links };
}

/** Rewrites the `output_text` parts of a `message` output item; other items come back as they are. */
export async function rewriteOutputItem<I extends { type?: unknown; content?: unknown }>(item: I, name: LinkNamer): Promise<Rewritten<I>> {
  if (!item || item.type !== "message" || !Array.isArray(item.content)) return { value: item, links: [] };
  const links: IssuedLink[] = [];
  let changed = false;
  const content: unknown[] = [];
  // One part after another, so links are named in text order as a stream would name them.
  for (const part of item.content as OutputTextPart[]) {
    const r = await rewritePart(part, name);
    if (r.value !== part) changed = true;
    content.push(r.value);
    links.push(...r.links);
  }
  return { value: changed ? { ...item, content } : item, links };
}

/** Rewrites every output item of a Response object (plain answers, and `response.*` stream events). */
export async function rewriteResponse<R extends { output?: unknown }>(response: R, name: LinkNamer): Promise<Rewritten<R>> {
  if (!response || !Array.isArray(response.output)) return { value: response, links: [] };
  const links: IssuedLink[] = [];
  let changed = false;
  const output: unknown[] = [];
  for (const item of response.output as { type?: unknown; content?: unknown }[]) {
    const r = await rewriteOutputItem(item, name);
    if (r.value !== item) changed = true;
    output.push(r.value);
    links.push(...r.links);
  }
  return { value: changed ? { ...response, output } : response, links };
}

/** {@link rewriteResponse}, returning only the rewritten Response object. */
export async function rewriteResponseObject<R extends { output?: unknown }>(response: R, name: LinkNamer): Promise<R> {
  return (await rewriteResponse(response, name)).value;
}

/** Rewrites a list of output items (e.g. `GET /v1/responses/{id}/input_items`), in order. */
export async function rewriteItems<I>(items: readonly I[], name: LinkNamer): Promise<I[]> {
  const out: I[] = [];
  for (const item of items) out.push((await rewriteOutputItem(item as { type?: unknown; content?: unknown }, name)).value as I);
  return out;
}
