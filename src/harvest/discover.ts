/**
 * @module harvest/discover
 * Pure discovery: everything a Response says about files. Every source counts, because each one
 * is sometimes missing in real traffic: citations (`container_file_citation`), any output item
 * that names a container (`code_interpreter_call.container_id`, `shell_call.environment`:
 * schemas/output-item.ts), sandbox links in the text (found by the link engine, outside
 * code), and `data:` images in tool outputs. The container listing, the last source, is the
 * tracker's job because it needs I/O.
 */
import { findSandboxRefs, type SandboxRef } from "../links/find";
import { containerOfItem } from "../schemas/output-item";

export interface CitedFile {
  containerId: string;
  fileId: string;
  filename?: string;
  /** A zero-span citation: a figure shown to the user rather than a link in the text. */
  figure: boolean;
}

export interface LinkedPath {
  /** Canonical container path (`/mnt/data/<name>`). */
  path: string;
  /** The destination exactly as the model wrote it. */
  original: string;
}

export interface InlineImage {
  containerId: string;
  callId: string;
  outputIndex: number;
  dataUrl: string;
}

export interface Discovery {
  /** Container ids in order of first appearance. */
  containerIds: string[];
  citations: CitedFile[];
  links: LinkedPath[];
  /** The same links as the link engine found them (for naming). */
  refs: SandboxRef[];
  images: InlineImage[];
}

interface Annotation {
  type?: string;
  container_id?: string;
  file_id?: string;
  filename?: string;
  start_index?: number;
  end_index?: number;
}

interface OutputItem {
  type?: string;
  id?: string;
  container_id?: string | null;
  outputs?: { type?: string; url?: string }[] | null;
  content?: { type?: string; text?: string; annotations?: Annotation[] }[];
}

export function discover(response: { output?: unknown[] | null }): Discovery {
  const containerIds: string[] = [];
  const citations: CitedFile[] = [];
  const links: LinkedPath[] = [];
  const refs: SandboxRef[] = [];
  const images: InlineImage[] = [];
  const seeContainer = (id: string) => {
    if (!containerIds.includes(id)) containerIds.push(id);
  };

  for (const raw of response.output ?? []) {
    const item = raw as OutputItem;
    const containerId = containerOfItem(item);
    if (containerId) {
      seeContainer(containerId);
      (item.outputs ?? []).forEach((out, outputIndex) => {
        if (out?.type === "image" && typeof out.url === "string" && out.url.startsWith("data:image/")) {
          images.push({ containerId, callId: item.id ?? "", outputIndex, dataUrl: out.url });
        }
      });
    }
    if (item.type !== "message") continue;
    for (const part of item.content ?? []) {
      if (part.type !== "output_text" || typeof part.text !== "string") continue;
      for (const a of part.annotations ?? []) {
        if (a.type !== "container_file_citation" || !a.container_id || !a.file_id) continue;
        seeContainer(a.container_id);
        citations.push({
          containerId: a.container_id,
          fileId: a.file_id,
          filename: a.filename,
          figure: a.start_index === a.end_index,
        });
      }
      for (const ref of findSandboxRefs(part.text)) {
        refs.push(ref);
        links.push({ path: ref.containerPath, original: ref.raw });
      }
    }
  }
  return { containerIds, citations, links, refs, images };
}

/** Decodes a `data:image/…;base64,…` URL into its type and bytes, or null when it is not one. */
export function decodeDataUrl(url: string): { contentType: string; bytes: Uint8Array } | null {
  const m = /^data:(image\/[a-z0-9.+-]+);base64,/i.exec(url);
  if (!m) return null;
  try {
    return { contentType: m[1]!.toLowerCase(), bytes: Uint8Array.fromBase64(url.slice(m[0].length)) };
  } catch {
    return null;
  }
}
