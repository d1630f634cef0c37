// @ts-check
/**
 * Bench-only Worker, the anchor (issue 20): a bare pass-through. `POST /v1/responses` goes to the
 * same upstream unsandbox uses, with the upstream key in place of the caller's, and upstream's
 * answer (JSON or an event stream) comes back as it arrives; everything else is 404. Nothing
 * more: no parsing, no state. Run under `wrangler dev` with the same flags as unsandbox, it is what
 * local workerd and its proxy cost a Worker that forwards a request, the floor unsandbox's own
 * cost is measured from.
 */

export default {
  /**
   * @param {Request} request
   * @param {{ UPSTREAM_BASE_URL: string, UPSTREAM_API_KEY: string }} env
   */
  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.method !== "POST" || url.pathname !== "/v1/responses")
      return new Response("not found", { status: 404 });
    const headers = new Headers(request.headers);
    headers.set("authorization", `Bearer ${env.UPSTREAM_API_KEY}`);
    return fetch(`${env.UPSTREAM_BASE_URL}/responses`, { method: "POST", headers, body: request.body });
  },
};
