/**
 * @module tracker/stubs
 * Stubs for the two Durable Objects. The namespaces are typed by the generated `Env`
 * (worker-configuration.d.ts, `wrangler types`), so callers get the RPC signatures checked
 * without casts.
 */

/** The tracker of one container (`CONTAINER_TRACKER.getByName(containerId)`). */
export function trackerFor(env: Pick<Env, "CONTAINER_TRACKER">, containerId: string) {
  return env.CONTAINER_TRACKER.getByName(containerId);
}

/** The index of one response (`RESPONSE_INDEX.getByName(responseId)`). */
export function responseIndexFor(env: Pick<Env, "RESPONSE_INDEX">, responseId: string) {
  return env.RESPONSE_INDEX.getByName(responseId);
}
