/**
 * Rate limits that hold under load (issue 19): isolates take a scope's units from its RateCounter
 * in leases (src/auth/leases.ts, bounds in src/tenants/lease-policy.ts), so a burst with one
 * widget key makes a handful of calls to the key's daily-cap counter instead of one per create,
 * and the cap is still never exceeded, also when several isolates lease from it at once.
 *
 * Each "isolate" here is the Worker's fetch handler with its own RATE_COUNTER namespace object
 * wrapping the real one: leases are held per namespace object, as they are per isolate, while the
 * counter objects behind them are the same real Durable Objects. The wrapper counts calls per
 * object name (scope).
 */
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SESSION_HEADER } from "../../../src/auth/authenticate";
import app from "../../../src/index";
import { RENEW_DEADLINE_MS } from "../../../src/auth/leases";
import { MAX_LEASE, REFUSAL_CACHE_MS } from "../../../src/tenants/lease-policy";
import { RateCounter } from "../../../src/tenants/rate-counter";
import { countCalls } from "../support/calls";
import { BASE, ENVS, makeTenant, sleep, type TestTenant } from "../support/tenants";

/** A RATE_COUNTER namespace of its own (one isolate's leases), counting calls per scope prefix. */
function isolate() {
  const calls: Record<string, number> = {};
  /** Scope prefixes whose counter fails like an overloaded Durable Object. */
  const overloaded = new Set<string>();
  const ns = {
    getByName: (name: string) => {
      const stub = env.RATE_COUNTER.getByName(name) as unknown as Record<string, (...a: unknown[]) => unknown>;
      return new Proxy(stub, {
        get: (target, prop) =>
          typeof prop === "string" && prop !== "then" && typeof target[prop] === "function"
            ? (...args: unknown[]) => {
                const scope = name.split(":")[0]!;
                calls[scope] = (calls[scope] ?? 0) + 1;
                if (overloaded.has(scope))
                  return Promise.reject(
                    Object.assign(new Error("Durable Object is overloaded."), { overloaded: true }),
                  );
                return target[prop]!(...args);
              }
            : Reflect.get(target, prop),
      });
    },
  };
  const workerEnv = { ...ENVS.multi, RATE_COUNTER: ns };
  const fetchAs = async (key: string, path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${key}`);
    const ctx = createExecutionContext();
    const res = await app.fetch(new Request(`${BASE}${path}`, { ...init, headers }), workerEnv as never, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  };
  return { calls, overloaded, fetchAs };
}
type Isolate = ReturnType<typeof isolate>;

const widgetHeaders = (t: TestTenant, ip: string, s?: string): Record<string, string> => ({
  origin: t.origin,
  "cf-connecting-ip": ip,
  ...(s ? { [SESSION_HEADER]: s } : {}),
});

async function visitorSession(iso: Isolate, t: TestTenant, ip: string): Promise<string> {
  const res = await iso.fetchAs(t.publishable, "/widget/session", { method: "POST", headers: widgetHeaders(t, ip) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { session: string }).session;
}

/** A widget turn that runs no tool (the simulator answers at once). */
const create = (iso: Isolate, t: TestTenant, s: string, ip: string) =>
  iso.fetchAs(t.publishable, "/v1/responses", {
    method: "POST",
    headers: { ...widgetHeaders(t, ip, s), "x-unsandbox-wait-ms": "0", "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt-5", input: "hi\nsim: scenario=no-tool" }),
  });

const tally = (statuses: number[]) => ({
  ok: statuses.filter((s) => s === 200).length,
  limited: statuses.filter((s) => s === 429).length,
  other: statuses.filter((s) => s !== 200 && s !== 429),
});

describe("rate limits in leases", () => {
  it("a burst of 120 creates with one widget key makes a handful of calls to its daily-cap counter, not 120", async () => {
    const t = await makeTenant({ widget: { per_ip_per_minute: 1_000, daily_cap: 10_000, per_ip_daily_cap: 10_000 } });
    const iso = isolate();
    const s = await visitorSession(iso, t, "198.51.100.50");
    const statuses = await Promise.all(
      Array.from({ length: 120 }, async (_, i) => (await create(iso, t, s, `198.51.100.${50 + (i % 4)}`)).status),
    );
    expect(tally(statuses)).toEqual({ ok: 120, limited: 0, other: [] });
    // Was one `day:` call per create (120). A cold isolate's first lease is one unit, the next
    // covers every create waiting then (up to MAX_LEASE), so a burst costs about N / MAX_LEASE
    // calls plus the few that grow the lease.
    const day = iso.calls.day ?? 0;
    console.log(`daily-cap counter calls for 120 creates: ${day}; per-address day counters: ${iso.calls.ipday}`);
    expect(day).toBeGreaterThan(0);
    expect(day).toBeLessThanOrEqual(Math.ceil(120 / MAX_LEASE) + 6);
    // The per-address counters lease too: 4 addresses, not 120 calls.
    expect(iso.calls.ipday ?? 0).toBeLessThanOrEqual(4 * 7);
  });

  it("sessions and manifest polls never call the daily-cap counter", async () => {
    const t = await makeTenant({ widget: { per_ip_per_minute: 50, daily_cap: 100 } });
    const iso = isolate();
    const s = await visitorSession(iso, t, "198.51.100.60");
    const first = await create(iso, t, s, "198.51.100.60");
    expect(first.status).toBe(200);
    const { id } = (await first.json()) as { id: string };
    const before = iso.calls.day ?? 0;
    expect(before).toBe(1);
    for (let i = 0; i < 3; i++) await visitorSession(iso, t, `198.51.100.${61 + i}`);
    for (let i = 0; i < 10; i++) {
      const res = await iso.fetchAs(t.publishable, `/v1/responses/${id}/files`, {
        headers: widgetHeaders(t, "198.51.100.60", s),
      });
      expect(res.status).toBe(200);
    }
    expect(iso.calls.day ?? 0).toBe(before);
    expect(iso.calls.ipday ?? 0).toBe(1);
  });

  it("the daily cap is never exceeded when four isolates lease from it at once", async () => {
    const cap = 40;
    const t = await makeTenant({ widget: { per_ip_per_minute: 1_000, daily_cap: cap, per_ip_daily_cap: cap } });
    const isolates = [isolate(), isolate(), isolate(), isolate()];
    const sessions = await Promise.all(isolates.map((iso, i) => visitorSession(iso, t, `198.51.100.${70 + i}`)));
    const statuses = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const k = i % isolates.length;
        return (await create(isolates[k]!, t, sessions[k]!, `198.51.100.${70 + k}`)).status;
      }),
    );
    const { ok, limited, other } = tally(statuses);
    console.log(`cap ${cap}, 4 isolates, 100 creates: ${ok} admitted, ${limited} refused`);
    expect(other).toEqual([]);
    // Never more than the cap (leases are counted when granted): no overshoot.
    expect(ok).toBeLessThanOrEqual(cap);
    // Nothing leased is lost: what an isolate holds it spends, and what it was refused for is
    // asked again after REFUSAL_CACHE_MS. Draining every isolate admits exactly the rest of the cap.
    await sleep(REFUSAL_CACHE_MS + 50);
    let drained = 0;
    for (const [k, iso] of isolates.entries()) {
      while ((await create(iso, t, sessions[k]!, `198.51.100.${70 + k}`)).status === 200) drained++;
    }
    expect(ok + drained).toBe(cap);
  });

  it("per-minute limits still refuse with 429, Retry-After and OpenAI's error shape; a refused flood barely reaches the counter", async () => {
    const t = await makeTenant({ limits: { requests_per_minute: 5 } });
    const iso = isolate();
    const res = await Promise.all(Array.from({ length: 60 }, () => iso.fetchAs(t.secret, "/v1/models")));
    expect(tally(res.map((r) => r.status))).toEqual({ ok: 5, limited: 55, other: [] });
    for (const r of res.filter((x) => x.status === 429)) {
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(await r.json()).toEqual({
        error: {
          message: "Rate limit reached: this tenant's requests per minute (5). Try again later.",
          type: "rate_limit_error",
          param: null,
          code: "rate_limit_exceeded",
        },
      });
    }
    // 5 admitted in at most 5 leases, then the refusal is remembered for REFUSAL_CACHE_MS.
    expect(iso.calls.tenant ?? 0).toBeLessThanOrEqual(5 + 2);
    await sleep(REFUSAL_CACHE_MS + 50);
    const again = await iso.fetchAs(t.secret, "/v1/models");
    expect(again.status).toBe(429);
  });

  it("a per-minute limit is never exceeded across three isolates", async () => {
    const t = await makeTenant({ limits: { requests_per_minute: 30 } });
    const isolates = [isolate(), isolate(), isolate()];
    const statuses = await Promise.all(
      Array.from({ length: 90 }, async (_, i) => (await isolates[i % 3]!.fetchAs(t.secret, "/v1/models")).status),
    );
    const { ok, other } = tally(statuses);
    console.log(`requests_per_minute 30, 3 isolates, 90 requests: ${ok} admitted`);
    expect(other).toEqual([]);
    expect(ok).toBeLessThanOrEqual(30);
    expect(ok).toBeGreaterThanOrEqual(30 - 3 * 2);
  });

  it("an overloaded daily-cap counter answers 503 with Retry-After to every waiting create, and takes nothing", async () => {
    const t = await makeTenant({ widget: { per_ip_per_minute: 100, daily_cap: 100, per_ip_daily_cap: 1 } });
    const iso = isolate();
    const s = await visitorSession(iso, t, "198.51.100.80");
    iso.overloaded.add("day");
    const res = await Promise.all(Array.from({ length: 10 }, (_, i) => create(iso, t, s, `198.51.100.${80 + i}`)));
    for (const r of res) {
      expect(r.status).toBe(503);
      expect(r.headers.get("retry-after")).toBe("5");
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe("overloaded");
    }
    // Each address's one create of the day, taken by the first stage, was given back.
    iso.overloaded.clear();
    expect((await create(iso, t, s, "198.51.100.80")).status).toBe(200);
    expect((await create(iso, t, s, "198.51.100.80")).status).toBe(429);
  });

  it("a counter that does not answer holds its waiting requests no longer than RENEW_DEADLINE_MS, then 503", async () => {
    const t = await makeTenant({ limits: { requests_per_minute: 100 } });
    const iso = isolate();
    const counter = countCalls(RateCounter, ["lease"]);
    try {
      counter.hold("lease");
      const started = Date.now();
      const res = await Promise.all(Array.from({ length: 5 }, () => iso.fetchAs(t.secret, "/v1/models")));
      expect(Date.now() - started).toBeLessThan(RENEW_DEADLINE_MS + 2_000);
      for (const r of res) {
        expect(r.status).toBe(503);
        expect(r.headers.get("retry-after")).toBe("1");
        expect(((await r.json()) as { error: { code: string } }).error.code).toBe("temporarily_unavailable");
      }
      // One shared call, not five.
      expect(counter.calls.lease).toBe(1);
      counter.release();
      expect((await iso.fetchAs(t.secret, "/v1/models")).status).toBe(200);
    } finally {
      counter.restore();
    }
  });
});
