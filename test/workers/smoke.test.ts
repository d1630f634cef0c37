import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("skeleton", () => {
  it("answers /healthz", async () => {
    const res = await exports.default.fetch("https://unsandbox.test/healthz");
    expect(res.status).toBe(200);
  });

  it("refuses /v1 without a key in OpenAI's error shape", async () => {
    const res = await exports.default.fetch("https://unsandbox.test/v1/models");
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: Record<string, unknown> };
    expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "type"]);
    expect(body.error.code).toBe("missing_api_key");
  });

  it("reaches the simulator for outbound fetches", async () => {
    const res = await fetch("https://api.openai.com/v1/models", { headers: { authorization: "Bearer sk-sim-test" } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { object: string }).object).toBe("list");
  });
});

describe("pass-through", () => {
  it("forwards an unrelated /v1 route upstream with the upstream key", async () => {
    const res = await exports.default.fetch("https://unsandbox.test/v1/models", {
      headers: { authorization: "Bearer usk_test_0123456789abcdef" },
    });
    expect(res.headers.get("x-unsandbox-request-id")).toBeTruthy();
    // The simulator only answers 200 to its own key: unsandbox sent the upstream key, not the client's.
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);
  });
});
