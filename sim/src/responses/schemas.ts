/**
 * @module responses/schemas
 * Strict zod schemas for `POST /v1/responses`: every parameter of the spec's `CreateResponse` is
 * known (most loosely typed), anything else is "Unknown parameter". Input items the simulator
 * understands (messages with text parts, `code_interpreter_call` items, item references) are
 * checked field by field, so an unknown nested key is refused too.
 */
import { z } from "zod";

/** The spec's `IncludeEnum`. */
export const INCLUDE_VALUES = [
  "code_interpreter_call.outputs",
  "computer_call_output.output.image_url",
  "file_search_call.results",
  "message.input_image.image_url",
  "message.output_text.logprobs",
  "reasoning.encrypted_content",
  "web_search_call.action.sources",
  "web_search_call.results",
] as const;

const Annotation = z.looseObject({ type: z.string() });

const InputText = z.strictObject({ type: z.literal("input_text"), text: z.string() });
const OutputText = z.strictObject({
  type: z.literal("output_text"),
  text: z.string(),
  annotations: z.array(Annotation).optional(),
  logprobs: z.array(z.unknown()).optional(),
});
const InputImage = z.strictObject({
  type: z.literal("input_image"),
  image_url: z.string().nullish(),
  file_id: z.string().nullish(),
  detail: z.enum(["low", "high", "auto", "original"]).optional(),
});
const InputFile = z.strictObject({
  type: z.literal("input_file"),
  file_id: z.string().nullish(),
  file_data: z.string().optional(),
  file_url: z.string().optional(),
  filename: z.string().optional(),
});
const Refusal = z.strictObject({ type: z.literal("refusal"), refusal: z.string() });
const ContentPart = z.discriminatedUnion("type", [InputText, OutputText, InputImage, InputFile, Refusal]);

const MessageItem = z.strictObject({
  type: z.literal("message").optional(),
  id: z.string().optional(),
  role: z.enum(["user", "assistant", "system", "developer"]),
  content: z.union([z.string(), z.array(ContentPart)]),
  status: z.enum(["in_progress", "completed", "incomplete"]).optional(),
  phase: z.enum(["commentary", "final_answer"]).nullish(),
});

const CodeInterpreterCallItem = z.strictObject({
  type: z.literal("code_interpreter_call"),
  id: z.string(),
  status: z.enum(["in_progress", "completed", "incomplete", "interpreting", "failed"]),
  container_id: z.string(),
  code: z.string().nullable(),
  outputs: z
    .array(
      z.discriminatedUnion("type", [
        z.strictObject({ type: z.literal("logs"), logs: z.string() }),
        z.strictObject({ type: z.literal("image"), url: z.string() }),
      ]),
    )
    .nullable(),
});

const ItemReference = z.strictObject({ type: z.literal("item_reference"), id: z.string() });

/** One input item; an object without `type` is an easy input message. */
export const InputItem = z.union([MessageItem, CodeInterpreterCallItem, ItemReference]);

export const CodeInterpreterTool = z.strictObject({
  type: z.literal("code_interpreter"),
  container: z.union([
    z.string(),
    z.strictObject({
      type: z.literal("auto"),
      file_ids: z.array(z.string()).max(50).optional(),
      memory_limit: z.enum(["1g", "4g", "16g", "64g"]).nullish(),
      network_policy: z.looseObject({ type: z.string() }).optional(),
    }),
  ]),
  allowed_callers: z.array(z.string()).optional(),
});

/** Tools of other types are accepted with any fields (the simulator never calls them). */
const OtherTool = z.looseObject({ type: z.string() });

export const CreateResponseBody = z.strictObject({
  model: z.string(),
  input: z.union([z.string(), z.array(z.unknown())]).optional(),
  instructions: z.string().nullish(),
  tools: z.array(OtherTool).optional(),
  tool_choice: z.union([z.enum(["none", "auto", "required"]), z.looseObject({ type: z.string() })]).optional(),
  include: z.array(z.enum(INCLUDE_VALUES)).nullish(),
  previous_response_id: z.string().nullish(),
  conversation: z.unknown().optional(),
  store: z.boolean().nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.strictObject({ include_obfuscation: z.boolean().optional() }).nullish(),
  background: z.boolean().nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  max_output_tokens: z.number().int().nullish(),
  max_tool_calls: z.number().int().nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  text: z.unknown().optional(),
  reasoning: z.unknown().optional(),
  truncation: z.enum(["auto", "disabled"]).nullish(),
  user: z.string().optional(),
  safety_identifier: z.string().nullish(),
  prompt_cache_key: z.string().nullish(),
  prompt_cache_retention: z.unknown().optional(),
  prompt_cache_options: z.unknown().optional(),
  service_tier: z.string().nullish(),
  prompt: z.unknown().optional(),
  context_management: z.unknown().optional(),
  moderation: z.unknown().optional(),
});

export type CreateResponseBody = z.infer<typeof CreateResponseBody>;
export type InputItem = z.infer<typeof InputItem>;
export type CodeInterpreterTool = z.infer<typeof CodeInterpreterTool>;
