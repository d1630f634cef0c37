/**
 * @module storage/upstream
 * The few Containers API calls the tracker makes, with plain `fetch` so the copy engine sees the
 * real status, `Content-Length`, `Content-Range` and body stream. Responses are parsed with zod;
 * nothing an upstream sends is echoed to clients.
 */
import { z } from "zod";
import { setUpstreamAuth, upstreamUrl, type UpstreamTarget } from "../upstream/fetch";

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

/** A refusal from upstream, classified for the retry policy. */
export class UpstreamError extends Error {
  override readonly name = "UpstreamError";
  constructor(
    readonly status: number,
    message: string,
    /** From `Retry-After` / `retry-after-ms`, when upstream sent one. */
    readonly retryAfterMs: number | undefined,
  ) {
    super(message);
  }
  /** 404/410: the container expired or the file is gone; retrying cannot help. */
  get gone(): boolean {
    return this.status === 404 || this.status === 410;
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
  // Drain the body so the connection is released (six open connections per invocation).
  await res.body?.cancel();
  throw new UpstreamError(res.status, `${what} answered ${res.status}`, retryAfterMs(res.headers));
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

/** One container file's metadata, or null when upstream says it does not exist. */
export async function retrieveContainerFile(up: UpstreamAccess, containerId: string, fileId: string): Promise<ContainerFile | null> {
  const res = await fetch(upstreamUrl(up, `/containers/${enc(containerId)}/files/${enc(fileId)}`), { headers: headers(up) });
  if (res.status === 404) {
    await res.body?.cancel();
    return null;
  }
  if (!res.ok) await refuse(res, "container file retrieval");
  return ContainerFileSchema.parse(await res.json());
}

/** The container's status and activity, or null when upstream no longer knows it. */
export async function retrieveContainer(up: UpstreamAccess, containerId: string): Promise<ContainerInfo | null> {
  const res = await fetch(upstreamUrl(up, `/containers/${enc(containerId)}`), { headers: headers(up) });
  if (res.status === 404) {
    await res.body?.cancel();
    return null;
  }
  if (!res.ok) await refuse(res, "container retrieval");
  return ContainerSchema.parse(await res.json());
}

/**
 * Starts a content download. `Accept-Encoding: identity` asks for the bytes as stored, so that
 * `Content-Length` is the real length: `fetch` transparently decodes gzip, after which the header
 * would describe the compressed size (cloudflare-platform reference, fact 1). The caller checks the
 * status; the body is not consumed here.
 */
export function fetchFileContent(up: UpstreamAccess, containerId: string, fileId: string, rangeStart: number | null): Promise<Response> {
  const h = headers(up, { "accept-encoding": "identity", accept: "application/binary" });
  if (rangeStart !== null) h.set("range", `bytes=${rangeStart}-`);
  return fetch(upstreamUrl(up, `/containers/${enc(containerId)}/files/${enc(fileId)}/content`), { headers: h });
}
