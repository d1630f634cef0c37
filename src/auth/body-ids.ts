/**
 * @module auth/body-ids
 * The owned ids a `POST /v1/responses` body names, and the type checks unsandbox needs to find
 * them. Pure. Only these fields are looked at; everything else passes through untouched.
 *
 * Every id costs an ownership lookup, and anyone holding the public widget key can send a body,
 * so the ids are collected deduplicated and the collection stops with 400 `too_many_ids` as soon
 * as a body names more distinct ids than a real request does (MAX_LOOKUP_IDS ids that need one
 * lookup each, MAX_ITEM_IDS output item ids, which are looked up together). The walk is linear
 * in the body's size.
 */
import { badRequest } from "../errors";
import type { OwnedKind } from "../tenants/ownership";

/** Distinct response, container, conversation and file ids one request may name (one lookup each). */
export const MAX_LOOKUP_IDS = 256;
/** Distinct output item ids one request may name (all looked up in one call). */
export const MAX_ITEM_IDS = 1024;

/**
 * What an id names: an owned upstream object, or an output item (`msg_…`, `rs_…`, `ci_…`,
 * `fc_…`…) that a later input may reference; items are owned through the tenant's item set
 * (tenants/ownership.ts).
 */
export type IdKind = OwnedKind | "item";

export interface NamedId {
  kind: IdKind;
  id: string;
  /** Where it was found, OpenAI style (`tools[0].container.file_ids[1]`). */
  param: string;
}

/** Upstream ids: prefix, then `[A-Za-z0-9_-]`. Anything else (`..`, `/`, control chars) is refused. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,199}$/;

function id(kind: IdKind, value: unknown, param: string): NamedId {
  if (typeof value !== "string")
    throw badRequest(`Invalid type for '${param}': expected a string.`, param, "invalid_type");
  if (!ID_PATTERN.test(value))
    throw badRequest(
      `Invalid '${param}': '${value.slice(0, 64).replace(/[^\x20-\x7e]/g, "?")}' is not a valid id.`,
      param,
      "invalid_value",
    );
  return { kind, id: value, param };
}

/** Collects ids once each, refusing a body that names too many. */
class Collector {
  readonly ids: NamedId[] = [];
  #seen = new Set<string>();
  #lookups = 0;
  #items = 0;

