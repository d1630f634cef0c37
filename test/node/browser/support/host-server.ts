/**
 * @module test/node/browser/support/host-server
 * A host site: a tiny Node HTTP server on its own origin that serves one page with the headers
 * (e.g. a strict CSP) a test gives it, and records every request it receives.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";

export interface HostServer {
  origin: string;
  /** Requests received, as `METHOD /path?query`. */
  hits: string[];
  /** Sets what `GET /` answers. */
  page(html: string, headers?: Record<string, string>): void;
  close(): Promise<void>;
}

export type Handler = (req: {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}) =>
  | { status?: number; headers?: Record<string, string>; body: string | Uint8Array | AsyncIterable<string> }
  | undefined;

export async function startHost(port: number, handler?: Handler): Promise<HostServer> {
  let html = "<!doctype html><title>empty</title>";
  let pageHeaders: Record<string, string> = {};
  const hits: string[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    hits.push(`${req.method} ${req.url}`);
    const custom = handler?.({
      method: req.method ?? "GET",
      url: req.url ?? "/",
      headers: req.headers,
      body: Buffer.concat(chunks).toString("utf8"),
    });
    if (custom) {
      res.writeHead(custom.status ?? 200, custom.headers ?? {});
      if (typeof custom.body === "string" || custom.body instanceof Uint8Array) res.end(custom.body);
      else {
        for await (const part of custom.body) res.write(part);
        res.end();
      }
      return;
    }
    if (req.url === "/" && req.method === "GET") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", ...pageHeaders });
      res.end(html);
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found");
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${port}`,
    hits,
    page(h, headers = {}) {
      html = h;
      pageHeaders = headers;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
