/**
 * The pure cores of tenant state: who may use an owned id (tenants/ownership.ts), sealed upstream
 * keys (tenants/sealed-key.ts) and which keys are sealed for the work after a request
 * (tenants/store.ts).
 */
import { describe, expect, it } from "vitest";
import { seal, unseal } from "../../../src/tenants/sealed-key";
import { mayUse } from "../../../src/tenants/ownership";

describe("mayUse", () => {
  const secret = { tenant: "a", kind: "secret" as const, unknownIdsAllowed: false };
  const v1 = { tenant: "a", kind: "publishable" as const, visitor: "v1", unknownIdsAllowed: false };
  it("a tenant's servers use all its ids, a visitor only its own, nobody another tenant's", () => {
    expect(mayUse(secret, { tenant: "a", visitor: "v1" })).toBe(true);
    expect(mayUse(secret, { tenant: "b" })).toBe(false);
    expect(mayUse(v1, { tenant: "a", visitor: "v1" })).toBe(true);
    expect(mayUse(v1, { tenant: "a", visitor: "v2" })).toBe(false);
    expect(mayUse(v1, { tenant: "a" })).toBe(false);
    expect(mayUse(secret, null)).toBe(false);
    expect(mayUse({ ...secret, unknownIdsAllowed: true }, null)).toBe(true);
  });
});

describe("sealed upstream keys", () => {
  const k1 = { kid: "old", secret: "o".repeat(32) };
  const k2 = { kid: "new", secret: "n".repeat(32) };
  it("opens with any listed key id, so the encryption secret can rotate", async () => {
    const sealedOld = await seal("sk-123", "t1", [k1]);
    expect(await unseal(sealedOld, "t1", [k2, k1])).toBe("sk-123");
    await expect(unseal(sealedOld, "t1", [k2])).rejects.toThrow(/not configured/);
    const tampered = sealedOld.slice(0, -3) + (sealedOld.endsWith("AAA") ? "BBB" : "AAA");
    await expect(unseal(tampered, "t1", [k1])).rejects.toThrow(/does not decrypt/);
  });
});

describe("sealForLaterWork", () => {
  it("seals pass-through keys other than the deployment's, for their own tenant only", async () => {
    const { sealForLaterWork } = await import("../../../src/tenants/store");
    const keys = [{ kid: "p1", secret: "p".repeat(32) }];
    const config = { OPENAI_API_KEY: "sk-deployment", TENANT_KEY_ENCRYPTION_KEYS: keys } as never;
    expect(
      await sealForLaterWork(config, { mode: "pass-through", tenant: "pt_dep", upstreamKey: "sk-deployment" }),
    ).toBeNull();
    // A multi-tenant tenant's own key stays in the directory, where an admin can rotate it.
    expect(await sealForLaterWork(config, { mode: "multi-tenant", tenant: "acme", upstreamKey: "sk-acme" })).toBeNull();
    const sealed = (await sealForLaterWork(config, {
      mode: "pass-through",
      tenant: "pt_abc",
      upstreamKey: "sk-callers-own",
    }))!;
    expect(sealed).not.toContain("sk-callers-own");
    expect(await unseal(sealed, "pt_abc", keys)).toBe("sk-callers-own");
    await expect(unseal(sealed, "pt_other", keys)).rejects.toThrow();
  });
});
