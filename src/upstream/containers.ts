/**
 * @module upstream/containers
 * The few Containers API calls the tracker makes, with plain `fetch` so the copy engine sees the
 * real status, `Content-Length`, `Content-Range` and body stream. Responses are parsed with zod;
 * nothing an upstream sends is echoed to clients.
 */
import { z } from "zod";
import { setUpstreamAuth, upstreamUrl, type UpstreamTarget } from "./fetch";

/** Where the upstream is and how to authenticate (`targetOf(loadConfig(env))`), gateway options included. */
export type UpstreamAccess = UpstreamTarget;

/** A `container.file` as listed. `bytes` is null for model-written files (observed). */
export const ContainerFileSchema = z.object({
  id: z.string().min(1),
  created_at: z.number(),
  bytes: z.number().nullable().optional(),
  container_id: z.string().optional(),
  path: z.string(),
  source: z.string().optional(),
});
export type ContainerFile = z.infer<typeof ContainerFileSchema>;

const FileListSchema = z.object({
  data: z.array(ContainerFileSchema),
  has_more: z.boolean().optional(),
  last_id: z.string().nullable().optional(),
});

/** A container as retrieved; `status` is an open string (`running`, `expired`, …). */
export const ContainerSchema = z.object({
  id: z.string(),
  status: z.string().optional(),
  created_at: z.number().optional(),
  last_active_at: z.number().nullable().optional(),
  expires_after: z.object({ anchor: z.string().optional(), minutes: z.number().optional() }).nullable().optional(),
});
export type ContainerInfo = z.infer<typeof ContainerSchema>;

/**
 * What an upstream refusal means for the tracker. Each class has its own answer (README
 * "Limits" and docs/storage.md, "Failure classes"):
 * - `expired`: "Container is expired." (or the container id is unknown): the container is over.
 * - `file_gone`: "File … not found on container …" while the container runs: junk or missing.
 * - `no_api`: a 404 that names neither, i.e. the route itself does not exist (a gateway without
 *   the Containers API): nothing can ever be copied, so no retry loop.
 * - `retry`: 408/409/425/429/5xx and network failures: back off and try again.
 * - `refused`: any other status (401, 403, 400…): retried like `retry` (a key may be rotated),
 *   bounded by the container's expiry.
 */
export type FailureClass = "expired" | "file_gone" | "no_api" | "retry" | "refused";

/** Classifies an upstream answer by status and the `error.message` it carried. Pure. */
export function classifyFailure(status: number, message: string | null): FailureClass {
  const m = message ?? "";
  if (/container (is|has) expired/i.test(m)) return "expired";
  if (status === 404 || status === 410) {
    if (/not found on container/i.test(m)) return "file_gone";
    if (/container[^.]*not found|no such container/i.test(m)) return "expired";
    return "no_api";
  }
  if (status === 408 || status === 409 || status === 425 || status === 429 || status >= 500) return "retry";
  return "refused";
}

