/**
 * @module auth/widget-policy
 * What a widget turn (`POST /v1/responses` with a publishable key) may send. Pure. A widget key
 * is public, so whatever a page may send, anyone may send: this is an ALLOWLIST, and every other
 * field is refused with 400 `not_allowed_for_publishable_key` naming it, so a field the Responses
 * API adds tomorrow (https://platform.openai.com/docs/api-reference/responses/create) is refused
 * until someone decides it is safe. What is allowed, and why:
 *
 * - `input`: text only. A string, or message items (`role` user or assistant) whose content is a
 *   string or `input_text`/`output_text` parts. No files or images (by URL, id or inline data),
 *   no item references and no items of other types (tool calls, reasoning): a widget visitor
 *   types text, and everything else either fetches or reads something on the operator's account.
 *   At most {@link MAX_TEXT} characters of text in all.
 * - `model`: the key's `model`, else {@link DEFAULT_MODEL}; whatever the page sends is replaced
 *   (the widget always sends its `model` attribute, so refusing it would break real pages).
 * - `instructions`: the key's when it fixes them (the page's are replaced); else the page's,
 *   bounded like the key setting. A visitor can say as much in `input`, so they add no reach.
 * - `max_output_tokens`: at most the key's `max_output_tokens` (default
 *   {@link DEFAULT_MAX_OUTPUT_TOKENS}); forced to that cap when absent, lowered when above.
 * - `reasoning`: `effort` up to `medium` (higher efforts multiply the cost of a turn) and a
 *   `summary` mode.
 * - `tools`: only the code interpreter in auto mode, replaced by the key's forced tool (its memory
 *   limit, a fresh container each time); `tool_choice`: `auto`, `none` or `required`.
 * - `previous_response_id` (the guard checks the visitor owns it), `stream`,
 *   `stream_options.include_obfuscation`, `text` (plain text format and `verbosity`),
 *   `temperature`, `top_p` and `truncation`: they change the answer, not its reach or cost.
 * Refused by name among the rest: `background`, `conversation`, `prompt`, `service_tier`,
 * `store`, `metadata`, `include`, `max_tool_calls`.
 */
import { badRequest, type UnsandboxError } from "../errors";
import type { WidgetSettings } from "../tenants/schema";

/** The model of a widget turn when its key fixes none (the widget's own default). */
export const DEFAULT_MODEL = "gpt-5";
/** The output budget of a widget turn when its key sets none (reasoning and tool code count too). */
export const DEFAULT_MAX_OUTPUT_TOKENS = 32_768;
/** Characters of text a widget turn may send, input and instructions together. */
export const MAX_TEXT = 100_000;
const MAX_INSTRUCTIONS = 20_000;
const EFFORTS = ["none", "minimal", "low", "medium"];

type Json = Record<string, unknown>;

const refuse = (param: string, why: string): UnsandboxError =>
  badRequest(`'${param}' is not allowed with a publishable key: ${why}`, param, "not_allowed_for_publishable_key");

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** Refuses every key of `obj` outside `allowed`, naming it under `prefix`. */
function onlyKeys(obj: Json, allowed: readonly string[], prefix: string): void {
  for (const k of Object.keys(obj)) if (!allowed.includes(k)) throw refuse(`${prefix}${k}`, "widgets cannot set it.");
}

/** Checks `input` and returns how many characters of text it carries. */
function inputText(input: unknown): number {
  if (typeof input === "string") return input.length;
  if (!Array.isArray(input)) throw refuse("input", "widget input is text or a list of text messages.");
  let n = 0;
  input.forEach((item, i) => {
    const at = `input[${i}]`;
    if (!isObject(item) || (item.type !== undefined && item.type !== "message"))
      throw refuse(at, "widget input items are text messages.");
    onlyKeys(item, ["type", "role", "content"], `${at}.`);
    if (item.role !== "user" && item.role !== "assistant")
      throw refuse(`${at}.role`, "widget messages are from the user or the assistant.");
    if (typeof item.content === "string") {
      n += item.content.length;
      return;
    }
    if (!Array.isArray(item.content)) throw refuse(`${at}.content`, "message content is text.");
    item.content.forEach((part, j) => {
      const pat = `${at}.content[${j}]`;
      if (!isObject(part) || (part.type !== "input_text" && part.type !== "output_text"))
        throw refuse(pat, "widget messages carry text only.");
      onlyKeys(part, part.type === "output_text" ? ["type", "text", "annotations"] : ["type", "text"], `${pat}.`);
      if (typeof part.text !== "string") throw refuse(`${pat}.text`, "text parts carry a string.");
      if (part.annotations !== undefined && !(Array.isArray(part.annotations) && part.annotations.length === 0)) {
        throw refuse(`${pat}.annotations`, "widget messages carry no annotations.");
      }
      n += part.text.length;
    });
  });
  return n;
}

