/**
 * @module schemas/output-item
 * The container an output item ran in. Two hosted tools write files into an OpenAI container, and
 * they name it in different places (OpenAI API reference, "The response object": output items):
 * - `code_interpreter_call.container_id`;
 * - `shell_call.environment` (`{"type": "container_reference", "container_id": …}`: the hosted
 *   shell tool, https://platform.openai.com/docs/guides/tools-shell); a `local` environment is
 *   the app's own machine and names no container.
 * Pure; everything that follows containers from an answer (discovery, the stream session, owner
 * records) asks here, so a third producer is added in one place.
 */

/** The container id an output item names, or undefined. */
export function containerOfItem(item: unknown): string | undefined {
  if (typeof item !== "object" || item === null) return undefined;
  const { container_id, environment } = item as { container_id?: unknown; environment?: unknown };
  if (typeof container_id === "string" && container_id) return container_id;
  if (typeof environment !== "object" || environment === null) return undefined;
  const env = environment as { type?: unknown; container_id?: unknown };
  return env.type === "container_reference" && typeof env.container_id === "string" && env.container_id
    ? env.container_id
    : undefined;
}
