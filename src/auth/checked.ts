/**
 * @module auth/checked
 * Proof that the guard (auth/guard.ts) checked a request's body before the route that acts on it
 * runs. The guard marks the request when its checks pass; `POST /v1/responses` refuses to run
 * without the mark, so a path the guard did not recognise as that route can never reach the
 * model with unchecked ids or a widget body that skipped its policy.
 */
import type { Context } from "hono";
import { badRequest } from "../errors";

declare module "hono" {
  interface ContextVariableMap {
    /** Set by the guard once the body of `POST /v1/responses` passed its checks. */
    responsesBodyChecked: true;
  }
}

/** Marks this request's responses body as checked. */
export function markResponsesBodyChecked(c: Context): void {
  c.set("responsesBodyChecked", true);
}

/**
 * Refuses to go on unless the guard checked this request's body.
 * @throws UnsandboxError 400 `invalid_path` (the only way to get here unchecked is a path the guard read differently)
 */
export function assertResponsesBodyChecked(c: Context): void {
  if (c.get("responsesBodyChecked") !== true) {
    throw badRequest(
      "This request reached POST /v1/responses without passing its checks; send it to /v1/responses spelled exactly so.",
      null,
      "invalid_path",
    );
  }
}
