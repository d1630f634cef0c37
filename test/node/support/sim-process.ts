/**
 * @module test/node/support/sim-process
 * The simulated upstream as a real process: `wrangler dev -c sim/wrangler.toml` on a free port,
 * in a process group of its own so `stop()` ends workerd too. One per test file (2-core machines).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import {
  freePorts,
  startWranglerDev,
  waitUntilAnswering,
  type DevProcess,
} from "../../../scripts/lib/wrangler-dev.mjs";

export interface SimProcess {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** `<origin>/v1`, the SDK's baseURL. */
  baseURL: string;
  /** The bearer key this simulator accepts. */
  apiKey: string;
  /** An official SDK client for it (no retries, so a fault shows as it is). */
  client(options?: Partial<ConstructorParameters<typeof OpenAI>[0]>): OpenAI;
  /** Everything the process printed (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/** Starts the simulator and resolves once it answers HTTP. */
export async function startSim(apiKey = "sk-sim-node-tests"): Promise<SimProcess> {
  const [port, inspectorPort] = await freePorts(2);
  const persist = mkdtempSync(join(tmpdir(), "unsandbox-sim-"));
  const proc: DevProcess = startWranglerDev([
    "-c",
    "sim/wrangler.toml",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(inspectorPort),
    "--persist-to",
    persist,
    "--var",
    `SIM_API_KEY:${apiKey}`,
  ]);
  const origin = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await proc.stop();
    rmSync(persist, { recursive: true, force: true });
  };
  try {
    await waitUntilAnswering(`${origin}/v1/models`, proc, 150_000);
  } catch (err) {
    await stop();
    throw err;
  }
  const baseURL = `${origin}/v1`;
  return {
    origin,
    baseURL,
    apiKey,
    client: (options = {}) => new OpenAI({ apiKey, baseURL, maxRetries: 0, timeout: 60_000, ...options }),
    output: proc.output,
    stop,
  };
}
