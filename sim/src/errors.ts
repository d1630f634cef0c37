/**
 * @module errors
 * The simulator's one error type. It renders OpenAI's error body
 * (`{"error":{"message","type","param","code"}}`) with the status the real API uses, so the
 * official SDK on the other side raises the same typed errors (`BadRequestError`, …).
 */

/** OpenAI's `error.type` for a status, as the real API picks it. */
function defaultType(status: number): string {
  if (status === 401) return "invalid_request_error"; // the real API says so for bad keys too
  if (status === 404) return "invalid_request_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

export interface SimErrorOptions {
  type?: string;
  param?: string | null;
  code?: string | null;
  headers?: Record<string, string>;
}

/** A refusal with the real API's status and error body. */
export class SimError extends Error {
  override readonly name = "SimError";
  constructor(
    readonly status: number,
    message: string,
    readonly options: SimErrorOptions = {},
  ) {
    super(message);
  }

  /** The JSON body, exactly the four fields the real API sends. */
  toBody() {
    return {
      error: {
        message: this.message,
        type: this.options.type ?? defaultType(this.status),
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

/** 400 invalid_request_error. */
export const invalid = (message: string, param: string | null = null, code: string | null = null) =>
  new SimError(400, message, { param, code });

/** 404 invalid_request_error (the real API uses that type for unknown ids). */
export const notFound = (message: string, param: string | null = null) => new SimError(404, message, { param });

/** The real messages for an expired container: 400 from /v1/responses, 404 from file endpoints. */
export const containerExpired = (status: 400 | 404) =>
  new SimError(status, "Container is expired.", { code: status === 400 ? "container_expired" : null });
