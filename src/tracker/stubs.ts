/**
 * @module tracker/stubs
 * Stubs for the two Durable Objects. The namespaces are typed by the generated `Env`
 * (worker-configuration.d.ts, `wrangler types`), so callers get the RPC signatures checked
 * without casts.
 *
 * A tracker is placed where `TRACKER_LOCATION_HINT` says (src/config.ts): it lists the container
 * and streams its files from upstream into R2, so near both is where its round trips are short.
 * A hint only applies when the object is first made; later calls reach it where it lives
 * (https://developers.cloudflare.com/durable-objects/reference/data-location/).
 */
import { loadConfig } from "../config";

/** The tracker of one container (`CONTAINER_TRACKER.getByName(containerId, { locationHint })`). */
export function trackerFor(
  env: Pick<Env, "CONTAINER_TRACKER"> & { TRACKER_LOCATION_HINT?: unknown },
  containerId: string,
) {
  const hint = trackerLocationHint(env);
  return hint
    ? env.CONTAINER_TRACKER.getByName(containerId, { locationHint: hint })
    : env.CONTAINER_TRACKER.getByName(containerId);
}

/** The configured hint, checked by the configuration's schema (a bad value is a configuration error). */
export function trackerLocationHint(env: { TRACKER_LOCATION_HINT?: unknown }): DurableObjectLocationHint | undefined {
  if (env.TRACKER_LOCATION_HINT === undefined || env.TRACKER_LOCATION_HINT === "") return undefined;
  return loadConfig(env).TRACKER_LOCATION_HINT;
}

/** The index of one response (`RESPONSE_INDEX.getByName(responseId)`). */
export function responseIndexFor(env: Pick<Env, "RESPONSE_INDEX">, responseId: string) {
  return env.RESPONSE_INDEX.getByName(responseId);
}
