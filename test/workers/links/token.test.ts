import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config";
import { fromBase64Url } from "../../../src/encoding/base64url";
import {
  encodeFileName,
  fileUrl,
  signLink,
  verifyLink,
  verifyLinkCached,
  type LinkClaims,
  type LinkSecret,
} from "../../../src/links/token";

const secrets = loadConfig(env).LINK_SECRETS;
const NOW = Date.UTC(2026, 10, 25);
const base: LinkClaims = { tenant: "default", responseId: "resp_0123456789abcdef", path: "/mnt/data/report 2026.csv" };

function flipChar(token: string, at: number): string {
  const c = token[at]!;
  const next = c === "A" ? "B" : "A";
  return token.slice(0, at) + next + token.slice(at + 1);
}

describe("link tokens", () => {
  it("round-trips every claim and names the signing key", async () => {
    const claims: LinkClaims = {
      ...base,
      containerId: "cntr_" + "ab".repeat(24),
      expiresAt: NOW / 1000 + 3600,
      variant: 2,
    };
    const token = await signLink(claims, secrets);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    const res = await verifyLink(token, secrets, NOW);
    expect(res).toEqual({ ok: true, claims, kid: secrets[0]!.kid });
  });

  it("round-trips arbitrary claims (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            tenant: fc.string(),
            responseId: fc.string(),
            path: fc.string({ unit: "grapheme" }),
            containerId: fc.string(),
            expiresAt: fc.nat(),
            variant: fc.integer({ min: 1, max: 1000 }),
          },
          { requiredKeys: ["tenant", "responseId", "path"] },
        ),
        async (claims) => {
          const wellFormed = {
            ...claims,
            tenant: claims.tenant.toWellFormed(),
            responseId: claims.responseId.toWellFormed(),
            path: claims.path.toWellFormed(),
          };
          if (wellFormed.containerId !== undefined) wellFormed.containerId = wellFormed.containerId.toWellFormed();
          const res = await verifyLink(await signLink(wellFormed, secrets), secrets, -1);
          expect(res).toEqual({ ok: true, claims: wellFormed, kid: "k2" });
        },
      ),
      { numRuns: 100 },
    );
  });

  it("refuses a tampered payload or MAC", async () => {
    const token = await signLink(base, secrets);
    // Every position: a changed byte anywhere is either malformed or a bad signature, never ok.
    for (let at = 0; at < token.length; at++) {
      const res = await verifyLink(flipChar(token, at), secrets, NOW);
      expect(res.ok, `flip at ${at}`).toBe(false);
      if (!res.ok) expect(["malformed", "bad_signature", "unknown_key"]).toContain(res.reason);
    }
    // A change inside the path bytes keeps the shape and fails only the MAC.
    const res = await verifyLink(flipChar(token, 20), secrets, NOW);
    expect(res).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("refuses a token signed with a key that is not configured", async () => {
    const foreign: LinkSecret[] = [{ kid: "k9", secret: "x".repeat(40) }];
    const res = await verifyLink(await signLink(base, foreign), secrets, NOW);
    expect(res).toEqual({ ok: false, reason: "unknown_key" });
  });

  it("refuses a known key id with the wrong secret", async () => {
    const impostor: LinkSecret[] = [{ kid: "k1", secret: "not-the-real-secret-0123456789abcdef" }];
    const res = await verifyLink(await signLink(base, impostor), secrets, NOW);
    expect(res).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("refuses an expired token and accepts it before expiry", async () => {
    const token = await signLink({ ...base, expiresAt: NOW / 1000 + 60 }, secrets);
    expect((await verifyLink(token, secrets, NOW + 59_999)).ok).toBe(true);
    expect(await verifyLink(token, secrets, NOW + 60_000)).toEqual({ ok: false, reason: "expired" });
  });

  it("accepts links signed by a rotated-out key while it is still listed", async () => {
    const old = [secrets[1]!];
    const token = await signLink(base, old);
    const res = await verifyLink(token, secrets, NOW);
    expect(res).toMatchObject({ ok: true, kid: secrets[1]!.kid, claims: base });
    expect(await verifyLink(token, [secrets[0]!], NOW)).toEqual({ ok: false, reason: "unknown_key" });
  });

  it("a held verification (verifyLinkCached) still expires, still needs its key listed, and holds no refusal", async () => {
    const token = await signLink({ ...base, expiresAt: NOW / 1000 + 60 }, secrets);
    expect(await verifyLinkCached(token, secrets, NOW)).toMatchObject({ ok: true, claims: { ...base } });
    expect(await verifyLinkCached(token, secrets, NOW + 59_999)).toMatchObject({ ok: true });
    // Held, and refused once its time is up all the same.
    expect(await verifyLinkCached(token, secrets, NOW + 60_000)).toEqual({ ok: false, reason: "expired" });
    // Another list of secrets (a key removed) is another memory: the token is opened against it.
    expect(await verifyLinkCached(token, [{ kid: "k9", secret: "x".repeat(40) }], NOW)).toEqual({
      ok: false,
      reason: "unknown_key",
    });
    // A tampered token is refused every time (refusals are not kept).
    const bad = flipChar(token, token.length - 3);
    expect((await verifyLinkCached(bad, secrets, NOW)).ok).toBe(false);
    expect((await verifyLinkCached(bad, secrets, NOW)).ok).toBe(false);
    // What it hands out cannot be changed by a caller for the next one.
    const held = await verifyLinkCached(token, secrets, NOW);
    if (!held.ok) throw new Error("expected ok");
    expect(() => Object.assign(held.claims, { path: "/mnt/data/other" })).toThrow();
  });

  it("refuses garbage", async () => {
    for (const bad of ["", "A", "!!!!", "AAAA", "a".repeat(9000), "AQ"]) {
      expect(await verifyLink(bad, secrets, NOW)).toEqual({ ok: false, reason: "malformed" });
    }
  });
});

/** Whether `needle`'s UTF-8 bytes occur anywhere in `hay`. */
function containsBytes(hay: Uint8Array, needle: string): boolean {
  const n = new TextEncoder().encode(needle);
  outer: for (let i = 0; i + n.length <= hay.length; i++) {
    for (let j = 0; j < n.length; j++) if (hay[i + j] !== n[j]) continue outer;
    return true;
  }
  return false;
}

describe("link tokens reveal nothing", () => {
  it("carry neither the tenant, the response id, the path nor the container id, in any form", async () => {
    const cases: LinkClaims[] = [
      {
        tenant: "default",
        responseId: "resp_0123456789abcdef",
        path: "/mnt/data/report.csv",
        containerId: "cntr_69a0b1c2d3e4f5",
      },
      // Low-entropy ids are the ones a reader would guess and search for.
      { tenant: "acme", responseId: "resp_1", path: "/mnt/data/a.csv" },
      { tenant: "aaaaaaaa", responseId: "resp_aaaaaaaa", path: "/mnt/data/aaaa" },
    ];
    for (const claims of cases) {
      const token = await signLink(claims, secrets);
      const bytes = fromBase64Url(token)!;
      for (const secret of [
        claims.tenant,
        claims.responseId,
        claims.path,
        claims.path.slice(claims.path.lastIndexOf("/") + 1),
        claims.containerId,
        "resp_",
        "/mnt/data",
      ]) {
        if (!secret) continue;
        expect(containsBytes(bytes, secret), `${secret} in ${token}`).toBe(false);
        expect(token.includes(secret), `${secret} in ${token}`).toBe(false);
      }
      expect(await verifyLink(token, secrets, NOW)).toMatchObject({ ok: true, claims });
    }
  });

  it("are the same for the same claims and of one length for paths of similar length", async () => {
    const a = await signLink(base, secrets);
    expect(await signLink(base, secrets)).toBe(a);
    const other = await signLink({ ...base, tenant: "someone-else", path: "/mnt/data/x.csv" }, secrets);
    expect(other).not.toBe(a);
    expect(other.length).toBe(a.length);
  });

  it("stay bounded: a long path seals well under the size the verifier accepts", async () => {
    const token = await signLink(
      { ...base, path: "/mnt/data/" + "é".repeat(1000), containerId: "cntr_" + "a".repeat(64), expiresAt: 2 ** 40 },
      secrets,
    );
    expect(token.length).toBeLessThan(3200);
    expect((await verifyLink(token, secrets, NOW)).ok).toBe(true);
  });

  it("refuses a token whose sealed bytes or key id were moved or changed", async () => {
    const bytes = fromBase64Url(await signLink(base, secrets))!;
    // The key id is authenticated: relabelling k2's token as k1 fails even though k1 is listed.
    const relabelled = Uint8Array.from(bytes);
    relabelled[3] = "1".charCodeAt(0);
    expect(await verifyLink(toB64(relabelled), secrets, NOW)).toEqual({ ok: false, reason: "bad_signature" });
    for (const at of [bytes.length - 1, bytes.length - 20, 10]) {
      const changed = Uint8Array.from(bytes);
      changed[at]! ^= 1;
      expect(await verifyLink(toB64(changed), secrets, NOW), `byte ${at}`).toEqual({
        ok: false,
        reason: "bad_signature",
      });
    }
    expect(await verifyLink(toB64(bytes.subarray(0, bytes.length - 1)), secrets, NOW)).toMatchObject({ ok: false });
  });
});

const toB64 = (b: Uint8Array) =>
  btoa(String.fromCharCode(...b))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");

describe("links shared before tokens were encrypted (v1, signed)", () => {
  // Minted by the v1 signer with the test LINK_SECRETS (vitest.config.ts) before v2 existed.
  const V1_K2 =
    "AQUHZGVmYXVsdBVyZXNwXzAxMjM0NTY3ODlhYmNkZWYZL21udC9kYXRhL3JlcG9ydCAyMDI2LmNzdghjbnRyX2FiYwECazI-oA_xqNlbuCu_RiHylILUvKgD4RmXj1_PqC6psTUnmg";
  const V1_K1_EXPIRING =
    "AQIHZGVmYXVsdBVyZXNwXzAxMjM0NTY3ODlhYmNkZWYZL21udC9kYXRhL3JlcG9ydCAyMDI2LmNzdsCN9tcGAmsxwDn37TceO-WS7Qdw_NQ_258mYPLRVaOVa7FIWxitevY";

  it("still verify, with every claim, under the key that signed them", async () => {
    expect(await verifyLink(V1_K2, secrets, NOW)).toEqual({
      ok: true,
      kid: "k2",
      claims: { ...base, containerId: "cntr_abc", variant: 1 },
    });
    expect(await verifyLink(V1_K1_EXPIRING, secrets, 1_794_999_999_000)).toEqual({
      ok: true,
      kid: "k1",
      claims: { ...base, expiresAt: 1_795_000_000 },
    });
  });

  it("still expire, fail when tampered with, and stop when their key is removed", async () => {
    expect(await verifyLink(V1_K1_EXPIRING, secrets, 1_795_000_000_000)).toEqual({ ok: false, reason: "expired" });
    expect(await verifyLink(flipChar(V1_K2, 20), secrets, NOW)).toEqual({ ok: false, reason: "bad_signature" });
    expect(await verifyLink(V1_K1_EXPIRING, [secrets[0]!], 0)).toEqual({ ok: false, reason: "unknown_key" });
  });
});

describe("fileUrl", () => {
  it("encodes the name into unreserved characters and %XX only", () => {
    const url = fileUrl("https://files.unsandbox.test", "TOKEN", "a (1)!'*~.csv");
    expect(url).toBe("https://files.unsandbox.test/files/TOKEN/a%20%281%29%21%27%2A~.csv");
    expect(fileUrl("https://o.test/", "T", "Ü🎲.png")).toBe("https://o.test/files/T/%C3%9C%F0%9F%8E%B2.png");
  });

  it("keeps dot segments from being collapsed", () => {
    for (const name of [".", ".."]) {
      expect(new URL(fileUrl("https://o.test", "T", name)).pathname).toBe("/files/T/download");
    }
  });

  it("never yields a character outside the unreserved set (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (name) => {
        const enc = encodeFileName(name);
        expect(enc).toMatch(/^(?:[A-Za-z0-9\-._~]|%[0-9A-F]{2})+$/);
        if (name !== "" && name === name.toWellFormed() && name !== "." && name !== "..")
          expect(decodeURIComponent(enc)).toBe(name);
      }),
      { numRuns: 300 },
    );
  });
});
