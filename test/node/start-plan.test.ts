/**
 * What `npm start` decides before it starts anything (scripts/lib/settings.mjs, dev-vars.mjs):
 * which settings win, when the simulator runs, and the `--var` arguments wrangler receives.
 */
import { describe, expect, it } from "vitest";
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
    expect(Object.keys(plan.vars).sort()).toEqual(
      ["LINK_SECRETS", "OPENAI_API_KEY", "OPENAI_BASE_URL", "PUBLIC_FILES_ORIGIN", "UNSANDBOX_ALLOWED_ORIGINS", "UNSANDBOX_API_KEY", "UNSANDBOX_PUBLISHABLE_KEY"],
    );
    expect(plan.defaulted).not.toContain("OPENAI_API_KEY");
  });

  it("the environment wins over .dev.vars, setting by setting", () => {
    const devVars = parseDotEnv("OPENAI_API_KEY=sk-from-file\nUNSANDBOX_API_KEY=usk_from_file_0123456789\nLINK_SECRETS=f:file-secret-0123456789abcdef0123456789\n");
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
    const plan = planStart({ SOME_NEW_SETTING: "from-env", UNSANDBOX_MODE: "multi-tenant", HOME: "/root" }, { ADMIN_SECRET: "a".repeat(32) }, names);
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
      parseDotEnv(`# a comment\nexport A=1\nB="two words"\nC='single # not a comment'\nD=plain # comment\nE="line\\nbreak"\n\nnot a line\n`),
    ).toEqual({ A: "1", B: "two words", C: "single # not a comment", D: "plain", E: "line\nbreak" });
  });
});
