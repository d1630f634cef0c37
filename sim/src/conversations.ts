/**
 * @module conversations
 * The Conversations API subset a proxy meets (OpenAI, "Conversations":
 * https://platform.openai.com/docs/api-reference/conversations): a conversation holds items in
 * order; `POST /v1/responses` with `conversation` (an id, or `{id}`) reads the earlier turns and,
 * once done, appends its input items and output items. Conversations belong to the organisation
 * whose key created them; another organisation's id is not found.
 */
import { SimError, notFound } from "./errors";
import { itemId, nowSeconds } from "./ids";
import { state } from "./state";

export interface SimConversation {
  id: string;
  org: string;
  created_at: number;
  metadata: Record<string, string>;
  /** Items in conversation order (oldest first). */
  items: Record<string, unknown>[];
  /** The responses made in it, oldest first. */
  responses: string[];
}

export function createConversation(
  org: string,
  metadata: Record<string, string>,
  items: Record<string, unknown>[],
): SimConversation {
  const c: SimConversation = { id: itemId("conv"), org, created_at: nowSeconds(), metadata, items: [], responses: [] };
  c.items.push(...items);
  state.conversations.set(c.id, c);
  return c;
}

/** A conversation of `org`, or the real 404. */
export function getConversation(id: string, org: string): SimConversation {
  const c = state.conversations.get(id) as SimConversation | undefined;
  if (!c || c.org !== org) throw notFound(`Conversation with id '${id}' not found.`);
  return c;
}

/** The conversation a create request names (`"conv_…"` or `{"id": "conv_…"}`), if any. */
export function conversationParam(value: unknown, org: string): SimConversation | null {
  if (value === undefined || value === null) return null;
  const id =
    typeof value === "string" ? value : value && typeof value === "object" ? (value as { id?: unknown }).id : undefined;
  if (typeof id !== "string")
    throw new SimError(400, "Invalid type for 'conversation': expected a string or an object with id.", {
      param: "conversation",
      code: "invalid_type",
    });
  const c = state.conversations.get(id) as SimConversation | undefined;
  if (!c || c.org !== org)
    throw new SimError(404, `Conversation with id '${id}' not found.`, { param: "conversation" });
  return c;
}

export function conversationObject(c: SimConversation) {
  return { id: c.id, object: "conversation", created_at: c.created_at, metadata: c.metadata };
}
