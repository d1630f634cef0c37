import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config";
import { encodeFileName, fileUrl, signLink, verifyLink, type LinkClaims, type LinkSecret } from "../../../src/links/token";

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
    const claims: LinkClaims = { ...base, containerId: "cntr_" + "ab".repeat(24), expiresAt: NOW / 1000 + 3600, variant: 2 };
    const token = await signLink(claims, secrets);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    const res = await verifyLink(token, secrets, NOW);
    expect(res).toEqual({ ok: true, claims, kid: secrets[0]!.kid });
  });

  it("round-trips arbitrary claims (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          { tenant: fc.string(), responseId: fc.string(), path: fc.string({ unit: "grapheme" }), containerId: fc.string(), expiresAt: fc.nat(), variant: fc.integer({ min: 1, max: 1000 }) },
          { requiredKeys: ["tenant", "responseId", "path"] },
        ),
        async (claims) => {
          const wellFormed = { ...claims, tenant: claims.tenant.toWellFormed(), responseId: claims.responseId.toWellFormed(), path: claims.path.toWellFormed() };
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

  it("refuses garbage", async () => {
    for (const bad of ["", "A", "!!!!", "AAAA", "a".repeat(9000), "AQ"]) {
      expect(await verifyLink(bad, secrets, NOW)).toEqual({ ok: false, reason: "malformed" });
    }
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
        if (name !== "" && name === name.toWellFormed() && name !== "." && name !== "..") expect(decodeURIComponent(enc)).toBe(name);
      }),
      { numRuns: 300 },
    );
  });
});
