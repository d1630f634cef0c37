// @ts-check
/**
 * Bench-only Worker, the copy floor (issue 20): the anchor's bare pass-through (bench/anchor) plus
 * the least work that keeps a turn's files, and nothing else. The answer passes through unchanged
 * and is not held back; while it passes, its text is scanned for container ids; after its last
 * byte (in `waitUntil`), each container is listed once and every file in it is read and put into
 * R2 whole (known length, one `put`). No link rewriting, no index, no tracker, no retries, no
 * sweeps, no manifest, no metering: whatever unsandbox does for a two-file turn, it does at least
 * this, so this Worker's time under load, over the anchor's, bounds from below what unsandbox can
 * reach on the same machine. `GET /stats` tells how many files and bytes it stored.
 */

let filesStored = 0;
let bytesStored = 0;

/**
 * @param {{ UPSTREAM_BASE_URL: string, UPSTREAM_API_KEY: string, BUCKET: R2Bucket }} env
 * @param {string} containerId
 */
async function copyContainer(env, containerId) {
  const auth = { authorization: `Bearer ${env.UPSTREAM_API_KEY}` };
  const list = await fetch(`${env.UPSTREAM_BASE_URL}/containers/${containerId}/files?limit=100`, { headers: auth });
  if (!list.ok) return;
  const { data } = /** @type {{ data: { id: string }[] }} */ (await list.json());
  await Promise.all(
    data.map(async (f) => {
      const res = await fetch(`${env.UPSTREAM_BASE_URL}/containers/${containerId}/files/${f.id}/content`, {
        headers: auth,
      });
      if (!res.ok) return;
      const bytes = await res.arrayBuffer();
      await env.BUCKET.put(`${containerId}/${f.id}`, bytes);
      filesStored++;
      bytesStored += bytes.byteLength;
    }),
  );
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
    const headers = new Headers(request.headers);
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
        ctx.waitUntil(Promise.all([...containers].map((id) => copyContainer(env, id).catch(() => {}))));
      },
    });
    return new Response(upstream.body.pipeThrough(scan), upstream);
  },
};
