/**
 * @module responses/render
 * The Response object as the API returns it at a given moment: a background response is
 * `queued`, then `in_progress`, then terminal, decided lazily from its timeline when read.
 * Tool-call `outputs` are null unless `include` asks for `code_interpreter_call.outputs`.
 */
import type { StoredResponse } from "./store";

export type ResponseStatus = "queued" | "in_progress" | "completed" | "failed" | "cancelled";

/** The status of a stored response now. */
export function statusAt(r: StoredResponse, now = Date.now()): ResponseStatus {
  const terminal: ResponseStatus = r.error ? "failed" : "completed";
  if (!r.background) return terminal;
  if (r.cancelled) return "cancelled";
  if (now < r.starts_ms) return "queued";
  if (now < r.completes_ms) return "in_progress";
  return terminal;
}

/** An output item as `include` shows it. */
export function renderItem(item: Record<string, unknown>, include: readonly string[]): Record<string, unknown> {
  if (item.type !== "code_interpreter_call" || include.includes("code_interpreter_call.outputs"))
    return structuredClone(item);
  return { ...structuredClone(item), outputs: null };
}

/** The full Response object with the given status and output. */
export function responseObject(r: StoredResponse, status: ResponseStatus, output: Record<string, unknown>[]) {
  const b = r.body;
  const done = status === "completed" || status === "failed";
  const completedAt = Math.floor((r.background ? r.completes_ms : r.created_ms) / 1000);
  return {
    id: r.id,
    object: "response",
    created_at: r.created_at,
    status,
    background: r.background,
    completed_at: status === "completed" ? completedAt : null,
    error: status === "failed" ? r.error : null,
    incomplete_details: null,
    instructions: b.instructions ?? null,
    max_output_tokens: b.max_output_tokens ?? null,
    max_tool_calls: b.max_tool_calls ?? null,
    model: b.model,
    output,
    parallel_tool_calls: b.parallel_tool_calls ?? true,
    previous_response_id: b.previous_response_id ?? null,
    ...(r.conversation_id ? { conversation: { id: r.conversation_id } } : {}),
    prompt_cache_key: b.prompt_cache_key ?? null,
    reasoning: { effort: null, summary: null },
    safety_identifier: b.safety_identifier ?? null,
    service_tier: "default",
    store: b.store ?? true,
    temperature: b.temperature ?? 1,
    text: { format: { type: "text" }, verbosity: "medium" },
    tool_choice: b.tool_choice ?? "auto",
    tools: b.tools ?? [],
    top_logprobs: b.top_logprobs ?? 0,
    top_p: b.top_p ?? 1,
    truncation: b.truncation ?? "disabled",
    usage: done
      ? {
          input_tokens: r.usage.input_tokens,
          input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
          output_tokens: r.usage.output_tokens,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: r.usage.input_tokens + r.usage.output_tokens,
        }
      : null,
    user: null,
    metadata: b.metadata ?? {},
  };
}

/** The Response as `GET /v1/responses/{id}` (or a plain create) returns it now. */
export function renderResponse(r: StoredResponse, include: readonly string[], now = Date.now()) {
  const status = statusAt(r, now);
  const output = status === "completed" || status === "failed" ? r.output.map((i) => renderItem(i, include)) : [];
  return responseObject(r, status, output);
}
