/**
 * @module auth/body-ids
 * The owned ids a `POST /v1/responses` body names, and the type checks unsandbox needs to find
 * them. Pure. Only these fields are looked at; everything else passes through untouched.
 */
import { badRequest } from "../errors";
import type { OwnedKind } from "../tenants/ownership";

export interface NamedId {
  kind: OwnedKind;
  id: string;
  /** Where it was found, OpenAI style (`tools[0].container.file_ids[1]`). */
  param: string;
}

/** Upstream ids: prefix, then `[A-Za-z0-9_-]`. Anything else (`..`, `/`, control chars) is refused. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,199}$/;

function id(kind: OwnedKind, value: unknown, param: string): NamedId {
  if (typeof value !== "string") throw badRequest(`Invalid type for '${param}': expected a string.`, param, "invalid_type");
  if (!ID_PATTERN.test(value)) throw badRequest(`Invalid '${param}': '${value.slice(0, 64).replace(/[^\x20-\x7e]/g, "?")}' is not a valid id.`, param, "invalid_value");
  return { kind, id: value, param };
}

/**
 * Lists the ids in a responses body: `previous_response_id`, `conversation` (string or `{id}`),
 * `tools[].container` (a string id) and `tools[].container.file_ids`, and every `file_id` and
 * `container_id` inside `input` (only `file-…` file ids: `cfile_…` ids are checked through their container).
 * @throws UnsandboxError 400 `invalid_type` | `invalid_value` when one of those has the wrong type.
 */
export function idsInResponsesBody(body: unknown): NamedId[] {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badRequest("The request body must be a JSON object.", null, "invalid_type");
  }
  const b = body as Record<string, unknown>;
  const out: NamedId[] = [];
  if (b.previous_response_id != null) out.push(id("response", b.previous_response_id, "previous_response_id"));
  if (b.conversation != null) {
    const conv = b.conversation;
    if (typeof conv === "object" && !Array.isArray(conv)) out.push(id("conversation", (conv as { id?: unknown }).id, "conversation.id"));
    else out.push(id("conversation", conv, "conversation"));
  }
  if (b.tools != null) {
    if (!Array.isArray(b.tools)) throw badRequest("Invalid type for 'tools': expected an array.", "tools", "invalid_type");
    b.tools.forEach((tool: unknown, i) => {
      if (typeof tool !== "object" || tool === null || Array.isArray(tool)) throw badRequest(`Invalid type for 'tools[${i}]': expected an object.`, `tools[${i}]`, "invalid_type");
      const t = tool as Record<string, unknown>;
      if (t.type !== "code_interpreter" || t.container == null) return;
      if (typeof t.container === "string") {
        out.push(id("container", t.container, `tools[${i}].container`));
      } else if (typeof t.container === "object" && !Array.isArray(t.container)) {
        const fileIds = (t.container as { file_ids?: unknown }).file_ids;
        if (fileIds == null) return;
        if (!Array.isArray(fileIds)) throw badRequest(`Invalid type for 'tools[${i}].container.file_ids': expected an array.`, `tools[${i}].container.file_ids`, "invalid_type");
        fileIds.forEach((f, j) => out.push(id("file", f, `tools[${i}].container.file_ids[${j}]`)));
      } else {
        throw badRequest(`Invalid type for 'tools[${i}].container': expected a string or an object.`, `tools[${i}].container`, "invalid_type");
      }
    });
  }
  if (Array.isArray(b.input)) walkInput(b.input, "input", out, 0);
  return out;
}

function walkInput(value: unknown, path: string, out: NamedId[], depth: number): void {
  if (depth > 32 || typeof value !== "object" || value === null) return;
  if (Array.isArray(value)) {
    value.forEach((v, i) => walkInput(v, `${path}[${i}]`, out, depth + 1));
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    // Only upstream file ids (`file-…`) and container ids are owned; `cfile_…` ids inside
    // citations belong to their container, which is checked through its `container_id`.
    if (k === "file_id" && typeof v === "string" && v.startsWith("file-")) out.push(id("file", v, `${path}.file_id`));
    else if (k === "container_id" && typeof v === "string") out.push(id("container", v, `${path}.container_id`));
    else walkInput(v, `${path}.${k}`, out, depth + 1);
  }
}

/**
 * The owned ids in the JSON body of the other creating routes, which can copy an id's content
 * into something new: `POST /v1/containers` (`file_ids`), `POST /v1/containers/{id}/files`
 * (`file_id`), `POST /v1/conversations` and `POST /v1/conversations/{id}/items` (`items`, walked
 * like a responses `input`). Other routes name no ids in their bodies.
 * @throws UnsandboxError 400 `invalid_type` | `invalid_value`
 */
export function idsInOtherBody(routePath: string, body: unknown): NamedId[] {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badRequest("The request body must be a JSON object.", null, "invalid_type");
  }
  const b = body as Record<string, unknown>;
  const out: NamedId[] = [];
  switch (routePath) {
    case "/v1/containers":
      if (b.file_ids != null) {
        if (!Array.isArray(b.file_ids)) throw badRequest("Invalid type for 'file_ids': expected an array.", "file_ids", "invalid_type");
        b.file_ids.forEach((f, i) => out.push(id("file", f, `file_ids[${i}]`)));
      }
      break;
    case "/v1/containers/:container/files":
      if (b.file_id != null) out.push(id("file", b.file_id, "file_id"));
      break;
    case "/v1/conversations":
    case "/v1/conversations/:conversation/items":
      if (Array.isArray(b.items)) walkInput(b.items, "items", out, 0);
      break;
  }
  return out;
}
