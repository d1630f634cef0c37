/**
 * @module auth/widget-policy
 * The settings a publishable key forces on `POST /v1/responses`. Pure. A widget key is public, so
 * whatever a page may send, anyone may send: the code interpreter only, with the key's memory
 * limit and a fresh container each time (no `background`, no explicit container ids, no files),
 * and the key's instructions and model when it fixes them.
 */
import { badRequest } from "../errors";
import type { WidgetSettings } from "../tenants/schema";

/** Fields a publishable key may not send at all. */
const REFUSED_FIELDS = ["conversation", "prompt", "service_tier"] as const;

/**
 * Returns the body to forward for a publishable key.
 * @throws UnsandboxError 400 `not_allowed_for_publishable_key` naming the offending param.
 */
export function applyWidgetPolicy(body: Record<string, unknown>, widget: WidgetSettings): Record<string, unknown> {
  const refuse = (param: string, why: string) => badRequest(`'${param}' is not allowed with a publishable key: ${why}`, param, "not_allowed_for_publishable_key");
  if (body.background === true) throw refuse("background", "widget responses run in the foreground.");
  for (const f of REFUSED_FIELDS) if (body[f] != null) throw refuse(f, "widgets cannot set it.");
  if (body.tools != null && !Array.isArray(body.tools)) throw badRequest("Invalid type for 'tools': expected an array.", "tools", "invalid_type");
  const tools = (body.tools ?? []) as unknown[];
  tools.forEach((tool, i) => {
    const t = (tool ?? {}) as Record<string, unknown>;
    if (t.type !== "code_interpreter") throw refuse(`tools[${i}]`, "only the code_interpreter tool is available.");
    if (typeof t.container === "string") throw refuse(`tools[${i}].container`, "widgets cannot name a container.");
    const c = t.container as Record<string, unknown> | undefined;
    if (c && Array.isArray(c.file_ids) && c.file_ids.length > 0) throw refuse(`tools[${i}].container.file_ids`, "widgets cannot attach files.");
  });
  const out: Record<string, unknown> = {
    ...body,
    tools: [{ type: "code_interpreter", container: { type: "auto", memory_limit: widget.memory_limit } }],
    tool_choice: body.tool_choice === "none" ? "none" : "auto",
  };
  if (widget.instructions !== undefined) out.instructions = widget.instructions;
  if (widget.model !== undefined) out.model = widget.model;
  delete out.background;
  return out;
}
