/**
 * @module validate
 * Turns zod issues into the real API's 400s: "Unknown parameter: 'input[0].foo'.",
 * "Missing required parameter: 'tools[0].container'.", "Invalid value: 'x'. Supported values
 * are: …", "Invalid type for 'x': expected …".
 */
import type { z } from "zod";
import { SimError } from "./errors";

/** `input[0].content[1].text` from a zod path. */
export function paramPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

const join = (a: string, b: string) => (a ? (b.startsWith("[") ? a + b : `${a}.${b}`) : b);

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return "a string";
  if (typeof value === "number") return Number.isInteger(value) ? "an integer" : "a decimal";
  return typeof value === "boolean" ? "a boolean" : typeof value;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const p of path) v = v && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  return v;
}

/** The first issue, as the real API would phrase it. */
export function issueToError(issue: z.core.$ZodIssue, input: unknown, prefix = ""): SimError {
  const path = join(prefix, paramPath(issue.path));
  switch (issue.code) {
    case "unrecognized_keys": {
      const key = join(path, issue.keys[0] ?? "");
      return new SimError(400, `Unknown parameter: '${key}'.`, { param: key, code: "unknown_parameter" });
    }
    case "invalid_type": {
      const actual = valueAt(input, issue.path);
      if (actual === undefined) {
        return new SimError(400, `Missing required parameter: '${path}'.`, {
          param: path,
          code: "missing_required_parameter",
        });
      }
      return new SimError(
        400,
        `Invalid type for '${path}': expected ${issue.expected}, but got ${describe(actual)} instead.`,
        {
          param: path,
          code: "invalid_type",
        },
      );
    }
    case "invalid_value": {
      const actual = valueAt(input, issue.path);
      const supported = issue.values.map((v) => `'${String(v)}'`).join(", ");
      return new SimError(400, `Invalid value: '${String(actual)}'. Supported values are: ${supported}.`, {
        param: path,
        code: "invalid_value",
      });
    }
    case "invalid_union": {
      const actual = valueAt(input, issue.path);
      if (actual === undefined) {
        return new SimError(400, `Missing required parameter: '${path}'.`, {
          param: path,
          code: "missing_required_parameter",
        });
      }
      const type = actual && typeof actual === "object" ? (actual as { type?: unknown }).type : undefined;
      const p = type === undefined ? path : join(path, "type");
      return new SimError(400, `Invalid value: '${String(type ?? describe(actual))}' for '${p}'.`, {
        param: p,
        code: "invalid_value",
      });
    }
    case "too_big":
    case "too_small":
      return new SimError(400, `Invalid '${path}': ${issue.message}.`, {
        param: path,
        code: issue.code === "too_big" ? "integer_above_max_value" : "integer_below_min_value",
      });
    default:
      return new SimError(400, `Invalid '${path}': ${issue.message}.`, { param: path, code: "invalid_value" });
  }
}

/** Parses with a schema or throws the real API's 400 for the first issue. */
export function parseOr400<S extends z.ZodType>(schema: S, input: unknown, prefix = ""): z.infer<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  throw issueToError(r.error.issues[0]!, input, prefix);
}

/** Reads a JSON body or answers 400 like the real API does for bad JSON. */
export async function jsonBody(req: Request): Promise<unknown> {
  const text = await req.text();
  if (!text.trim()) {
    throw new SimError(
      400,
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new SimError(
      400,
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
    );
  }
}
