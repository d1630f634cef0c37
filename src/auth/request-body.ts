/**
 * @module auth/request-body
 * Reads the body of a request whose ids the guard checks, by what it contains rather than by how
 * its `Content-Type` is spelled: media types compare case-insensitively (RFC 9110 §8.3.1), a body
 * sent as JSON under `text/plain` or with no type is still JSON to the upstream's parser, and a
 * `multipart/form-data` body (container file uploads) has its `file_id` fields read too. A body
 * in any other encoding (a compressed one, a URL-encoded form…) on a route that can name ids is
 * refused with 415: unsandbox cannot see its ids, so it cannot let it through.
 *
 * Reading consumes the request's body, so the request is rebuilt around what was read: the
 * routes after the guard (the pass-through streams `c.req.raw.body` upstream) see the same bytes.
 * https://www.rfc-editor.org/rfc/rfc9110#section-8.3.1 ,
 * https://developer.mozilla.org/en-US/docs/Web/API/Request/formData
 */
import type { Context } from "hono";
import type { AppEnv } from "../app";
import { badRequest, UnsandboxError } from "../errors";

/** What a body turned out to be. `form` holds the string fields of a multipart body. */
export type ReadBody =
  | { kind: "json"; value: unknown }
  | { kind: "empty" }
  | { kind: "form"; fields: Map<string, string[]> };

/** The media type of a `Content-Type` value, lower-cased, without parameters (`""` when absent). */
export function mediaTypeOf(header: string | undefined | null): string {
  return (header ?? "").split(";")[0]!.trim().toLowerCase();
}

/** Media types whose body unsandbox reads as JSON: JSON itself, `+json` types, plain text and none. */
function readsAsJson(type: string): boolean {
  return (
    type === "" ||
    type === "application/json" ||
    type === "text/plain" ||
    (type.startsWith("application/") && type.endsWith("+json"))
  );
}

function unsupported(what: string): UnsandboxError {
  return new UnsandboxError(
    415,
    `This route takes a JSON body (or multipart/form-data where the API takes a file); ${what} cannot be checked, so it is not accepted.`,
    {
      code: "unsupported_media_type",
    },
  );
}

/**
 * Reads the request body and puts an unread copy back on the request.
 * @param multipart whether this route takes `multipart/form-data` at all.
 * @throws UnsandboxError 400 `invalid_json` | `invalid_multipart`; 415 `unsupported_media_type`.
 */
export async function readBody(c: Context<AppEnv>, multipart: boolean): Promise<ReadBody> {
  const encoding = (c.req.header("content-encoding") ?? "").trim().toLowerCase();
  if (encoding !== "" && encoding !== "identity")
    throw unsupported(`a body with Content-Encoding '${encoding.slice(0, 40)}'`);
  const contentType = c.req.header("content-type");
  const type = mediaTypeOf(contentType);
  if (type === "multipart/form-data" && multipart) {
    const bytes = await c.req.arrayBuffer();
    rebuild(c, bytes);
    let form: FormData;
    try {
      form = await new Request("https://body.invalid/", {
        method: "POST",
        headers: { "content-type": contentType! },
        body: bytes,
      }).formData();
    } catch {
      throw badRequest("We could not parse the multipart/form-data body of your request.", null, "invalid_multipart");
    }
    const fields = new Map<string, string[]>();
    for (const [name, value] of form)
      if (typeof value === "string") fields.set(name, [...(fields.get(name) ?? []), value]);
    return { kind: "form", fields };
  }
  if (!readsAsJson(type)) throw unsupported(`a '${type.slice(0, 80)}' body`);
  const text = await c.req.text();
  rebuild(c, text);
  if (text.trim() === "") return { kind: "empty" };
  try {
    return { kind: "json", value: JSON.parse(text) };
  } catch {
    throw badRequest(
      "We could not parse the JSON body of your request. The body must be a JSON object.",
      null,
      "invalid_json",
    );
  }
}

/**
 * Reads a body that must be JSON whatever its type says (`POST /v1/responses`).
 * @throws UnsandboxError 400 `invalid_json`
 */
export async function readJson(c: Context<AppEnv>): Promise<unknown> {
  const text = await c.req.text();
  rebuild(c, text);
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest(
      "We could not parse the JSON body of your request. The body must be a JSON object.",
      null,
      "invalid_json",
    );
  }
}

/**
 * Hono caches what was read for routes that call `c.req.json()`, but routes that stream
 * `c.req.raw.body` onwards need an unread body, so the request is rebuilt around it.
 */
function rebuild(c: Context<AppEnv>, body: string | ArrayBuffer): void {
  const raw = c.req.raw;
  const headers = new Headers(raw.headers);
  headers.delete("content-length");
  c.req.raw = new Request(raw.url, { method: raw.method, headers, body, signal: raw.signal });
}
