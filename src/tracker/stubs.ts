/**
 * @module tracker/stubs
 * Typed stubs for the two Durable Objects, so callers get the RPC signatures checked.
 * The bindings are declared untyped in src/config.ts (they live in wrangler.toml).
 */
import type { ContainerTracker } from "./container-tracker";
import type { ResponseIndex } from "./response-index";

/** The tracker of one container (`CONTAINER_TRACKER.getByName(containerId)`). */
export function trackerFor(env: { CONTAINER_TRACKER: DurableObjectNamespace }, containerId: string): DurableObjectStub<ContainerTracker> {
  return (env.CONTAINER_TRACKER as DurableObjectNamespace<ContainerTracker>).getByName(containerId);
}

/** The index of one response (`RESPONSE_INDEX.getByName(responseId)`). */
export function responseIndexFor(env: { RESPONSE_INDEX: DurableObjectNamespace }, responseId: string): DurableObjectStub<ResponseIndex> {
  return (env.RESPONSE_INDEX as DurableObjectNamespace<ResponseIndex>).getByName(responseId);
}