  push(n: NamedId): void {
    const key = `${n.kind}\u0000${n.id}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    const over = n.kind === "item" ? ++this.#items > MAX_ITEM_IDS : ++this.#lookups > MAX_LOOKUP_IDS;
    if (over) {
      const max =
        n.kind === "item"
          ? `${MAX_ITEM_IDS} item ids`
          : `${MAX_LOOKUP_IDS} response, container, conversation and file ids`;
      throw badRequest(
        `Too many ids in one request: at most ${max}; '${n.param}' is one too many.`,
        n.param,
        "too_many_ids",
      );
    }
    this.ids.push(n);
  }
}

/**
 * Lists the ids in a responses body: `previous_response_id`, `conversation` (string or `{id}`),
 * `tools[].container` (a string id) and `tools[].container.file_ids`, the hosted shell tool's
 * `tools[].environment.container_id` (`container_reference`) and `.file_ids` (`container_auto`), and every `file_id` and
 * `container_id` inside `input` (only `file-…` file ids: `cfile_…` ids are checked through their container).
 * @throws UnsandboxError 400 `invalid_type` | `invalid_value` when one of those has the wrong type.
 */
export function idsInResponsesBody(body: unknown): NamedId[] {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badRequest("The request body must be a JSON object.", null, "invalid_type");
  }
  const b = body as Record<string, unknown>;
  const out = new Collector();
  if (b.previous_response_id != null) out.push(id("response", b.previous_response_id, "previous_response_id"));
  if (b.conversation != null) {
    const conv = b.conversation;
    if (typeof conv === "object" && !Array.isArray(conv))
      out.push(id("conversation", (conv as { id?: unknown }).id, "conversation.id"));
    else out.push(id("conversation", conv, "conversation"));
  }
  if (b.tools != null) {
    if (!Array.isArray(b.tools))
      throw badRequest("Invalid type for 'tools': expected an array.", "tools", "invalid_type");
    b.tools.forEach((tool: unknown, i) => {
      if (typeof tool !== "object" || tool === null || Array.isArray(tool))
        throw badRequest(`Invalid type for 'tools[${i}]': expected an object.`, `tools[${i}]`, "invalid_type");
      const t = tool as Record<string, unknown>;
      if (t.type === "shell") return shellEnvironmentIds(t.environment, `tools[${i}].environment`, out);
      if (t.type !== "code_interpreter" || t.container == null) return;
      if (typeof t.container === "string") {
        out.push(id("container", t.container, `tools[${i}].container`));
      } else if (typeof t.container === "object" && !Array.isArray(t.container)) {
        const fileIds = (t.container as { file_ids?: unknown }).file_ids;
        if (fileIds == null) return;
        if (!Array.isArray(fileIds))
          throw badRequest(
            `Invalid type for 'tools[${i}].container.file_ids': expected an array.`,
            `tools[${i}].container.file_ids`,
            "invalid_type",
          );
        fileIds.forEach((f, j) => out.push(id("file", f, `tools[${i}].container.file_ids[${j}]`)));
      } else {
        throw badRequest(
          `Invalid type for 'tools[${i}].container': expected a string or an object.`,
          `tools[${i}].container`,
          "invalid_type",
        );
      }
    });
  }
  if (Array.isArray(b.input)) walkItems(b.input, "input", out);
  return out.ids;
}

/**
 * The hosted shell tool's environment (OpenAI API reference, "Shell tool": `container_auto` with
 * optional `file_ids`, `container_reference` naming a container, or `local`, the app's own machine).
 */
function shellEnvironmentIds(env: unknown, param: string, out: Collector): void {
  if (env == null) return;
  if (typeof env !== "object" || Array.isArray(env))
    throw badRequest(`Invalid type for '${param}': expected an object.`, param, "invalid_type");
  const e = env as { type?: unknown; container_id?: unknown; file_ids?: unknown };
  if (e.type === "container_reference") out.push(id("container", e.container_id, `${param}.container_id`));
  else if (e.type === "container_auto" && e.file_ids != null) {
    if (!Array.isArray(e.file_ids))
      throw badRequest(`Invalid type for '${param}.file_ids': expected an array.`, `${param}.file_ids`, "invalid_type");
    e.file_ids.forEach((f, j) => out.push(id("file", f, `${param}.file_ids[${j}]`)));
  }
}

/**
 * An input list (`input`, a conversation's `items`): every item that carries an `id` names an
 * earlier output item (an `item_reference`, or an assistant message, reasoning or tool call sent
 * back as it was returned), then the item's fields are walked for file and container ids.
 */
function walkItems(items: unknown[], path: string, out: Collector): void {
  items.forEach((item, i) => {
    const at = `${path}[${i}]`;
    if (typeof item === "object" && item !== null && !Array.isArray(item)) {
      const itemId = (item as { id?: unknown }).id;
      if (itemId != null) out.push(id("item", itemId, `${at}.id`));
    }
    walkInput(item, at, out, 1);
  });
}

function walkInput(value: unknown, path: string, out: Collector, depth: number): void {
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
 * The file ids in the string fields of a `multipart/form-data` body (`file_id`, `file_ids`,
 * `file_ids[]`): container file uploads may name an uploaded file by id instead of sending one.
 * @throws UnsandboxError 400 `invalid_value` | `too_many_ids`
 */
export function idsInForm(fields: Map<string, string[]>): NamedId[] {
  const out = new Collector();
  for (const name of ["file_id", "file_ids", "file_ids[]"]) {
    (fields.get(name) ?? []).forEach((v, i) =>
      out.push(id("file", v, name === "file_id" ? "file_id" : `file_ids[${i}]`)),
    );
  }
  return out.ids;
}

/**
 * The owned ids in the JSON body of the other creating routes, which can copy an id's content
 * into something new: `POST /v1/containers` (`file_ids`), `POST /v1/containers/{id}/files`
 * (`file_id`), `POST /v1/conversations` and `POST /v1/conversations/{id}/items` (`items`, walked
 * like a responses `input`). Other routes name no ids in their bodies.
 * `routePath` is the matched allowlist route (auth/route-policy.ts).
 * @throws UnsandboxError 400 `invalid_type` | `invalid_value`
 */
export function idsInOtherBody(routePath: string, body: unknown): NamedId[] {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badRequest("The request body must be a JSON object.", null, "invalid_type");
  }
  const b = body as Record<string, unknown>;
  const out = new Collector();
  switch (routePath) {
    case "/v1/containers":
      if (b.file_ids != null) {
        if (!Array.isArray(b.file_ids))
          throw badRequest("Invalid type for 'file_ids': expected an array.", "file_ids", "invalid_type");
        b.file_ids.forEach((f, i) => out.push(id("file", f, `file_ids[${i}]`)));
      }
      break;
    case "/v1/containers/:container/files":
      if (b.file_id != null) out.push(id("file", b.file_id, "file_id"));
      break;
    case "/v1/conversations":
    case "/v1/conversations/:conversation/items":
      if (Array.isArray(b.items)) walkItems(b.items, "items", out);
      break;
  }
  return out.ids;
}
