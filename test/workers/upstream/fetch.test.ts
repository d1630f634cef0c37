/**
 * The gateway helpers of the one upstream fetch (upstream/fetch.ts): the configured query on every
 * path, the key in exactly one header.
 */
import { describe, expect, it } from "vitest";
import { setUpstreamAuth, upstreamUrl } from "../../../src/upstream/fetch";

describe("gateway helpers", () => {
  const target = {
    baseUrl: "https://gw.example/openai/v1",
    apiKey: "k",
    authHeader: "api-key" as const,
    query: [["api-version", "2025-04-01-preview"]] as [string, string][],
  };

  it("adds the configured query to every path, keeping the caller's own parameters and value", () => {
    expect(upstreamUrl(target, "/responses")).toBe(
      "https://gw.example/openai/v1/responses?api-version=2025-04-01-preview",
    );
    expect(upstreamUrl(target, "/containers/c/files?limit=100&after=x")).toBe(
      "https://gw.example/openai/v1/containers/c/files?limit=100&after=x&api-version=2025-04-01-preview",
    );
    expect(upstreamUrl(target, "/models?api-version=2024-01-01")).toBe(
      "https://gw.example/openai/v1/models?api-version=2024-01-01",
    );
    expect(upstreamUrl({ baseUrl: "https://api.openai.com/v1", apiKey: "k" }, "/files/a%20b")).toBe(
      "https://api.openai.com/v1/files/a%20b",
    );
  });

  it("sends the key in exactly one header", () => {
    const azure = setUpstreamAuth(new Headers(), target);
    expect([...azure.keys()]).toEqual(["api-key"]);
    const openai = setUpstreamAuth(new Headers(), { baseUrl: "x", apiKey: "sk" });
    expect(openai.get("authorization")).toBe("Bearer sk");
    expect(openai.has("api-key")).toBe(false);
  });
});
