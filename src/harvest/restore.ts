/**
 * @module harvest/restore
 * Stateless multi-turn: a client may send an earlier (rewritten) answer back as input. Upstream
 * must see exactly what it wrote, so every unsandbox URL issued to this tenant goes back to its
 * original sandbox destination, and the `url` unsandbox added to citations goes away (the real
 * API, like the simulator, refuses fields it does not know).
 */
import type { Bindings, Config } from "../config";
import { verifyLink } from "../links/token";
import { reversePart } from "../links/reverse";
import type { TextAnnotation } from "../links/annotations";
import { responseIndexFor } from "../tracker/stubs";

interface Part {
  type?: string;
  text?: string;
  annotations?: (TextAnnotation & { url?: unknown })[];
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Returns the body with its `input` items restored (the body itself when nothing changes). */
export async function restoreInput(env: Bindings, config: Config, tenant: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  if (!Array.isArray(body.input)) return body;
  const parts: Part[] = [];
  for (const item of body.input as { type?: string; content?: unknown }[]) {
    if (!item || typeof item !== "object" || !Array.isArray(item.content)) continue;
    for (const part of item.content as Part[]) if (part?.type === "output_text" && typeof part.text === "string") parts.push(part);
  }
  if (parts.length === 0) return body;

  // Every URL of ours in those texts, grouped by the response that issued it (named in its token).
  const pattern = new RegExp(`${escapeRegExp(config.PUBLIC_FILES_ORIGIN)}/files/([A-Za-z0-9_-]+)/[A-Za-z0-9._~%-]*`, "g");
  const byResponse = new Map<string, Set<string>>();
  const now = Date.now();
  for (const part of parts) {
    for (const m of part.text!.matchAll(pattern)) {
      const verified = await verifyLink(m[1]!, config.LINK_SECRETS, now);
      // Another tenant's link stays as it is: it restores nothing and reveals nothing.
      if (!verified.ok || verified.claims.tenant !== tenant) continue;
      const set = byResponse.get(verified.claims.responseId) ?? new Set<string>();
      set.add(m[0]);
      byResponse.set(verified.claims.responseId, set);
    }
  }
  const originals = new Map<string, string>();
  for (const [responseId, urls] of byResponse) {
    const found = await responseIndexFor(env, responseId).lookupOriginals([...urls]);
    for (const [url, original] of Object.entries(found)) originals.set(url, original);
  }

  const input = (body.input as unknown[]).map((raw) => {
    const item = raw as { content?: unknown };
    if (!item || typeof item !== "object" || !Array.isArray(item.content)) return raw;
    return {
      ...item,
      content: (item.content as Part[]).map((part) => {
        if (part?.type !== "output_text" || typeof part.text !== "string") return part;
        const restored = reversePart(part as Part & { text: string }, originals);
        // A citation's `url` is always ours (OpenAI's citation has none), even when its link was foreign.
        restored.annotations = restored.annotations?.map((a) => {
          if (a.type !== "container_file_citation" || !("url" in a)) return a;
          const { url: _ours, ...rest } = a;
          return rest;
        });
        return restored;
      }),
    };
  });
  return { ...body, input };
}
