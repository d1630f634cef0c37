// @ts-check
/**
 * Bench-only Worker, the copy floor (issue 20): the anchor's bare pass-through (bench/anchor) plus
 * the least work that keeps a turn's files, and nothing else. The answer passes through unchanged
 * and is not held back; while it passes, its text is scanned for container ids; after its last
 * byte (in `waitUntil`), each container is listed three times over 3 s and every file not copied
 * yet is read and put into R2 whole (known length, one `put`). No link rewriting, no index, no
 * tracker, no state beyond the request, no retries, no manifest, no metering: whatever unsandbox does for a two-file turn, it does at least
 * this, so this Worker's time under load, over the anchor's, bounds from below what unsandbox can
 * reach on the same machine. With `x-bench-copy: 0` it reads the stream and copies nothing: what
 * passing an answer through JavaScript costs alone. `GET /stats` tells how many files and bytes
 * it stored.
 */

let filesStored = 0;
let bytesStored = 0;
/** Files copied (or being copied) by this isolate: a later turn's listing shows the earlier turns' files too. */
/** @type {Set<string>} */
const copied = new Set();

/** Paths that are not outputs: hidden files, caches, checkpoints, temporary and lock files. */
const JUNK =
  /(^|\/)(\.|~\$)|~$|\.(tmp|temp|pyc|lock|swp|part|crdownload)$|(^|\/)(__pycache__|\.ipynb_checkpoints)(\/|$)/i;

/** When the container is listed, ms after the answer's end: listings are late (upstream lists a new file some time after writing it), so one listing at the end misses files; unsandbox's trackers sweep about as often per turn. */
const LISTINGS_AT_MS = [0, 1000, 3000];

/**
 * Lists the container at LISTINGS_AT_MS and copies each file not copied yet: read whole, one put.
 * @param {{ UPSTREAM_BASE_URL: string, UPSTREAM_API_KEY: string, BUCKET: R2Bucket }} env
 * @param {string} containerId
 */
async function copyContainer(env, containerId) {
  const auth = { authorization: `Bearer ${env.UPSTREAM_API_KEY}` };
  let waited = 0;
  for (const at of LISTINGS_AT_MS) {
    await new Promise((r) => setTimeout(r, at - waited));
    waited = at;
    const list = await fetch(`${env.UPSTREAM_BASE_URL}/containers/${containerId}/files?limit=100`, { headers: auth });
    if (!list.ok) continue;
    const { data } = /** @type {{ data: { id: string, path: string }[] }} */ (await list.json());
    await Promise.all(
      data
        // What upstream lists beside the outputs (checkpoints, caches, temporary files) is not copied.
        .filter((f) => !copied.has(f.id) && !JUNK.test(f.path))
        .map(async (f) => {
          copied.add(f.id);
          const res = await fetch(`${env.UPSTREAM_BASE_URL}/containers/${containerId}/files/${f.id}/content`, {
            headers: auth,
          });
          if (!res.ok) return copied.delete(f.id);
          const bytes = await res.arrayBuffer();
          await env.BUCKET.put(`${containerId}/${f.id}`, bytes);
          filesStored++;
          bytesStored += bytes.byteLength;
        }),
    );
  }
}

export default {
  /**
   * @param {Request} request
   * @param {{ UPSTREAM_BASE_URL: string, UPSTREAM_API_KEY: string, BUCKET: R2Bucket }} env
   * @param {ExecutionContext} ctx
   */
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (request.method === "GET" && url.pathname === "/stats")
      return Response.json({ files_stored: filesStored, bytes_stored: bytesStored });
    if (request.method !== "POST" || url.pathname !== "/v1/responses")
      return new Response("not found", { status: 404 });
    // `x-bench-copy: 0`: read the stream, copy nothing (what reading it in JavaScript costs alone).
    const copy = request.headers.get("x-bench-copy") !== "0";
    const headers = new Headers(request.headers);
    headers.delete("x-bench-copy");
    headers.set("authorization", `Bearer ${env.UPSTREAM_API_KEY}`);
    const upstream = await fetch(`${env.UPSTREAM_BASE_URL}/responses`, { method: "POST", headers, body: request.body });
    if (!upstream.body) return upstream;
    /** @type {Set<string>} */
    const containers = new Set();
    const decoder = new TextDecoder();
    let tail = "";
    const scan = new TransformStream({
      transform(chunk, controller) {
        controller.enqueue(chunk);
        // The id may straddle two chunks: scan the end of the last one with this one.
        const text = tail + decoder.decode(chunk, { stream: true });
        for (const m of text.matchAll(/"container_id":\s*"(cntr_[A-Za-z0-9_-]+)"/g)) containers.add(m[1]);
        tail = text.slice(-64);
      },
      flush() {
        if (copy) ctx.waitUntil(Promise.all([...containers].map((id) => copyContainer(env, id).catch(() => {}))));
      },
    });
    return new Response(upstream.body.pipeThrough(scan), upstream);
  },
};