/** The `error.message` of an OpenAI-shaped error body (read at most 8 KiB), or null. */
export async function errorMessageOf(res: Response): Promise<string | null> {
  try {
    const reader = res.body?.getReader();
    if (!reader) return null;
    const chunks: Uint8Array[] = [];
    let n = 0;
    while (n < 8192) {
      const { value, done } = await reader.read();
      if (done) break;
      chunks.push(value);
      n += value.byteLength;
    }
    await reader.cancel().catch(() => {});
    const text = new TextDecoder().decode(concat(chunks).subarray(0, 8192));
    try {
      const body = JSON.parse(text) as { error?: { message?: unknown } };
      if (typeof body?.error?.message === "string") return body.error.message;
    } catch {}
    return text.trim().slice(0, 200) || null;
  } catch {
    return null;
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** A refusal from upstream, classified for the retry policy. */
export class UpstreamError extends Error {
  override readonly name = "UpstreamError";
  constructor(
    readonly status: number,
    message: string,
    /** From `Retry-After` / `retry-after-ms`, when upstream sent one. */
    readonly retryAfterMs: number | undefined,
    /** The class of the failure (see {@link classifyFailure}). */
    readonly failure: FailureClass = classifyFailure(status, null),
  ) {
    super(message);
  }
  /** The container is over (expired or unknown to upstream); retrying cannot help. */
  get gone(): boolean {
    return this.failure === "expired";
  }
}

/** Reads `retry-after-ms` or `Retry-After` (seconds or an HTTP date). */
export function retryAfterMs(headers: Headers, nowMs = Date.now()): number | undefined {
  const ms = Number(headers.get("retry-after-ms"));
  if (headers.has("retry-after-ms") && Number.isFinite(ms) && ms >= 0) return ms;
  const raw = headers.get("retry-after");
  if (!raw) return undefined;
  const secs = Number(raw);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const at = Date.parse(raw);
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : undefined;
}

function headers(up: UpstreamAccess, extra: Record<string, string> = {}): Headers {
  return setUpstreamAuth(new Headers(extra), up);
}

async function refuse(res: Response, what: string): Promise<never> {
  // The message decides the class (an expired container and a missing route are both 404s);
  // reading it also releases the connection (six open connections per invocation).
  const message = await errorMessageOf(res);
  throw new UpstreamError(
    res.status,
    `${what} answered ${res.status}`,
    retryAfterMs(res.headers),
    classifyFailure(res.status, message),
  );
}

const enc = encodeURIComponent;

/**
 * Every file of a container, all pages, oldest first.
 * @throws UpstreamError on a non-2xx answer.
 */
export async function listContainerFiles(up: UpstreamAccess, containerId: string): Promise<ContainerFile[]> {
  const all: ContainerFile[] = [];
  let after: string | null = null;
  // 100 per page is the API maximum; the bound stops a misbehaving upstream from looping forever.
  for (let page = 0; page < 100; page++) {
    const url = new URL(upstreamUrl(up, `/containers/${enc(containerId)}/files`));
    url.searchParams.set("limit", "100");
    url.searchParams.set("order", "asc");
    if (after) url.searchParams.set("after", after);
    const res = await fetch(url, { headers: headers(up) });
    if (!res.ok) await refuse(res, "container file listing");
    const body = FileListSchema.parse(await res.json());
    all.push(...body.data);
    const last = body.last_id ?? body.data.at(-1)?.id ?? null;
    if (!body.has_more || !last || last === after) break;
    after = last;
  }
  return all;
}

/**
 * One container file's metadata, or null when upstream says the file does not exist.
 * @throws UpstreamError for anything else (an expired container included).
 */
export async function retrieveContainerFile(
  up: UpstreamAccess,
  containerId: string,
  fileId: string,
): Promise<ContainerFile | null> {
  const res = await fetch(upstreamUrl(up, `/containers/${enc(containerId)}/files/${enc(fileId)}`), {
    headers: headers(up),
  });
  if (!res.ok) {
    const message = await errorMessageOf(res);
    const failure = classifyFailure(res.status, message);
    if (failure === "file_gone") return null;
    throw new UpstreamError(
      res.status,
      `container file retrieval answered ${res.status}`,
      retryAfterMs(res.headers),
      failure,
    );
  }
  return ContainerFileSchema.parse(await res.json());
}

/**
 * The container's status and activity, or null when upstream no longer knows it (expired and
 * purged, or deleted). A 404 on the route itself (no Containers API) throws `no_api`.
 */
export async function retrieveContainer(up: UpstreamAccess, containerId: string): Promise<ContainerInfo | null> {
  const res = await fetch(upstreamUrl(up, `/containers/${enc(containerId)}`), { headers: headers(up) });
  if (!res.ok) {
    const message = await errorMessageOf(res);
    const failure = classifyFailure(res.status, message);
    if (failure === "expired") return null;
    throw new UpstreamError(
      res.status,
      `container retrieval answered ${res.status}`,
      retryAfterMs(res.headers),
      failure,
    );
  }
  return ContainerSchema.parse(await res.json());
}

/**
 * Deletes a file upstream (`DELETE /containers/{id}/files/{file_id}`). Only called when a caller
 * asks for it explicitly (`?upstream=true` on the deletion routes).
 * @returns true when upstream deleted it, false when it was already gone.
 * @throws UpstreamError on any other refusal.
 */
export async function deleteContainerFileUpstream(
  up: UpstreamAccess,
  containerId: string,
  fileId: string,
): Promise<boolean> {
  const res = await fetch(upstreamUrl(up, `/containers/${enc(containerId)}/files/${enc(fileId)}`), {
    method: "DELETE",
    headers: headers(up),
  });
  if (res.ok) {
    await res.body?.cancel();
    return true;
  }
  const message = await errorMessageOf(res);
  const failure = classifyFailure(res.status, message);
  if (failure === "file_gone" || failure === "expired") return false;
  throw new UpstreamError(
    res.status,
    `container file deletion answered ${res.status}`,
    retryAfterMs(res.headers),
    failure,
  );
}

/**
 * Starts a content download. `Accept-Encoding: identity` asks for the bytes as stored (RFC 9110
 * §12.5.3), so that `Content-Length` is the real length: `fetch` decodes a gzip body on its own
 * (https://fetch.spec.whatwg.org/#handle-content-codings) and leaves the header describing the
 * compressed size, which the R2 copy would then trust. The caller checks the status; the body is
 * not consumed here.
 */
export function fetchFileContent(
  up: UpstreamAccess,
  containerId: string,
  fileId: string,
  rangeStart: number | null,
): Promise<Response> {
  const h = headers(up, { "accept-encoding": "identity", accept: "application/binary" });
  if (rangeStart !== null) h.set("range", `bytes=${rangeStart}-`);
  return fetch(upstreamUrl(up, `/containers/${enc(containerId)}/files/${enc(fileId)}/content`), { headers: h });
}
