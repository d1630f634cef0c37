/**
 * @module auth/strict-json
 * Bodies of unsandbox's own routes: JSON objects checked by a strict zod schema, so a typo is a
 * 400 naming the field rather than a setting silently ignored.
 */
import type { Context } from "hono";
import type { z } from "zod";
import { badRequest } from "../errors";

/**
 * Parses the body with `schema`. An empty body counts as `{}` (for calls without options).
 * @throws UnsandboxError 400 `invalid_json` | `invalid_value` | `unknown_parameter`.
 */
export async function readStrictJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const text = await c.req.text();
  let raw: unknown = {};
  if (text.trim() !== "") {
    try {
      raw = JSON.parse(text);
    } catch {
      throw badRequest(
        "We could not parse the JSON body of your request. The body must be a JSON object.",
        null,
        "invalid_json",
      );
    }
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === "unrecognized_keys") {
      const key = issue.keys[0]!;
      const param = [...issue.path, key].join(".");
      throw badRequest(`Unknown parameter: '${param}'.`, param, "unknown_parameter");
    }
    const param = issue.path.join(".") || null;
    throw badRequest(`Invalid value for '${param ?? "body"}': ${issue.message}`, param, "invalid_value");
  }
  return parsed.data;
}
