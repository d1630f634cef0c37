/**
 * @module routes/models
 * A tiny `GET /v1/models`, so a proxy's pass-through of other routes can be tested.
 */
import { Hono } from "hono";
import { notFound } from "../errors";

const MODELS = ["gpt-5", "gpt-5-mini", "gpt-4.1"].map((id) => ({
  id,
  object: "model",
  created: 1_754_000_000,
  owned_by: "openai",
}));

export const modelsRoutes = new Hono();

modelsRoutes.get("/", (c) => c.json({ object: "list", data: MODELS }));
modelsRoutes.get("/:id", (c) => {
  const m = MODELS.find((x) => x.id === c.req.param("id"));
  if (!m) throw notFound(`The model '${c.req.param("id")}' does not exist or you do not have access to it.`);
  return c.json(m);
});
