/**
 * @module routes/conversations
 * The Conversations API routes that carry items (OpenAI, "Conversations":
 * https://platform.openai.com/docs/api-reference/conversations). Items read back
 * (`GET /v1/conversations/{id}/items`, `GET …/items/{item}`) are upstream's stored items, whose
 * links are the model's `sandbox:/mnt/data/…` ones: they are rewritten on read like
 * `GET /v1/responses/{id}` (harvest/pipeline.ts `rewriteConversationItems`). Items sent
 * (`POST /v1/conversations`, `POST …/items`) are restored like a create's input
 * (harvest/restore.ts), so no download URL of ours reaches upstream. The rest of the API
 * (retrieve, update, delete) is passed through unchanged by routes/passthrough.ts.
 */
import { Hono, type Context } from "hono";
import type { AppEnv } from "../app";
import { badRequest } from "../errors";
import { rewriteConversationItems } from "../harvest/pipeline";
import { restoreInput } from "../harvest/restore";
import { keptResponseHeaders, upstreamFetch } from "../upstream/fetch";
import { passError } from "./pass-error";

export const conversations = new Hono<AppEnv>();

/** Relays an upstream JSON answer, with its items (a list's `data`, or the item itself) rewritten. */
async function relayItems(
  c: Context<AppEnv>,
  conversationId: string,
  upstream: Response,
  shape: "list" | "item",
): Promise<Response> {
  if (!upstream.ok) return passError(upstream);
  const body = (await upstream.json()) as { data?: unknown[] } & Record<string, unknown>;
  let out: unknown = body;
  if (shape === "item") out = (await rewriteConversationItems(c, conversationId, [body]))[0];
  else if (Array.isArray(body.data))
    out = { ...body, data: await rewriteConversationItems(c, conversationId, body.data) };
  return c.json(out, 200, Object.fromEntries(keptResponseHeaders(upstream.headers)));
}

/** The request body with its `items` restored; not JSON or no items: as sent. */
async function restoredItems(c: Context<AppEnv>): Promise<string> {
  const text = await c.req.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    throw badRequest(
      "We could not parse the JSON body of your request. The body must be a JSON object.",
      null,
      "invalid_json",
    );
  }
  if (!body || typeof body !== "object" || !Array.isArray((body as { items?: unknown }).items)) return text;
  const restored = await restoreInput(c.env, c.get("config"), c.get("tenant"), {
    input: (body as { items: unknown[] }).items,
  });
  return JSON.stringify({ ...body, items: restored.input });
}

const forward = (c: Context<AppEnv>, method: string, path: string, body?: string) =>
  upstreamFetch(c.get("config"), {
    method,
    path: `${path}${new URL(c.req.url).search}`,
    headers: c.req.raw.headers,
    ...(body !== undefined ? { body } : {}),
  });

conversations.get("/v1/conversations/:id/items", async (c) => {
  const id = c.req.param("id");
  return relayItems(c, id, await forward(c, "GET", `/conversations/${encodeURIComponent(id)}/items`), "list");
});

conversations.get("/v1/conversations/:id/items/:item", async (c) => {
  const id = c.req.param("id");
  return relayItems(
    c,
    id,
    await forward(
      c,
      "GET",
      `/conversations/${encodeURIComponent(id)}/items/${encodeURIComponent(c.req.param("item"))}`,
    ),
    "item",
  );
});

conversations.post("/v1/conversations/:id/items", async (c) => {
  const id = c.req.param("id");
  return relayItems(
    c,
    id,
    await forward(c, "POST", `/conversations/${encodeURIComponent(id)}/items`, await restoredItems(c)),
    "list",
  );
});

conversations.post("/v1/conversations", async (c) => {
  const upstream = await forward(c, "POST", "/conversations", await restoredItems(c));
  if (!upstream.ok) return passError(upstream);
  return c.json(await upstream.json(), 200, Object.fromEntries(keptResponseHeaders(upstream.headers)));
});
