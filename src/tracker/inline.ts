/**
 * @module tracker/inline
 * Figures that arrive inline in a tool output (`data:image/png;base64,…`) rather than as container
 * files: content-addressed (`inline_<sha256>`), written to R2 once, cited as `figure` and `stored`
 * at once. Each R2 key is written once: the same figure again (twice in one response, or in a later
 * response of the container) is cited from the object already stored, and calls that overlap
 * share one write, since R2 allows one write per second to a key
 * (https://developers.cloudflare.com/r2/platform/limits/).
 */
import { inlineObjectKey } from "../storage/keys";
import type { TrackerContext } from "./context";
import type { StoreInlineInput } from "./types";

export class InlineFigures {
  /** Inline figures being written to R2 right now, by file id (overlapping calls share the write). */
  readonly #writes = new Map<string, Promise<void>>();

  constructor(private readonly ctx: TrackerContext) {}

  /** Stores (or finds) the figure and cites it for its response; returns its file id. */
  async store(p: StoreInlineInput, containerId: string): Promise<string> {
    const { store, waiters } = this.ctx;
    const sha256 = [...new Uint8Array(await crypto.subtle.digest("SHA-256", p.bytes))]
      .map((b) => b.toString(16).padStart(2, "0"))
      .join("");
    const fileId = `inline_${sha256.slice(0, 32)}`;
    const path = p.path ?? `/mnt/data/${p.filename}`;
    if (!store.file(fileId, 1)) {
      let write = this.#writes.get(fileId);
      if (!write) {
        write = this.#write(p, containerId, fileId, sha256, path).finally(() => this.#writes.delete(fileId));
        this.#writes.set(fileId, write);
      }
      await write;
    }
    store.cite(p.tenant, p.responseId, fileId, 1, path, "figure", this.ctx.now());
    waiters.notify();
    return fileId;
  }

  /** The one R2 write of an inline figure, and its row. */
  async #write(p: StoreInlineInput, containerId: string, fileId: string, sha256: string, path: string): Promise<void> {
    const key = inlineObjectKey({ tenant: p.tenant, responseId: p.responseId, sha256 });
    const obj = await this.ctx.env.FILES.put(key, p.bytes, {
      httpMetadata: { contentType: p.contentType },
      customMetadata: {
        tenant: p.tenant,
        container: containerId,
        file: fileId,
        version: "1",
        sha256,
        response: p.responseId,
      },
    });
    const now = this.ctx.now();
    const limits = await this.ctx.tenant.load(p.tenant).then(
      (t) => t.limits,
      () => this.ctx.tenant.cached(p.tenant),
    );
    this.ctx.store.insertInlineFile({
      fileId,
      tenant: p.tenant,
      containerId,
      path,
      filename: p.filename,
      bytes: p.bytes.byteLength,
      contentType: p.contentType,
      sha256,
      etag: obj?.httpEtag ?? null,
      r2Key: key,
      responseId: p.responseId,
      retainUntil: now + limits.retentionMs,
      now,
    });
  }
}
