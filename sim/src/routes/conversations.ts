/**
 * @module routes/conversations
 * `POST /v1/conversations`, `GET/DELETE /v1/conversations/{id}`, and its items: list (`after`,
 * `limit`, `order` default desc, `include`), retrieve one, add up to 20. Items are stored as the
 * responses store them; a code interpreter call's `outputs` are `null` unless `include` asks.
 */
import { Hono } from "hono";
import { z } from "zod";
import { conversationObject, createConversation, getConversation } from "../conversations";
import { SimError, notFound } from "../errors";
import { orgOf, type SimVars } from "../orgs";
import { pageQuery, paginate } from "../pagination";
import { checkInput, normaliseInput } from "../responses/engine";
import { renderItem } from "../responses/render";
import { state } from "../state";
import { parseOr400 } from "../validate";

const CreateBody = z.strictObject({
  items: z.array(z.unknown()).max(20).nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
});
const AddBody = z.strictObject({ items: z.array(z.unknown()).min(1).max(20) });

async function jsonBody(text: string): Promise<unknown> {
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    throw new SimError(400, "We could not parse the JSON body of your request.");
  }
}

const includeOf = (url: URL) => [...url.searchParams.getAll("include"), ...url.searchParams.getAll("include[]")];

export const conversationsRoutes = new Hono<SimVars>();

conversationsRoutes.post("/", async (c) => {
  const body = parseOr400(CreateBody, await jsonBody(await c.req.text()));
  checkInput(body.items ?? []);
  const conv = createConversation(orgOf(c), body.metadata ?? {}, normaliseInput(body.items ?? []));
  return c.json(conversationObject(conv));
});

conversationsRoutes.get("/:id", (c) => c.json(conversationObject(getConversation(c.req.param("id"), orgOf(c)))));

conversationsRoutes.delete("/:id", (c) => {
  const conv = getConversation(c.req.param("id"), orgOf(c));
  state.conversations.delete(conv.id);
  return c.json({ id: conv.id, object: "conversation.deleted", deleted: true });
});

conversationsRoutes.get("/:id/items", (c) => {
  const conv = getConversation(c.req.param("id"), orgOf(c));
  const url = new URL(c.req.url);
  const q = pageQuery(url, ["include", "include[]"]);
  const include = includeOf(url);
  const items = (q.order === "desc" ? [...conv.items].reverse() : conv.items).map((i) => renderItem(i, include));
  return c.json(paginate(items as { id: string }[], q));
});

conversationsRoutes.get("/:id/items/:item", (c) => {
  const conv = getConversation(c.req.param("id"), orgOf(c));
  const item = conv.items.find((i) => i.id === c.req.param("item"));
  if (!item) throw notFound(`Item with id '${c.req.param("item")}' not found.`);
  return c.json(renderItem(item, includeOf(new URL(c.req.url))));
});

conversationsRoutes.post("/:id/items", async (c) => {
  const conv = getConversation(c.req.param("id"), orgOf(c));
  const body = parseOr400(AddBody, await jsonBody(await c.req.text()));
  checkInput(body.items);
  const added = normaliseInput(body.items);
  conv.items.push(...added);
  return c.json({
    object: "list",
    data: added,
    first_id: added[0]?.id ?? null,
    last_id: added.at(-1)?.id ?? null,
    has_more: false,
  });
});
