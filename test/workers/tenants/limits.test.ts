/**
 * Rate limits: exact under concurrency (a Durable Object counter per scope), per key, per tenant,
 * per IP and per day for publishable keys; none for the single-tenant default.
 */
import { describe, expect, it } from "vitest";
import { SESSION_HEADER } from "../../../src/auth/authenticate";
import { as, makeTenant, SINGLE_KEY, sleep } from "./support";

/** Waits out the end of a minute so a burst never straddles two windows. */
async function awayFromMinuteEdge() {
  const into = Date.now() % 60_000;
  if (into > 50_000) await sleep(60_000 - into + 50);
}

async function burst(n: number, send: () => Promise<Response>) {
  const statuses = await Promise.all(Array.from({ length: n }, send).map(async (p) => (await p).status));
  return { ok: statuses.filter((s) => s === 200).length, limited: statuses.filter((s) => s === 429).length, other: statuses.filter((s) => s !== 200 && s !== 429) };
}

describe("rate limits", () => {
  it("a tenant's per-minute limit holds exactly under 20 concurrent requests", async () => {
    await awayFromMinuteEdge();
    const t = await makeTenant({ limits: { requests_per_minute: 7 } });
    expect(await burst(20, () => as("multi", t.secret, "/v1/models"))).toEqual({ ok: 7, limited: 13, other: [] });
    const res = await as("multi", t.secret, "/v1/models");
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const body = (await res.json()) as { error: { type: string; code: string } };
    expect(body.error).toMatchObject({ type: "rate_limit_error", code: "rate_limit_exceeded" });
  });

  it("a key's limit counts that key only; the tenant's counts all its keys", async () => {
    await awayFromMinuteEdge();
    const t = await makeTenant({ keyLimits: { requests_per_minute: 3 } });
    expect(await burst(6, () => as("multi", t.secret, "/v1/models"))).toEqual({ ok: 3, limited: 3, other: [] });
    const other = await makeTenant();
    expect(await burst(6, () => as("multi", other.secret, "/v1/models"))).toEqual({ ok: 6, limited: 0, other: [] });
  });

  it("publishable keys: per-IP limit and daily cap", async () => {
    await awayFromMinuteEdge();
    const t = await makeTenant({ widget: { per_ip_per_minute: 4, daily_cap: 6 } });
    const headersFor = async (ip: string) => ({ origin: t.origin, "cf-connecting-ip": ip });
    // Sessions count too: 1 from each address.
    const s1 = await (async () => {
      const res = await as("multi", t.publishable, "/widget/session", { method: "POST", headers: await headersFor("198.51.100.1") });
      return ((await res.json()) as { session: string }).session;
    })();
    const get = (ip: string) => as("multi", t.publishable, "/v1/responses/resp_unknown", { headers: { origin: t.origin, "cf-connecting-ip": ip, [SESSION_HEADER]: s1 } });
    // 3 more from IP 1 pass the limiter (then 404: the id is not theirs), the 4th is limited.
    const first = await burst(4, () => get("198.51.100.1"));
    expect(first).toEqual({ ok: 0, limited: 1, other: [404, 404, 404] });
    // Another address has its own per-IP budget, but the daily cap ends it: 6 counted are
    // 1 session + 3 from the first address (its refused 4th took nothing back) + 2 here.
    const second = await burst(4, () => get("198.51.100.2"));
    expect(second).toEqual({ ok: 0, limited: 2, other: [404, 404] });
  });

  it("single-tenant: no limit on the secret key", async () => {
    expect(await burst(30, () => as("single", SINGLE_KEY, "/v1/models"))).toEqual({ ok: 30, limited: 0, other: [] });
  });
});
