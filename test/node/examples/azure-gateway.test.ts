/**
 * The Azure-style gateway setup from the README: unsandbox with UPSTREAM_AUTH_HEADER=api-key and
 * UPSTREAM_QUERY=api-version=…, in front of a gateway that accepts nothing else. The gateway (a
 * small Node server here) refuses any call without `api-key` and `api-version`, or with an
 * `Authorization` header, and forwards the rest to the simulator, which is reachable only through
 * it. A stored file therefore proves that the proxy's calls and the tracker's (listing, content)
 * all carried the options.
 */
import { createServer, type Server } from "node:http";
import { Readable } from "node:stream";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePorts } from "../../../scripts/lib/wrangler-dev.mjs";
import { startUnsandbox, type Unsandbox } from "../browser/support/unsandbox-process";
import { startSim, type SimProcess } from "../support/sim-process";

const GATEWAY_KEY = "gw-key-0123456789";
const API_VERSION = "2025-04-01-preview";

let sim: SimProcess;
let gateway: Server;
let unsandbox: Unsandbox;
const seen: { method: string; path: string; accepted: boolean }[] = [];

beforeAll(async () => {
  sim = await startSim();
  const [port] = (await freePorts(1)) as [number];
  gateway = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://gateway");
    const accepted =
      req.headers["api-key"] === GATEWAY_KEY &&
      url.searchParams.get("api-version") === API_VERSION &&
      req.headers.authorization === undefined;
    seen.push({ method: req.method ?? "", path: url.pathname, accepted });
    if (!accepted) {
      res.writeHead(401, { "content-type": "application/json" }).end(
        JSON.stringify({
          error: {
            message: "gateway: api-key and api-version required",
            type: "invalid_request_error",
            param: null,
            code: "401",
          },
        }),
      );
      return;
    }
    url.searchParams.delete("api-version");
    const headers = new Headers();
    for (const name of ["content-type", "accept", "range", "accept-encoding"]) {
      const v = req.headers[name];
      if (typeof v === "string") headers.set(name, v);
    }
    headers.set("authorization", `Bearer ${sim.apiKey}`);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const upstream = await fetch(`${sim.origin}${url.pathname}${url.search}`, {
      method: req.method,
      headers,
      body: req.method === "GET" || req.method === "HEAD" ? undefined : Buffer.concat(chunks),
    });
    const out: Record<string, string> = {};
    upstream.headers.forEach((v, k) => {
      // fetch() decoded the body already.
      if (k !== "content-encoding" && k !== "content-length" && k !== "transfer-encoding") out[k] = v;
    });
    res.writeHead(upstream.status, out);
    if (upstream.body) Readable.fromWeb(upstream.body as never).pipe(res);
    else res.end();
  });
  await new Promise<void>((resolve) => gateway.listen(port, "127.0.0.1", resolve));
  unsandbox = await startUnsandbox(() => ({
    OPENAI_API_KEY: GATEWAY_KEY,
    OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`,
    UPSTREAM_AUTH_HEADER: "api-key",
    UPSTREAM_QUERY: `api-version=${API_VERSION}`,
  }));
});

afterAll(async () => {
  await unsandbox?.stop();
  await new Promise((r) => gateway?.close(r));
  await sim?.stop();
});

describe("an Azure-style gateway (api-key header, api-version query)", () => {
  it("every upstream call, the tracker's included, carries both, and the file is stored", async () => {
    const client = new OpenAI({
      baseURL: `${unsandbox.origin}/v1`,
      apiKey: "usk_local_0123456789abcdef",
      maxRetries: 0,
    });
    const r = (await client.responses.create({
      model: "gpt-5",
      input: "One file.\nsim: scenario=one-file; files=gw.csv; quirks=-late_listing",
      tools: [{ type: "code_interpreter", container: { type: "auto" } }],
    })) as any;
    const file = r.unsandbox.files.find((f: any) => f.filename === "gw.csv");
    expect(file?.state, JSON.stringify(r.unsandbox.files)).toBe("stored");
    expect((await fetch(file.url)).status).toBe(200);

    expect(seen.filter((s) => !s.accepted)).toEqual([]);
    const paths = seen.map((s) => `${s.method} ${s.path}`);
    expect(paths).toContain("POST /v1/responses");
    expect(paths).toContain(`GET /v1/containers/${file.container_id}/files`);
    expect(paths).toContain(`GET /v1/containers/${file.container_id}/files/${file.file_id}/content`);
  });

  it("a pass-through call carries them too", async () => {
    const res = await fetch(`${unsandbox.origin}/v1/models`, {
      headers: { authorization: "Bearer usk_local_0123456789abcdef" },
    });
    expect(res.status).toBe(200);
    expect(seen.at(-1)).toEqual({ method: "GET", path: "/v1/models", accepted: true });
  });
});
