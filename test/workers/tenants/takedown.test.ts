/**
 * Admin takedowns: a download link named by URL (or token) gets a tombstone and answers 410 from
 * then on, in every mode; other links keep working.
 */
import { describe, expect, it } from "vitest";
import { ADMIN_SECRET, as, call, errorOf, SINGLE_KEY } from "./support";

async function makeFiles(): Promise<{ id: string; urls: string[] }> {
  const res = await as("single", SINGLE_KEY, "/v1/responses", {
    method: "POST",
    json: { model: "gpt-5", input: "Make files.\nsim: scenario=several-files", tools: [{ type: "code_interpreter", container: { type: "auto" } }] },
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { id: string; unsandbox: { files: { url: string; state: string }[] } };
  const stored = body.unsandbox.files.filter((f) => f.state === "stored");
  expect(stored.length).toBeGreaterThan(1);
  return { id: body.id, urls: stored.map((f) => f.url) };
}

const path = (url: string) => new URL(url).pathname;

describe("takedowns", () => {
  it("takes one link down (410, GET and HEAD); the response's other files still download", async () => {
    const { urls } = await makeFiles();
    const [down, kept] = urls as [string, string];
    expect((await call("single", path(down))).status).toBe(200);
    const res = await as("single", ADMIN_SECRET, "/admin/takedowns", { method: "POST", json: { url: down, reason: "reported as abusive" } });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ tenant: "default", reason: "reported as abusive" });
    expect(await errorOf(await call("single", path(down)))).toMatchObject({ status: 410, code: "file_taken_down" });
    expect((await call("single", path(down), { method: "HEAD" })).status).toBe(410);
    expect((await call("single", path(kept))).status).toBe(200);
    // Idempotent: the first reason stays.
    const again = await as("single", ADMIN_SECRET, "/admin/takedowns", { method: "POST", json: { url: down, reason: "second" } });
    expect(await again.json()).toMatchObject({ reason: "reported as abusive" });
  });

  it("accepts a bare token, refuses forged links and bad bodies, and needs the admin secret", async () => {
    const { urls } = await makeFiles();
    const token = path(urls[0]!).split("/")[2]!;
    expect((await as("single", ADMIN_SECRET, "/admin/takedowns", { method: "POST", json: { url: token, reason: "dmca" } })).status).toBe(201);
    expect((await call("single", path(urls[0]!))).status).toBe(410);
    const forged = token.slice(0, -4) + (token.endsWith("AAAA") ? "BBBB" : "AAAA");
    const cases: [unknown, number, string][] = [
      [{ url: forged, reason: "x" }, 400, "invalid_link"],
      [{ url: "https://elsewhere.example/files/abc/x", reason: "x" }, 400, "invalid_link"],
      [{ url: token, reason: "line\r\nbreak" }, 400, "invalid_value"],
      [{ url: token }, 400, "invalid_value"],
      [{ url: token, reason: "x", extra: 1 }, 400, "unknown_parameter"],
    ];
    for (const [json, status, code] of cases) {
      expect({ json, ...(await errorOf(await as("single", ADMIN_SECRET, "/admin/takedowns", { method: "POST", json }))) }).toMatchObject({ json, status, code });
    }
    expect((await errorOf(await as("single", SINGLE_KEY, "/admin/takedowns", { method: "POST", json: { url: token, reason: "x" } }))).status).toBe(401);
  });
});
