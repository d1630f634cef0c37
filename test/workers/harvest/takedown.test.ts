/**
 * Admin takedowns: a download link named by URL (or token) gets a tombstone and answers 410 from
 * then on, in every mode; other links keep working.
 */
import { describe, expect, it } from "vitest";
import { ADMIN_SECRET, as, call, errorOf, SINGLE_KEY } from "../support/tenants";

async function makeFiles(): Promise<{ id: string; urls: string[] }> {
  const res = await as("single", SINGLE_KEY, "/v1/responses", {
    method: "POST",
    json: {
      model: "gpt-5",
      input: "Make files.\nsim: scenario=several-files",
      tools: [{ type: "code_interpreter", container: { type: "auto" } }],
    },
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { id: string; unsandbox: { files: { url: string; state: string }[] } };
  const stored = body.unsandbox.files.filter((f) => f.state === "stored");
  expect(stored.length).toBeGreaterThan(1);
  return { id: body.id, urls: stored.map((f) => f.url) };
}

const path = (url: string) => new URL(url).pathname;

type Turn = {
  id: string;
  unsandbox: { files: { url: string; state: string; file_id: string | null; reason: string | null }[] };
};

/** One turn in single-tenant mode; `later-turn-link` links the previous turn's file without a tool call. */
async function turn(input: string, previous?: string): Promise<Turn> {
  const res = await as("single", SINGLE_KEY, "/v1/responses", {
    method: "POST",
    json: {
      model: "gpt-5",
      input,
      tools: [{ type: "code_interpreter", container: { type: "auto" } }],
      ...(previous ? { previous_response_id: previous } : {}),
    },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Turn;
}

async function takeDown(url: string, reason: string): Promise<Response> {
  const res = await as("single", ADMIN_SECRET, "/admin/takedowns", { method: "POST", json: { url, reason } });
  expect(res.status).toBe(201);
  return res;
}

/** The same URL with one character of its token percent-encoded (`A` → `%41`). */
function encodeOneTokenChar(url: string): string {
  const [, files, token, name] = path(url).split("/") as [string, string, string, string];
  const at = [...token].findIndex((ch) => /[A-Za-z]/.test(ch));
  const ch = token[at]!;
  return `/${files}/${token.slice(0, at)}%${ch.charCodeAt(0).toString(16).toUpperCase()}${token.slice(at + 1)}/${name}`;
}

describe("takedowns", () => {
  it("takes one link down (410, GET and HEAD); the response's other files still download", async () => {
    const { urls } = await makeFiles();
    const [down, kept] = urls as [string, string];
    expect((await call("single", path(down))).status).toBe(200);
    const res = await as("single", ADMIN_SECRET, "/admin/takedowns", {
      method: "POST",
      json: { url: down, reason: "reported as abusive" },
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ tenant: "default", reason: "reported as abusive" });
    expect(await errorOf(await call("single", path(down)))).toMatchObject({ status: 410, code: "file_taken_down" });
    expect((await call("single", path(down), { method: "HEAD" })).status).toBe(410);
    expect((await call("single", path(kept))).status).toBe(200);
    // Idempotent: the first reason stays.
    const again = await as("single", ADMIN_SECRET, "/admin/takedowns", {
      method: "POST",
      json: { url: down, reason: "second" },
    });
    expect(await again.json()).toMatchObject({ reason: "reported as abusive" });
  });

  it("accepts a bare token, refuses forged links and bad bodies, and needs the admin secret", async () => {
    const { urls } = await makeFiles();
    const token = path(urls[0]!).split("/")[2]!;
    expect(
      (await as("single", ADMIN_SECRET, "/admin/takedowns", { method: "POST", json: { url: token, reason: "dmca" } }))
        .status,
    ).toBe(201);
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
      expect({
        json,
        ...(await errorOf(await as("single", ADMIN_SECRET, "/admin/takedowns", { method: "POST", json }))),
      }).toMatchObject({ json, status, code });
    }
    expect(
      (
        await errorOf(
          await as("single", SINGLE_KEY, "/admin/takedowns", { method: "POST", json: { url: token, reason: "x" } }),
        )
      ).status,
    ).toBe(401);
  });

  it("holds for a percent-encoded spelling of the token: the route checks the decoded token, not the raw path", async () => {
    const { urls } = await makeFiles();
    const down = urls[0]!;
    const spelled = encodeOneTokenChar(down);
    expect(spelled).not.toBe(path(down));
    await takeDown(down, "dmca");
    for (const method of ["GET", "HEAD"]) {
      const res = await call("single", spelled, { method });
      // Never served. The front door may refuse the spelling outright (400); otherwise the route answers 410.
      expect([400, 410], `${method} ${spelled}`).toContain(res.status);
    }
  });

  it("covers the stored bytes: another response's link to them and a link minted later answer 410 too", async () => {
    const t1 = await turn("sim: scenario=one-file");
    const t2 = await turn("sim: scenario=later-turn-link", t1.id);
    const [u1] = t1.unsandbox.files.map((f) => f.url);
    const [u2] = t2.unsandbox.files.map((f) => f.url);
    expect(u1 && u2 && u1 !== u2).toBe(true);
    expect(t2.unsandbox.files[0]!.file_id).toBe(t1.unsandbox.files[0]!.file_id);
    expect((await call("single", path(u2!))).status).toBe(200);
    const body = await (await takeDown(u1!, "reported as abusive")).json();
    for (const url of [u1!, u2!]) {
      expect(await errorOf(await call("single", path(url)))).toMatchObject({ status: 410, code: "file_taken_down" });
      expect((await call("single", path(url), { method: "HEAD" })).status).toBe(410);
    }
    expect(body).toMatchObject({ object: { file_id: t1.unsandbox.files[0]!.file_id } });
    // Minted after the takedown, by a turn of the same chain.
    const t3 = await turn("sim: scenario=later-turn-link", t2.id);
    const u3 = t3.unsandbox.files[0]!.url;
    expect(await errorOf(await call("single", path(u3)))).toMatchObject({ status: 410, code: "file_taken_down" });
    // The manifests say so instead of offering the URL as a working download.
    expect(t3.unsandbox.files[0]).toMatchObject({ state: "taken_down", reason: "taken down: reported as abusive" });
    const listed = (await (await as("single", SINGLE_KEY, `/v1/responses/${t2.id}/files`)).json()) as {
      data: { state: string }[];
    };
    expect(listed.data.map((f) => f.state)).toEqual(["taken_down"]);
    // Other bytes of the same tenant still download.
    const other = await turn("sim: scenario=one-file");
    expect((await call("single", path(other.unsandbox.files[0]!.url))).status).toBe(200);
  });
});