/** The checks of each allowed field; a field not listed here is refused. */
const FIELDS: Record<string, (value: unknown, widget: WidgetSettings) => void> = {
  input: () => undefined, // checked with the text budget below
  model: () => undefined, // replaced
  instructions: (v, w) => {
    if (w.instructions === undefined && (typeof v !== "string" || v.length > MAX_INSTRUCTIONS))
      throw refuse("instructions", `widget instructions are a string of at most ${MAX_INSTRUCTIONS} characters.`);
  },
  max_output_tokens: (v) => {
    if (!Number.isInteger(v) || (v as number) < 1)
      throw badRequest(
        "Invalid 'max_output_tokens': expected a positive integer.",
        "max_output_tokens",
        "invalid_value",
      );
  },
  reasoning: (v) => {
    if (!isObject(v)) throw refuse("reasoning", "expected an object.");
    onlyKeys(v, ["effort", "summary"], "reasoning.");
    if (v.effort !== undefined && v.effort !== null && !EFFORTS.includes(v.effort as string))
      throw refuse("reasoning.effort", `widgets may ask for ${EFFORTS.join(", ")}.`);
    if (v.summary !== undefined && v.summary !== null && !["auto", "concise", "detailed"].includes(v.summary as string))
      throw refuse("reasoning.summary", "expected auto, concise or detailed.");
  },
  tools: (v) => {
    if (!Array.isArray(v)) throw badRequest("Invalid type for 'tools': expected an array.", "tools", "invalid_type");
    v.forEach((tool, i) => {
      if (!isObject(tool) || tool.type !== "code_interpreter")
        throw refuse(`tools[${i}]`, "only the code_interpreter tool is available.");
      if (typeof tool.container === "string") throw refuse(`tools[${i}].container`, "widgets cannot name a container.");
      onlyKeys(tool, ["type", "container"], `tools[${i}].`);
      if (tool.container === undefined) return;
      if (!isObject(tool.container) || tool.container.type !== "auto")
        throw refuse(`tools[${i}].container`, "widgets use a fresh container.");
      const c = tool.container;
      if (Array.isArray(c.file_ids) && c.file_ids.length > 0)
        throw refuse(`tools[${i}].container.file_ids`, "widgets cannot attach files.");
      // memory_limit is replaced by the key's; an empty file list is harmless.
      onlyKeys(c, ["type", "memory_limit", "file_ids"], `tools[${i}].container.`);
    });
  },
  tool_choice: (v) => {
    if (v !== "auto" && v !== "none" && v !== "required")
      throw refuse("tool_choice", "widgets may send auto, none or required.");
  },
  previous_response_id: (v) => {
    if (typeof v !== "string")
      throw badRequest(
        "Invalid type for 'previous_response_id': expected a string.",
        "previous_response_id",
        "invalid_type",
      );
  },
  stream: (v) => {
    if (typeof v !== "boolean")
      throw badRequest("Invalid type for 'stream': expected a boolean.", "stream", "invalid_type");
  },
  stream_options: (v) => {
    if (!isObject(v)) throw refuse("stream_options", "expected an object.");
    onlyKeys(v, ["include_obfuscation"], "stream_options.");
  },
  text: (v) => {
    if (!isObject(v)) throw refuse("text", "expected an object.");
    onlyKeys(v, ["format", "verbosity"], "text.");
    if (
      v.format !== undefined &&
      !(isObject(v.format) && v.format.type === "text" && Object.keys(v.format).length === 1)
    )
      throw refuse("text.format", "widgets answer in plain text.");
  },
  temperature: () => undefined,
  top_p: () => undefined,
  truncation: () => undefined,
};

/**
 * Returns the body to forward for a publishable key: only allowed fields, with the key's forced
 * settings. Fields sent as `null` count as absent.
 * @throws UnsandboxError 400 `not_allowed_for_publishable_key` naming the offending param.
 */
export function applyWidgetPolicy(body: Record<string, unknown>, widget: WidgetSettings): Record<string, unknown> {
  for (const [field, value] of Object.entries(body)) {
    if (value === null) continue;
    const check = FIELDS[field];
    if (!check)
      throw refuse(
        field,
        field === "background" ? "widget responses run in the foreground." : "widgets cannot set it.",
      );
    check(value, widget);
  }
  const out: Record<string, unknown> = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== null));
  const text =
    inputText(body.input ?? "") +
    (widget.instructions === undefined && typeof body.instructions === "string" ? body.instructions.length : 0);
  if (text > MAX_TEXT) throw refuse("input", `a widget turn carries at most ${MAX_TEXT} characters of text.`);
  out.tools = [{ type: "code_interpreter", container: { type: "auto", memory_limit: widget.memory_limit } }];
  out.tool_choice = typeof body.tool_choice === "string" ? body.tool_choice : "auto";
  out.model = widget.model ?? DEFAULT_MODEL;
  if (widget.instructions !== undefined) out.instructions = widget.instructions;
  const cap = widget.max_output_tokens ?? DEFAULT_MAX_OUTPUT_TOKENS;
  out.max_output_tokens = typeof body.max_output_tokens === "number" ? Math.min(body.max_output_tokens, cap) : cap;
  return out;
}
