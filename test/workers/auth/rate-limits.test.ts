/**
 * Rate limits: exact under concurrency (a Durable Object counter per scope), holding in every
 * window of their length (not per calendar minute), per key, per tenant, and for publishable keys
 * per address (an IPv6 /64 is one) and per day, where only response creates count; none for the
 * single-tenant default.
 */
import { describe, expect, it } from "vitest";
import { SESSION_HEADER } from "../../../src/auth/authenticate";
import { as, makeTenant, SINGLE_KEY, sleep, type TestTenant } from "../support/tenants";

const widgetHeaders = (t: TestTenant, ip: string, s?: string) => ({
  origin: t.origin,
  "cf-connecting-ip": ip,
  ...(s ? { [SESSION_HEADER]: s } : {}),
});

const sessionCall = (t: TestTenant, ip: string) =>
  as("multi", t.publishable, "/widget/session", { method: "POST", headers: widgetHeaders(t, ip) });

async function visitorSession(t: TestTenant, ip: string): Promise<string> {
  const res = await sessionCall(t, ip);
  if (res.status !== 200) throw new Error(`session: ${res.status}`);
  return ((await res.json()) as { session: string }).session;
}

/** A widget turn (the simulator answers without a tool call). */
const create = (t: TestTenant, s: string, ip: string) =>
  as("multi", t.publishable, "/v1/responses", {
    method: "POST",
    headers: { ...widgetHeaders(t, ip, s), "x-unsandbox-wait-ms": "0" },
    json: { model: "gpt-5", input: "hi\nsim: scenario=no-tool" },
  });

const read = (t: TestTenant, s: string, ip: string, path: string) =>
  as("multi", t.publishable, path, { headers: widgetHeaders(t, ip, s) });

async function burst(n: number, send: () => Promise<Response>) {
  const statuses = await Promise.all(Array.from({ length: n }, send).map(async (p) => (await p).status));
  return {
    ok: statuses.filter((s) => s === 200).length,
    limited: statuses.filter((s) => s === 429).length,
    other: statuses.filter((s) => s !== 200 && s !== 429),
  };
}

