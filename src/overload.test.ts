// The overload classifier (vitest project `node`): which errors are an internal object's overload.
import { describe, expect, it } from "vitest";
import { UnsandboxError } from "./errors";
import { classifyOverload, overloadError } from "./overload";

describe("classifyOverload", () => {
  it("reads Cloudflare's .overloaded and .retryable, and nothing else", () => {
    expect(classifyOverload(Object.assign(new Error("x"), { overloaded: true, retryable: false }))).toEqual({
      kind: "overloaded",
      retryAfterS: 5,
    });
    // Overloaded wins: retrying at once would add to the overload.
    expect(classifyOverload(Object.assign(new Error("x"), { overloaded: true, retryable: true }))?.kind).toBe(
      "overloaded",
    );
    expect(classifyOverload(Object.assign(new Error("x"), { retryable: true }))).toEqual({
      kind: "unavailable",
      retryAfterS: 1,
    });
    // A bug thrown inside an object's own code (`.remote`) is not an overload.
    expect(classifyOverload(Object.assign(new Error("x"), { remote: true }))).toBeNull();
    expect(classifyOverload(new UnsandboxError(404, "no"))).toBeNull();
    expect(classifyOverload("overloaded")).toBeNull();
    expect(classifyOverload(null)).toBeNull();
  });

  it("answers 503 in OpenAI's error shape with Retry-After", async () => {
    const res = overloadError({ kind: "overloaded", retryAfterS: 5 }).toResponse();
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    expect(await res.json()).toMatchObject({ error: { type: "server_error", code: "overloaded", param: null } });
  });
});
