/**
 * @module test/node/support/deviations
 * Where real traffic differs from the OpenAI spec, real traffic wins: the simulator copies it, and
 * these patches undo exactly one observed difference each before a body is validated, so the
 * rest of the body is still held to the spec. Each names where the difference was seen.
 */

type Json = Record<string, any>;

/**
 * `user: null` and `usage: null` on a Response. The spec types `user` as a string and `usage` as
 * an object, but real streams carry `"usage":null,"user":null` in `response.created` and
 * `response.in_progress`, and `"user":null` on finished responses: recorded in the gpt-5-nano
 * capture the facts file cites as CAP-V (vercel/ai
 * packages/openai/src/responses/__fixtures__/openai-code-interpreter-tool.1.chunks.txt).
 * Only a `null` is removed; any other wrong value still fails.
 */
export function observedResponse(response: unknown): Json {
  const out = { ...(response as Json) };
  for (const key of ["user", "usage"] as const) if (out[key] === null) delete out[key];
  return out;
}

/** The same patch on an event that carries a Response (`response.created`, `.completed`, …). */
export function observedEvent(event: Json): Json {
  return event.response && typeof event.response === "object"
    ? { ...event, response: observedResponse(event.response) }
    : event;
}

/**
 * `bytes: null` on a container.file the model generated: the spec says integer, real traffic
 * sends null (shared/reference/openai-code-interpreter-files.md §4, "container.file object",
 * OBSERVED in CAP-P1 and CAP-P2). Replaced by 0 so the rest of the object is still checked.
 */
export function observedContainerFile(file: Json): Json {
  return file.bytes === null ? { ...file, bytes: 0 } : file;
}
