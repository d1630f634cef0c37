/**
 * @module schemas/create-response
 * What unsandbox reads from a `POST /v1/responses` body. Every object is loose: fields unsandbox
 * does not know pass through untouched at every depth, so new upstream parameters keep working.
 * Only the fields that unsandbox acts on are typed, and a wrong type there is a 400.
 */
import { z } from "zod";
import { badRequest } from "../errors";

export const OUTPUTS_INCLUDE = "code_interpreter_call.outputs";

const CodeInterpreterTool = z.looseObject({
  type: z.literal("code_interpreter"),
  container: z
    .union([z.string(), z.looseObject({ type: z.literal("auto"), file_ids: z.array(z.string()).optional() })])
    .optional(),
});

/** The hosted shell tool: a container unsandbox may manage (`container_auto`) or one named by id. */
const ShellTool = z.looseObject({
  type: z.literal("shell"),
  environment: z
    .union([
      z.looseObject({ type: z.literal("container_auto"), file_ids: z.array(z.string()).optional() }),
      z.looseObject({ type: z.literal("container_reference"), container_id: z.string() }),
      z.looseObject({ type: z.literal("local") }),
    ])
    .nullish(),
});

const Tool = z.union([CodeInterpreterTool, ShellTool, z.looseObject({ type: z.string() })]);

export const CreateResponseBody = z.looseObject({
  model: z.string().optional(),
  input: z.union([z.string(), z.array(z.unknown())]).optional(),
  stream: z.boolean().nullish(),
  background: z.boolean().nullish(),
  include: z.array(z.string()).nullish(),
  tools: z.array(Tool).nullish(),
  previous_response_id: z.string().nullish(),
  conversation: z.unknown().optional(),
  instructions: z.string().nullish(),
});

export type CreateResponseBody = z.infer<typeof CreateResponseBody>;

/**
 * The typed view of a create body (HTTP `POST /v1/responses`, or a WebSocket `response.create`).
 * @throws UnsandboxError 400 `invalid_value` naming the first field of the wrong type.
 */
export function parseCreateResponseBody(raw: unknown): CreateResponseBody {
  const parsed = CreateResponseBody.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const param = issue.path.join(".") || null;
  throw badRequest(`Invalid value for '${param ?? "body"}': ${issue.message}`, param, "invalid_value");
}
