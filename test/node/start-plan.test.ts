/**
 * What `npm start` decides before it starts anything (scripts/lib/settings.mjs, dev-vars.mjs):
 * which settings win, when the simulator runs, the `--var` arguments wrangler receives, and the
 * banner it prints in each mode (scripts/lib/banner.mjs): keys and a curl that work in that mode.
 */
import { describe, expect, it } from "vitest";
import { bannerOf } from "../../scripts/lib/banner.mjs";
import { parseDotEnv } from "../../scripts/lib/dev-vars.mjs";
import { planStart, SETTING_NAMES, settingNames, SIM_API_KEY, varArgs } from "../../scripts/lib/settings.mjs";

describe("npm start's plan", () => {
  it("with nothing set: the simulator, its key and URL, and a local default for every other setting", () => {
    const plan = planStart({}, {});
    expect(plan.useSim).toBe(true);
    expect(plan.port).toBe(8787);
    expect(plan.simPort).toBe(8788);
    expect(plan.persistTo).toBe(".wrangler/state");
    expect(plan.vars.OPENAI_API_KEY).toBe(SIM_API_KEY);
    expect(plan.vars.OPENAI_BASE_URL).toBe("http://127.0.0.1:8788/v1");
    expect(plan.vars.PUBLIC_FILES_ORIGIN).toBe("http://127.0.0.1:8787");
    expect(Object.keys(plan.vars).sort()).toEqual([
      "LINK_SECRETS",
      "OPENAI_API_KEY",
      "OPENAI_BASE_URL",
      "PUBLIC_FILES_ORIGIN",
      "UNSANDBOX_ALLOWED_ORIGINS",
      "UNSANDBOX_API_KEY",
      "UNSANDBOX_PUBLISHABLE_KEY",
    ]);
    expect(plan.defaulted).not.toContain("OPENAI_API_KEY");
  });

  it("the environment wins over .dev.vars, setting by setting", () => {
    const devVars = parseDotEnv(
      "OPENAI_API_KEY=sk-from-file\nUNSANDBOX_API_KEY=usk_from_file_0123456789\nLINK_SECRETS=f:file-secret-0123456789abcdef0123456789\n",
    );
    const plan = planStart({ OPENAI_API_KEY: "sk-from-env", OPENAI_BASE_URL: "https://upstream.example/v1" }, devVars);
    expect(plan.useSim).toBe(false);
    expect(plan.vars.OPENAI_API_KEY).toBe("sk-from-env");
    expect(plan.vars.OPENAI_BASE_URL).toBe("https://upstream.example/v1");
    expect(plan.vars.UNSANDBOX_API_KEY).toBe("usk_from_file_0123456789");
    expect(plan.vars.LINK_SECRETS).toBe("f:file-secret-0123456789abcdef0123456789");
    expect(plan.defaulted).toEqual(expect.arrayContaining(["PUBLIC_FILES_ORIGIN", "UNSANDBOX_PUBLISHABLE_KEY"]));
    expect(plan.defaulted).not.toContain("UNSANDBOX_API_KEY");
  });

  it("a key copied verbatim from .dev.vars.example is a placeholder: the simulator runs", () => {
    const plan = planStart({}, parseDotEnv("OPENAI_API_KEY=sk-...\nOPENAI_BASE_URL=https://api.openai.com/v1\n"));
    expect(plan.useSim).toBe(true);
    expect(plan.vars.OPENAI_BASE_URL).toBe("http://127.0.0.1:8788/v1");
  });

  it("PORT, SIM_PORT and UNSANDBOX_PERSIST_DIR move the instance and its defaults", () => {
    const plan = planStart({ PORT: "9100", SIM_PORT: "9101", UNSANDBOX_PERSIST_DIR: "/tmp/x" }, {});
    expect(plan.vars.PUBLIC_FILES_ORIGIN).toBe("http://127.0.0.1:9100");
    expect(plan.vars.UNSANDBOX_ALLOWED_ORIGINS).toBe("http://127.0.0.1:9100,http://localhost:9100");
    expect(plan.vars.OPENAI_BASE_URL).toBe("http://127.0.0.1:9101/v1");
    expect(plan.persistTo).toBe("/tmp/x");
    expect(() => planStart({ PORT: "http" }, {})).toThrow(/PORT must be a port number/);
  });

  it("passes every setting that is set, known by name or listed in .dev.vars.example, and nothing else", () => {
    const names = settingNames({ OPENAI_API_KEY: "sk-...", SOME_NEW_SETTING: "x" });
    expect(names).toEqual(expect.arrayContaining([...SETTING_NAMES, "SOME_NEW_SETTING"]));
    const plan = planStart(
      { SOME_NEW_SETTING: "from-env", UNSANDBOX_MODE: "multi-tenant", HOME: "/root" },
      { ADMIN_SECRET: "a".repeat(32) },
      names,
    );
    expect(plan.vars.SOME_NEW_SETTING).toBe("from-env");
    expect(plan.vars.UNSANDBOX_MODE).toBe("multi-tenant");
    expect(plan.vars.ADMIN_SECRET).toBe("a".repeat(32));
    expect(plan.vars.HOME).toBeUndefined();
  });

  it("--var arguments keep values with colons whole (wrangler splits at the first colon)", () => {
    const args = varArgs({ LINK_SECRETS: "k1:abc:def", OPENAI_BASE_URL: "http://127.0.0.1:1/v1" });
    expect(args).toEqual(["--var", "LINK_SECRETS:k1:abc:def", "--var", "OPENAI_BASE_URL:http://127.0.0.1:1/v1"]);
  });

  it("reads dotenv syntax: comments, export, quotes, inline comments", () => {
    expect(
      parseDotEnv(
        `# a comment\nexport A=1\nB="two words"\nC='single # not a comment'\nD=plain # comment\nE="line\\nbreak"\n\nnot a line\n`,
      ),
    ).toEqual({ A: "1", B: "two words", C: "single # not a comment", D: "plain", E: "line\nbreak" });
  });

  describe("the banner tells the truth in every mode", () => {
    const where = { origin: "http://127.0.0.1:9100", simOrigin: "http://127.0.0.1:9101", simKey: SIM_API_KEY };
    const bannerFor = (env: Record<string, string>) => bannerOf(planStart(env, {}), where);
    const DEMO_KEYS = ["usk_local_0123456789abcdef", "pk_local_demo"];

    it("single-tenant (the default): the demo keys and a curl that uses the client key", () => {
      for (const text of [bannerFor({}), bannerFor({ UNSANDBOX_MODE: "single-tenant" })]) {
        expect(text).toContain("  mode        single-tenant");
        expect(text).toContain("  client key  usk_local_0123456789abcdef");
        expect(text).toContain("  widget key  pk_local_demo");
        expect(text).toContain('-H "Authorization: Bearer usk_local_0123456789abcdef"');
        expect(text).not.toContain("npm run tenants");
      }
    });

    it("multi-tenant: no demo key; how to make a tenant and a key with ADMIN_SECRET, and a curl with that key", () => {
      const text = bannerFor({ UNSANDBOX_MODE: "multi-tenant", ADMIN_SECRET: "a".repeat(32) });
      expect(text).toContain("  mode        multi-tenant");
      for (const key of DEMO_KEYS) expect(text).not.toContain(key);
      expect(text).toContain("export UNSANDBOX_URL=http://127.0.0.1:9100 ADMIN_SECRET=");
      expect(text).toContain('npm run tenants -- create "Acme" --id acme');
      expect(text).toContain("npm run tenants -- key acme secret");
      expect(text).toContain('-H "Authorization: Bearer $UNSANDBOX_KEY"');
      // The secret itself is the operator's: never printed.
      expect(text).not.toContain("a".repeat(32));
      expect(bannerFor({ UNSANDBOX_MODE: "multi-tenant" })).toMatch(/ADMIN_SECRET is not set, so the admin API is off/);
    });

    it("pass-through: no demo key; callers send their own OpenAI key (the simulator's own while it runs)", () => {
      const simulated = bannerFor({ UNSANDBOX_MODE: "pass-through" });
      const real = bannerFor({ UNSANDBOX_MODE: "pass-through", OPENAI_API_KEY: "sk-real-key-of-the-operator" });
      for (const text of [simulated, real]) {
        expect(text).toContain("  mode        pass-through");
        expect(text).toContain("Callers send their own OpenAI key");
        for (const key of DEMO_KEYS) expect(text).not.toContain(key);
      }
      expect(simulated).toContain(`-H "Authorization: Bearer ${SIM_API_KEY}"`);
      expect(real).toContain('-H "Authorization: Bearer $OPENAI_API_KEY"');
      expect(real).not.toContain("sk-real-key-of-the-operator");
    });
  });
});
