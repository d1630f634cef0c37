/**
 * @module links/response
 * Rewrites the links inside Responses API objects: an `output_text` part, an output item, a
 * whole Response. Used by the plain proxy path and, with the same namer, by the stream rewriter
 * for `*.done` and `response.completed` events, so both paths give byte-identical text.
 *
 * Every `container_file_citation` gains a `url`: the URL of the link its span covers, and for a
 * citation that covers no link (a shown figure, whose span is empty at 0, or a file named in plain
 * words) the URL of `/mnt/data/<filename>`, named like any link, which the container's tracker
 * resolves to the cited file id (OpenAI, "Container file citation":
 * https://platform.openai.com/docs/api-reference/responses/object).
 */
import { rewriteAnnotations, type TextAnnotation } from "./annotations";
import { refOfPath, type IssuedLink, type LinkNamer } from "./naming";
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
  const annotations = Array.isArray(part.annotations) ? (part.annotations as TextAnnotation[]) : undefined;
  if (r.edits.length === 0 && !annotations?.some(needsUrl)) return { value: part, links: [] };
  const value: P = { ...part, text: r.text };
  if (annotations)
    value.annotations = await nameCitations(rewriteAnnotations(part.text, r.text, r.edits, annotations), name);
  return { value, links: r.links };
}

/** The container path a citation without a link names, or null when its filename is no plain name. */
export function citedPath(a: { filename?: unknown; [field: string]: unknown }): string | null {
  const f = a.filename;
  if (typeof f !== "string" || f === "" || f === "." || f === ".." || /[/\\\u0000-\u001f]/.test(f)) return null;
  return `/mnt/data/${f}`;
}

/** A file citation still without a `url` (its span covers no rewritten link). */
function needsUrl(a: TextAnnotation): boolean {
  return a?.type === "container_file_citation" && a.url === undefined && citedPath(a) !== null;
}

/**
 * Gives every file citation without a `url` the URL of the file it cites (see the module note).
 * Returns the same array when none needs one.
 */
export async function nameCitations<A extends TextAnnotation>(annotations: A[], name: LinkNamer): Promise<A[]> {
  const todo = annotations.flatMap((a, k) => (needsUrl(a) ? [k] : []));
  if (todo.length === 0) return annotations;
  const urls = await name(todo.map((k) => refOfPath(citedPath(annotations[k]!)!)));
  const out = [...annotations];
  todo.forEach((k, j) => (out[k] = { ...annotations[k]!, url: urls[j]! }));
  return out;
}

/** Rewrites the `output_text` parts of a `message` output item; other items come back as they are. */
export async function rewriteOutputItem<I extends { type?: unknown; content?: unknown }>(
  item: I,
  name: LinkNamer,
): Promise<Rewritten<I>> {
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
export async function rewriteResponse<R extends { output?: unknown }>(
  response: R,
  name: LinkNamer,
): Promise<Rewritten<R>> {
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
  for (const item of items)
    out.push((await rewriteOutputItem(item as { type?: unknown; content?: unknown }, name)).value as I);
  return out;
}
