/**
 * @module errors
 * One error type for everything unsandbox refuses on purpose. It carries the HTTP status and the
 * fields of OpenAI's error body, so the SDK on the other side raises the same typed errors it
 * would raise against OpenAI (`BadRequestError`, `NotFoundError`, …). Anything that is not an
 * `UnsandboxError` is a bug: it is logged and answered as a generic 500, never echoed.
 */
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** OpenAI's `error.type` values that unsandbox uses. */
export type ErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "rate_limit_error"
  | "server_error"
  | "configuration_error";

export interface ErrorBody {
  error: { message: string; type: ErrorType | string; param: string | null; code: string | null };
}

export class UnsandboxError extends Error {
  override readonly name = "UnsandboxError";
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    readonly options: {
      type?: ErrorType;
      code?: string | null;
      param?: string | null;
      headers?: Record<string, string>;
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: options.cause });
  }

  get type(): ErrorType {
    return this.options.type ?? defaultType(this.status);
  }

  toBody(): ErrorBody {
    return {
      error: {
        message: this.message,
        type: this.type,
        param: this.options.param ?? null,
        code: this.options.code ?? null,
      },
    };
  }

  toResponse(): Response {
    const headers = new Headers(this.options.headers);
    headers.set("content-type", "application/json");
    return new Response(JSON.stringify(this.toBody()), { status: this.status, headers });
  }
}

function defaultType(status: number): ErrorType {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

/** Shorthands for the common refusals. */
export const badRequest = (message: string, param: string | null = null, code: string | null = null) =>
  new UnsandboxError(400, message, { param, code });
export const notFound = (message: string, code: string | null = null) => new UnsandboxError(404, message, { code });
