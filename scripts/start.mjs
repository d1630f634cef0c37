// @ts-check
/**
 * `npm start`: serves unsandbox on 127.0.0.1:8787 with local R2 and Durable Objects, and, when no
 * OPENAI_API_KEY is set, the simulated OpenAI upstream (sim/) on 127.0.0.1:8788.
 *
 * Every setting comes from the process environment or `.dev.vars` (the environment wins) and is
 * passed to wrangler as `--var KEY:VALUE`: wrangler itself reads only `.dev.vars`, and the
 * process environment only when told to. Moves with PORT, SIM_PORT and UNSANDBOX_PERSIST_DIR
 * (and UNSANDBOX_DEV_VARS, the file to read instead of .dev.vars), so that tests and benchmarks
 * can run an instance beside a developer's own.
 */
import { join, resolve } from "node:path";
import { bannerOf } from "./lib/banner.mjs";
import { readDevVars } from "./lib/dev-vars.mjs";
import { redactLine } from "./lib/redact.mjs";
import { planStart, settingNames, SIM_API_KEY, varArgs } from "./lib/settings.mjs";
import { freePorts, portInUse, REPO_ROOT, startWranglerDev, waitUntilAnswering } from "./lib/wrangler-dev.mjs";

const devVarsPath = resolve(REPO_ROOT, process.env.UNSANDBOX_DEV_VARS || ".dev.vars");
const names = settingNames(readDevVars(resolve(REPO_ROOT, ".dev.vars.example")));
const plan = planStart(process.env, readDevVars(devVarsPath), names);
const origin = `http://127.0.0.1:${plan.port}`;
const simOrigin = `http://127.0.0.1:${plan.simPort}`;

/**
 * Prefixes each line of a child's output so the two logs stay readable side by side, with every
 * download token, visitor session and key in it redacted (scripts/lib/redact.mjs).
 */
const prefixer = (/** @type {string} */ tag) => {
  let partial = "";
  return (/** @type {string} */ chunk) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) process.stdout.write(`[${tag}] ${redactLine(line)}\n`);
  };
};

/** @type {import("./lib/wrangler-dev.mjs").DevProcess[]} */
const children = [];
let stopping = false;

async function stopAll(/** @type {number} */ code) {
  if (stopping) return;
  stopping = true;
  await Promise.all(children.map((c) => c.stop()));
  process.exit(code);
}

for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM", "SIGHUP"])) {
  process.on(signal, () => void stopAll(0));
}
// Last resort (an uncaught error, process.exit elsewhere): the groups must not outlive us.
process.on("exit", () => children.forEach((c) => c.killNow()));

// A busy port would only show up as a wrangler stack trace: say it plainly, with the way out.
for (const [name, port, wanted] of /** @type {const} */ ([
  ["PORT", plan.port, true],
  ["SIM_PORT", plan.simPort, plan.useSim],
])) {
  if (wanted && (await portInUse(port))) {
    console.error(
      `127.0.0.1:${port} is already in use (another npm start?). Stop it, or choose another port: ${name}=<port> npm start`,
    );
    process.exit(1);
  }
}

// Each wrangler dev also opens a devtools inspector port. Left to itself, each picks the first
// free one from 9229, and two started together pick the same one and one of them dies with
// "Address already in use": hand each a distinct free port instead.
const [inspectorPort, simInspectorPort] = await freePorts(2);

const sim = plan.useSim
  ? startWranglerDev(
      [
        "-c",
        "sim/wrangler.toml",
        "--ip",
        "127.0.0.1",
        "--port",
        String(plan.simPort),
        "--inspector-port",
        String(simInspectorPort),
        "--persist-to",
        join(plan.persistTo, "sim"),
        "--var",
        `SIM_API_KEY:${SIM_API_KEY}`,
      ],
      { onOutput: prefixer("sim") },
    )
  : null;
if (sim) children.push(sim);

const unsandbox = startWranglerDev(
  [
    "--ip",
    "127.0.0.1",
    "--port",
    String(plan.port),
    "--inspector-port",
    String(inspectorPort),
    "--persist-to",
    plan.persistTo,
    ...varArgs(plan.vars),
  ],
  { onOutput: prefixer("unsandbox") },
);
children.push(unsandbox);

// Either child dying on its own ends `npm start`, with the other stopped too.
for (const child of children) {
  void child.exited.then((code) => {
    if (stopping) return;
    console.error(`\nwrangler dev (pid ${child.pid}) exited with code ${code}; stopping.`);
    void stopAll(1);
  });
}

/** @type {{ status: number, body: string } | undefined} */
let health;
try {
  [health] = await Promise.all([
    waitUntilAnswering(`${origin}/healthz`, unsandbox),
    sim ? waitUntilAnswering(`${simOrigin}/v1/models`, sim) : Promise.resolve(),
  ]);
} catch (err) {
  if (!stopping) console.error(String(err instanceof Error ? err.message : err));
  await stopAll(1);
  // Already stopping on another path (a child exited): no banner; stopAll ends the process.
  await new Promise(() => {});
}

// /healthz passes through the configuration check, so a bad setting shows up here, by name.
if (health && health.status !== 200) {
  console.error(`\nunsandbox answers ${health.status} on /healthz: ${health.body}\n`);
}

process.stdout.write(bannerOf(plan, { origin, simOrigin, simKey: SIM_API_KEY }));
