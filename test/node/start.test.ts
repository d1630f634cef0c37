/**
 * The first run, as a newcomer does it: `npm start` with no OPENAI_API_KEY and no .dev.vars, then
 * the curl from the README's Quick start. It runs on ports of its own with a temporary persist
 * directory (PORT, SIM_PORT, UNSANDBOX_PERSIST_DIR), so it can run beside a developer's instance,
 * and UNSANDBOX_DEV_VARS points at a file that does not exist, so a developer's .dev.vars (maybe
 * with a real key) never reaches it.
 */
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { READY_LINE } from "../../scripts/lib/banner.mjs";
import { readDevVars } from "../../scripts/lib/dev-vars.mjs";
import { settingNames } from "../../scripts/lib/settings.mjs";
import { freePorts, REPO_ROOT } from "../../scripts/lib/wrangler-dev.mjs";

const README_ORIGIN = "http://127.0.0.1:8787";

/** The curl in the README's "Quick start" section: the first ```sh block there that starts with curl. */
function readmeCurl(): string {
  const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
  const section = readme.split(/^## /m).find((s) => s.startsWith("Quick start"));
  if (!section) throw new Error("README.md has no '## Quick start' section");
  for (const m of section.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const block = m[1]!.trim();
    if (block.startsWith("curl ")) return block;
  }
  throw new Error("README.md's Quick start has no ```sh block starting with curl");
}

/** Resolves true once nothing answers on `origin` any more (bounded). */
async function closed(origin: string): Promise<boolean> {
  for (let i = 0; i < 120; i++) {
    try {
      await fetch(origin, { signal: AbortSignal.timeout(2000) });
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

describe("first run: npm start, then the README's curl", () => {
  let npm: ChildProcess;
  let output = "";
  let origin = "";
  let simOrigin = "";
  let persist = "";
  let exited: Promise<number | null>;

  beforeAll(async () => {
    const [port, simPort] = await freePorts(2);
    origin = `http://127.0.0.1:${port}`;
    simOrigin = `http://127.0.0.1:${simPort}`;
    persist = mkdtempSync(join(tmpdir(), "unsandbox-first-run-"));
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of settingNames(readDevVars(join(REPO_ROOT, ".dev.vars.example")))) delete env[name];
    Object.assign(env, {
      PORT: String(port),
      SIM_PORT: String(simPort),
      UNSANDBOX_PERSIST_DIR: persist,
      UNSANDBOX_DEV_VARS: join(persist, "no.dev.vars"),
    });
    // Its own process group, like a terminal's job: Ctrl-C is a SIGINT to the whole group.
    npm = spawn("npm", ["start"], { cwd: REPO_ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    exited = new Promise((resolve) => npm.once("exit", (code) => resolve(code)));
    npm.stdout!.on("data", (c: Buffer) => (output += c.toString()));
    npm.stderr!.on("data", (c: Buffer) => (output += c.toString()));
    let gone = false;
    void exited.then(() => (gone = true));
    for (let i = 0; i < 600 && !output.includes("Ctrl-C stops everything."); i++) {
      if (gone) throw new Error(`npm start exited early:\n${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    if (!output.includes(READY_LINE)) throw new Error(`npm start printed no banner:\n${output}`);
  });

  afterAll(async () => {
    // Whatever happened, nothing of it may outlive the test.
    if (npm?.pid && npm.exitCode === null) {
      try {
        process.kill(-npm.pid, "SIGTERM");
      } catch {}
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      try {
        process.kill(-npm.pid, "SIGKILL");
      } catch {}
    }
    if (persist) rmSync(persist, { recursive: true, force: true });
  });

  it("prints where each part listens, the client key, and the README's curl", () => {
    expect(output).toContain(`unsandbox   ${origin}`);
    expect(output).toContain(`simulator   ${simOrigin}`);
    expect(output).toMatch(/client key {2}usk_\S{16,}/);
    const curl = readmeCurl();
    expect(curl).toContain(README_ORIGIN);
    expect(output).toContain(curl.replaceAll(README_ORIGIN, origin));
  });

  it("the README's curl gets a 200 response through unsandbox", async () => {
    // The README's command exactly, moved to this instance's port, plus a write-out of the status.
    const command = `${readmeCurl().replaceAll(README_ORIGIN, origin)} --write-out '\\n%{http_code}'`;
    let stdout = "";
    let stderr = "";
    try {
      ({ stdout, stderr } = await promisify(execFile)("bash", ["-c", command], { maxBuffer: 64 * 1024 * 1024 }));
    } catch (err) {
      // --fail-with-body: curl exits 22 on an HTTP error, with the body and status still printed.
      ({ stdout = "", stderr = "" } = err as { stdout?: string; stderr?: string });
    }
    const lines = stdout.trimEnd().split("\n");
    const status = lines.pop();
    expect(status, `${lines.join("\n")}\n${stderr}\n--- npm start printed:\n${output.slice(-4000)}`).toBe("200");
    const body = JSON.parse(lines.join("\n"));
    expect(body.object).toBe("response");
    expect(body.id).toMatch(/^resp_/);
    expect(body.status).toBe("completed");
    expect(body.output.some((o: { type: string }) => o.type === "message")).toBe(true);
    // Through unsandbox to the simulator it started: the simulator knows this very response.
    const truth = await fetch(`${simOrigin}/__sim/responses/${body.id}`);
    expect(truth.status).toBe(200);
    expect(((await truth.json()) as { id: string }).id).toBe(body.id);
  });

  it("prints no download token, session or key: a download shows up as /files/[token]/<name>", async () => {
    const key = /client key {2}(usk_\S{16,})/.exec(output)![1]!;
    const res = await fetch(`${origin}/v1/responses`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: "gpt-5",
        input: "sim: scenario=one-file",
        tools: [{ type: "code_interpreter", container: { type: "auto" } }],
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { unsandbox: { files: { url: string; filename: string }[] } };
    const url = body.unsandbox.files[0]!.url;
    const download = await fetch(url.replace(/^https?:\/\/[^/]+/, origin));
    expect(download.status).toBe(200);
    await download.arrayBuffer();
    const token = new URL(url).pathname.split("/")[2]!;
    // wrangler prints its request line once the answer is done; give it a moment to arrive.
    const childLines = () => output.split("\n").filter((l) => l.startsWith("[unsandbox]") || l.startsWith("[sim]"));
    for (let i = 0; i < 40 && !childLines().some((l) => l.includes("/files/")); i++)
      await new Promise((r) => setTimeout(r, 250));
    expect(
      output.includes(token),
      `the download token is printed:\n${childLines()
        .filter((l) => l.includes("/files/"))
        .join("\n")}`,
    ).toBe(false);
    expect(
      childLines().some((l) => l.includes("/files/[token]/")),
      output.slice(-3000),
    ).toBe(true);
    for (const line of childLines())
      expect(line).not.toMatch(/usk_[A-Za-z0-9]|pk_[A-Za-z0-9]|sk-[A-Za-z0-9]|vs1\.[A-Za-z0-9]/);
  });

  it("a second npm start on the same port says so and exits, leaving the first one serving", async () => {
    const port = new URL(origin).port;
    const second = await promisify(execFile)("npm", ["start"], {
      cwd: REPO_ROOT,
      env: { ...process.env, PORT: port, SIM_PORT: new URL(simOrigin).port },
    }).then(
      () => ({ code: 0, stderr: "" }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`127.0.0.1:${port} is already in use`);
    expect((await fetch(`${origin}/healthz`)).status).toBe(200);
  });

  it("Ctrl-C stops unsandbox and the simulator", async () => {
    process.kill(-npm.pid!, "SIGINT");
    await exited;
    expect(await closed(origin)).toBe(true);
    expect(await closed(simOrigin)).toBe(true);
  });
});
