/**
 * @module routes/deletion
 * Deleting unsandbox's copies of generated files, in OpenAI's shapes:
 *
 * - `DELETE /v1/responses/{id}/files`: every file the response cited or its sweep found;
 * - `DELETE /v1/containers/{id}/files/{file_id}`: one container file (all its versions).
 *
 * The copies go from R2 and each row stays as a `deleted` tombstone, so the response's links
 * answer 410 afterwards instead of an unknown 404. The files in the container itself are left
 * alone unless the caller asks explicitly with `?upstream=true` (deleting upstream is a different
 * act with a different owner: OpenAI's container). Auth and the ownership guard run before these
 * routes (src/auth/): another tenant's response or container is a 404, as is an unknown one.
 */
import { Hono, type Context } from "hono";
import type { AppEnv } from "../app";
import { badRequest, notFound, UnsandboxError } from "../errors";
import { deleteContainerFileUpstream } from "../upstream/containers";
import { upstreamKeyFor } from "../tenants/store";
import { responseIndexFor, trackerFor } from "../tracker/stubs";
import { existsUnindexed } from "../harvest/unindexed";
import type { DeletedFile, DeleteFilesResult } from "../tracker/types";
import { deleteAfterEnd } from "../tracker/outlive";
import { targetOf } from "../upstream/fetch";

export const deletion = new Hono<AppEnv>();

const RESPONSE_ID = /^resp_[A-Za-z0-9_-]{1,200}$/;
const CONTAINER_ID = /^cntr_[A-Za-z0-9_-]{1,128}$/;
const FILE_ID = /^cfile_[A-Za-z0-9_-]{1,128}$/;

/** `?upstream=true|false` (absent = false); anything else is a 400 rather than a guess. */
function wantsUpstream(c: Context<AppEnv>): boolean {
  const raw = c.req.query("upstream");
  if (raw === undefined || raw === "false" || raw === "0") return false;
  if (raw === "true" || raw === "1") return true;
  throw badRequest("upstream must be true or false", "upstream", "invalid_value");
}

/** Deletes one file upstream; `null` when not asked, else whether upstream deleted it. Never echoes upstream's body. */
async function upstreamDelete(c: Context<AppEnv>, containerId: string, fileId: string): Promise<boolean | null> {
  if (fileId.startsWith("inline_")) return null; // a figure from a tool output: no upstream file
  const config = c.get("config");
  const key = await upstreamKeyFor(c.env, config, c.get("tenant"));
  try {
    return await deleteContainerFileUpstream(targetOf({ ...config, OPENAI_API_KEY: key }), containerId, fileId);
  } catch (err) {
    throw new UnsandboxError(
      502,
      `unsandbox deleted its copy, but upstream refused to delete ${fileId} (HTTP ${(err as { status?: number }).status ?? "error"})`,
      {
        code: "upstream_delete_failed",
      },
    );
  }
}

/** A tracker refuses another tenant's container with a tagged result; for the caller that is an unknown id. */
async function ownDeletion(
  fn: () => Promise<DeleteFilesResult>,
  onForeign: () => UnsandboxError,
): Promise<DeletedFile[]> {
  const result = await fn();
  if (result.kind === "refused") throw onForeign();
  return result.files;
}

deletion.delete("/v1/responses/:id/files", async (c) => {
  const id = c.req.param("id");
  const missing = () => notFound(`No response found with id '${id.slice(0, 100)}'.`, "response_not_found");
  if (!RESPONSE_ID.test(id)) throw missing();
  const upstream = wantsUpstream(c);
  const tenant = c.get("tenant");
  const info = await responseIndexFor(c.env, id).info(tenant);
  if (!info && !(await existsUnindexed(c, id))) throw missing();
  // Once the response's objects emptied themselves, its manifests and pins in R2 are what is deleted.
  const deleted = info?.ended
    ? await deleteAfterEnd(c.env.FILES, { v: 1, id, tenant, links: [], ...info }, Date.now())
    : (
        await Promise.all(
          (info?.containerIds ?? []).map((cid) =>
            ownDeletion(() => trackerFor(c.env, cid).deleteFiles({ tenant, responseId: id }), missing),
          ),
        )
      ).flat();
  const data = [];
  for (const f of deleted) {
    data.push({
      id: f.file_id,
      object: "container.file.deleted",
      deleted: true,
      container_id: f.container_id,
      path: f.path,
      version: f.version,
      upstream_deleted: upstream ? await upstreamDelete(c, f.container_id, f.file_id) : null,
    });
  }
  return c.json({
    object: "list",
    response_id: id,
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: false,
  });
});

deletion.delete("/v1/containers/:container/files/:file", async (c) => {
  const containerId = c.req.param("container");
  const fileId = c.req.param("file");
  const missing = () =>
    notFound(
      `No file found with id '${fileId.slice(0, 100)}' in container '${containerId.slice(0, 100)}'.`,
      "file_not_found",
    );
  if (!CONTAINER_ID.test(containerId) || !FILE_ID.test(fileId)) throw missing();
  const upstream = wantsUpstream(c);
  const tenant = c.get("tenant");
  const deleted = await ownDeletion(() => trackerFor(c.env, containerId).deleteFiles({ tenant, fileId }), missing);
  // Nothing of ours to delete: with ?upstream=true the upstream file still goes (explicitly asked).
  if (deleted.length === 0 && !upstream) throw missing();
  const upstreamDeleted = upstream ? await upstreamDelete(c, containerId, fileId) : null;
  if (deleted.length === 0 && upstreamDeleted === false) throw missing();
  return c.json({
    id: fileId,
    object: "container.file.deleted",
    deleted: true,
    versions: deleted.map((f) => f.version),
    upstream_deleted: upstreamDeleted,
  });
});
