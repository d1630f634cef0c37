/**
 * @module links/url-citations
 * The URL-citation style, for clients that only understand URL citations: a
 * `container_file_citation` whose span is a rewritten link (it gained `url`, links/annotations.ts)
 * is delivered as a `url_citation` over the same span, with the download URL as `url` and the
 * file name as `title`. Every other annotation, and a container citation without a `url` (nothing
 * to point at), stays as it is.
 *
 * Why: `url_citation` is the one citation type the Responses API documents with a URL
 * (https://platform.openai.com/docs/api-reference/responses/object, `output_text.annotations`),
 * so it is what clients turn into links. The Vercel AI SDK, for one, maps a
 * `container_file_citation` to a `document` source and drops every field it does not know,
 * `url` included, but maps a `url_citation` to a `url` source with `url` and `title`
 * (https://ai-sdk.dev/providers/ai-sdk-providers/openai, "Sources").
 *
 * Only the annotation objects change: a stream keeps its events, their types and sequence
 * numbers. Pure; each function returns a copy where something changed, else its input.
 */
import type { TextAnnotation } from "./annotations";

/** The shape of a `url_citation` (Responses API). */
export interface UrlCitation {
  type: "url_citation";
  start_index: number;
  end_index: number;
  url: string;
  title: string;
}

/** One annotation in the URL-citation style. */
export function asUrlCitation<A>(annotation: A): A | UrlCitation {
  const a = annotation as TextAnnotation | null;
  if (!a || typeof a !== "object" || a.type !== "container_file_citation" || typeof a.url !== "string")
    return annotation;
  if (typeof a.start_index !== "number" || typeof a.end_index !== "number") return annotation;
  const title = typeof a.filename === "string" && a.filename ? a.filename : titleOf(a.url);
  return { type: "url_citation", start_index: a.start_index, end_index: a.end_index, url: a.url, title };
}

/** The last path segment of a download URL, decoded (the file name in unsandbox's links). */
function titleOf(url: string): string {
  const last = url.split(/[?#]/)[0]!.split("/").pop() ?? "";
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

type Obj = Record<string, unknown>;

/** A content part with its annotations in the URL-citation style. */
export function partWithUrlCitations<P>(part: P): P {
  const p = part as Obj | null;
  if (!p || typeof p !== "object" || !Array.isArray(p.annotations)) return part;
  const annotations = mapChanged(p.annotations as unknown[], asUrlCitation);
  return annotations ? ({ ...p, annotations } as P) : part;
}

/** An output item (a `message`) with its parts' annotations in the URL-citation style. */
export function itemWithUrlCitations<I>(item: I): I {
  const i = item as Obj | null;
  if (!i || typeof i !== "object" || !Array.isArray(i.content)) return item;
  const content = mapChanged(i.content, partWithUrlCitations);
  return content ? ({ ...i, content } as I) : item;
}

/** A Response object with its output's annotations in the URL-citation style. */
export function responseWithUrlCitations<R>(response: R): R {
  const r = response as Obj | null;
  if (!r || typeof r !== "object" || !Array.isArray(r.output)) return response;
  const output = mapChanged(r.output, itemWithUrlCitations);
  return output ? ({ ...r, output } as R) : response;
}

/**
 * A stream event in the URL-citation style: the annotation of `output_text.annotation.added`,
 * the part of `content_part.*`, the item of `output_item.*`, the response of `response.*`.
 */
export function eventWithUrlCitations<E>(event: E): E {
  const e = event as Obj | null;
  if (!e || typeof e !== "object") return event;
  if (e.type === "response.output_text.annotation.added") {
    const annotation = asUrlCitation(e.annotation);
    return annotation === e.annotation ? event : ({ ...e, annotation } as E);
  }
  for (const [field, shape] of [
    ["part", partWithUrlCitations],
    ["item", itemWithUrlCitations],
    ["response", responseWithUrlCitations],
  ] as const) {
    if (e[field] === undefined) continue;
    const value = shape(e[field]);
    if (value !== e[field]) return { ...e, [field]: value } as E;
  }
  return event;
}

/** `list` mapped through `f`, or undefined when no element changed. */
function mapChanged<T>(list: readonly T[], f: (value: T) => T): T[] | undefined {
  let changed = false;
  const out = list.map((v) => {
    const w = f(v);
    if (w !== v) changed = true;
    return w;
  });
  return changed ? out : undefined;
}