describe("rate limits", () => {
  it("a tenant's per-minute limit holds exactly under 20 concurrent requests", async () => {
    const t = await makeTenant({ limits: { requests_per_minute: 7 } });
    expect(await burst(20, () => as("multi", t.secret, "/v1/models"))).toEqual({ ok: 7, limited: 13, other: [] });
    const res = await as("multi", t.secret, "/v1/models");
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const body = (await res.json()) as { error: { type: string; code: string } };
    expect(body.error).toMatchObject({ type: "rate_limit_error", code: "rate_limit_exceeded" });
  });

  it("a key's limit counts that key only; the tenant's counts all its keys", async () => {
    const t = await makeTenant({ keyLimits: { requests_per_minute: 3 } });
    expect(await burst(6, () => as("multi", t.secret, "/v1/models"))).toEqual({ ok: 3, limited: 3, other: [] });
    const other = await makeTenant();
    expect(await burst(6, () => as("multi", other.secret, "/v1/models"))).toEqual({ ok: 6, limited: 0, other: [] });
  });

  it("publishable keys: per-IP limit and daily cap count response creates; a refused create takes nothing", async () => {
    const t = await makeTenant({ widget: { per_ip_per_minute: 4, daily_cap: 6, per_ip_daily_cap: 100 } });
    const s = await visitorSession(t, "198.51.100.1");
    // 4 creates from IP 1 pass, the 5th is limited (and, refused, takes no slot of the day).
    expect(await burst(5, () => create(t, s, "198.51.100.1"))).toEqual({ ok: 4, limited: 1, other: [] });
    // Another address has its own per-IP budget, but the daily cap ends it: 6 counted are 4 from
    // the first address + 2 here.
    expect(await burst(4, () => create(t, s, "198.51.100.2"))).toEqual({ ok: 2, limited: 2, other: [] });
  });

  it("visitor sessions and reads never use up the daily cap", async () => {
    const t = await makeTenant({ widget: { per_ip_per_minute: 5, daily_cap: 2 } });
    // Today's code counted these 8 against the cap of 2, and every visitor after them got 429.
    const sessions = await Promise.all(
      ["198.51.100.11", "198.51.100.12", "198.51.100.13", "198.51.100.14"].map((ip) => visitorSession(t, ip)),
    );
    for (const ip of ["198.51.100.11", "198.51.100.12", "198.51.100.13", "198.51.100.14"]) {
      expect((await read(t, sessions[0]!, ip, "/v1/responses/resp_unknown")).status).toBe(404);
    }
    const first = await create(t, sessions[1]!, "198.51.100.15");
    expect(first.status).toBe(200);
    const id = ((await first.json()) as { id: string }).id;
    // A visitor polling its files many times costs nothing of the day either.
    for (let i = 0; i < 6; i++)
      expect((await read(t, sessions[1]!, "198.51.100.15", `/v1/responses/${id}/files`)).status).toBe(200);
    expect((await create(t, sessions[2]!, "198.51.100.16")).status).toBe(200);
    // The cap itself still holds: the third create of the day is refused.
    const third = await create(t, sessions[3]!, "198.51.100.17");
    expect(third.status).toBe(429);
    expect(((await third.json()) as { error: { message: string } }).error.message).toContain("daily cap");
  });

  it("a create refused for its body, or a route a widget cannot reach, takes no slot of the day", async () => {
    const t = await makeTenant({ widget: { per_ip_per_minute: 10, daily_cap: 1, per_ip_daily_cap: 1 } });
    const s = await visitorSession(t, "198.51.100.41");
    const headers = { ...widgetHeaders(t, "198.51.100.41", s), "x-unsandbox-wait-ms": "0" };
    const refused = await as("multi", t.publishable, "/v1/responses", {
      method: "POST",
      headers,
      json: { model: "gpt-5", input: "hi", store: false },
    });
    expect(refused.status).toBe(400);
    expect((await as("multi", t.publishable, "/v1/files", { method: "POST", headers })).status).toBe(403);
    expect((await as("multi", t.publishable, "/v1/responses/resp_unknown", { method: "DELETE", headers })).status).toBe(
      403,
    );
    expect((await create(t, s, "198.51.100.41")).status).toBe(200);
    expect((await create(t, s, "198.51.100.42")).status).toBe(429);
  });

  it("session issuance and reads have their own per-address limits", async () => {
    const t = await makeTenant({ widget: { per_ip_per_minute: 2 } });
    expect(await burst(4, () => sessionCall(t, "198.51.100.21"))).toEqual({ ok: 2, limited: 2, other: [] });
    const s = await visitorSession(t, "198.51.100.22");
    // Reads: ten per create allowed per minute, 20 here; the unknown id answers 404 until then.
    const reads = await burst(22, () => read(t, s, "198.51.100.22", "/v1/responses/resp_unknown"));
    expect({ limited: reads.limited, other: reads.other.length }).toEqual({ limited: 2, other: 20 });
  });

  it("one address may take only its share of the daily cap", async () => {
    const t = await makeTenant({ widget: { per_ip_per_minute: 10, daily_cap: 20 } });
    const s = await visitorSession(t, "198.51.100.31");
    // The share is a tenth of the cap unless set: 2 a day from one address.
    const mine = await burst(4, () => create(t, s, "198.51.100.31"));
    expect(mine).toEqual({ ok: 2, limited: 2, other: [] });
    const refused = await create(t, s, "198.51.100.31");
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain(
      "share of this key's daily cap",
    );
    expect((await create(t, s, "198.51.100.32")).status).toBe(200);
  });

  it("an IPv6 /64 is one client, however its addresses are spelled", async () => {
    const t = await makeTenant({ widget: { per_ip_per_minute: 2 } });
    const one64 = ["2001:db8:7:1::1", "2001:DB8:7:1:0:0:0:2", "2001:0db8:0007:0001:ffff:1:2:3"];
    const statuses = [];
    for (const ip of one64) statuses.push((await sessionCall(t, ip)).status);
    expect(statuses).toEqual([200, 200, 429]);
    expect((await sessionCall(t, "2001:db8:7:2::1")).status).toBe(200);
  });

  it("a per-minute limit holds across the minute's calendar boundary", { timeout: 120_000 }, async () => {
    const t = await makeTenant({ limits: { requests_per_minute: 3 } });
    // Two requests just before a minute ends and two just after: 4 within ~1.1 s, limit 3.
    const now = Date.now();
    let boundary = now - (now % 60_000) + 60_000;
    if (boundary - now < 1_500) boundary += 60_000;
    await sleep(boundary - 800 - Date.now());
    const before = await burst(2, () => as("multi", t.secret, "/v1/models"));
    await sleep(Math.max(0, boundary + 300 - Date.now()));
    const after = await burst(2, () => as("multi", t.secret, "/v1/models"));
    expect({ ok: before.ok + after.ok, limited: before.limited + after.limited }).toEqual({ ok: 3, limited: 1 });
  });

  it("single-tenant: no limit on the secret key", async () => {
    expect(await burst(30, () => as("single", SINGLE_KEY, "/v1/models"))).toEqual({ ok: 30, limited: 0, other: [] });
  });
});
