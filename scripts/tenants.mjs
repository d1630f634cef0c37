#!/usr/bin/env node
// The admin API from a terminal: create, list, update, rotate and revoke tenants and keys.
// Talks to a running unsandbox (UNSANDBOX_URL, default http://127.0.0.1:8787) with ADMIN_SECRET.
// Keys are printed once, when created or rotated; unsandbox keeps only their hashes.
//
//   npm run tenants -- list
//   npm run tenants -- create "Acme" [--id acme] [--upstream-key sk-…] [--rpm 600]
//   npm run tenants -- show acme
//   npm run tenants -- update acme [--name "Acme Inc"] [--upstream-key sk-… | --deployment-key] [--rpm 600]
//   npm run tenants -- revoke acme
//   npm run tenants -- key acme secret [--rpm 120]
//   npm run tenants -- key acme publishable --origin https://shop.acme.example [--origin …] [--daily-cap 1000]
//        [--per-ip 20] [--per-ip-daily 100] [--max-output-tokens 32768] [--memory 1g] [--instructions "…"]
//        [--model gpt-5-mini] [--session-ttl 1800]
//   npm run tenants -- rotate acme key_…
//   npm run tenants -- revoke-key acme key_…
import { parseArgs } from "node:util";

const USAGE = `usage: npm run tenants -- <list|create|show|update|revoke|key|rotate|revoke-key> … (see scripts/tenants.mjs)`;

/** @param {string | undefined} v */
const int = (v) => (v === undefined ? undefined : Number.parseInt(v, 10));

/**
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 */
async function admin(method, path, body) {
  const base = (process.env.UNSANDBOX_URL ?? "http://127.0.0.1:8787").replace(/\/+$/, "");
  const secret = process.env.ADMIN_SECRET;
  if (!secret) throw new Error("ADMIN_SECRET is not set (the admin secret of the unsandbox you talk to)");
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${secret}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text}`);
  return JSON.parse(text);
}

/** @param {Record<string, string | undefined>} v */
function limits(v) {
  return v.rpm === undefined ? {} : { requests_per_minute: int(v.rpm) };
}

/** @param {string[]} argv */
export async function main(argv) {
  const { values: v, positionals: p } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      id: { type: "string" },
      name: { type: "string" },
      "upstream-key": { type: "string" },
      "deployment-key": { type: "boolean" },
      rpm: { type: "string" },
      origin: { type: "string", multiple: true },
      "daily-cap": { type: "string" },
      "per-ip": { type: "string" },
      "per-ip-daily": { type: "string" },
      "max-output-tokens": { type: "string" },
      memory: { type: "string" },
      instructions: { type: "string" },
      model: { type: "string" },
      "session-ttl": { type: "string" },
    },
  });
  const [command, a, b] = p;
  const t = encodeURIComponent(a ?? "");
  const single = /** @type {Record<string, string | undefined>} */ ({ rpm: v.rpm });
  switch (command) {
    case "list":
      return admin("GET", "/admin/tenants");
    case "create":
      if (!a) throw new Error("create needs a name");
      return admin("POST", "/admin/tenants", {
        name: a,
        ...(v.id ? { id: v.id } : {}),
        ...(v["upstream-key"] ? { upstream_key: v["upstream-key"] } : {}),
        limits: limits(single),
      });
    case "show":
      return admin("GET", `/admin/tenants/${t}`);
    case "update":
      return admin("PATCH", `/admin/tenants/${t}`, {
        ...(v.name ? { name: v.name } : {}),
        ...(v["upstream-key"]
          ? { upstream_key: v["upstream-key"] }
          : v["deployment-key"]
            ? { upstream_key: null }
            : {}),
        ...(v.rpm ? { limits: limits(single) } : {}),
      });
    case "revoke":
      return admin("POST", `/admin/tenants/${t}/revoke`);
    case "key":
      if (b === "secret") return admin("POST", `/admin/tenants/${t}/keys`, { kind: "secret", limits: limits(single) });
      if (b === "publishable") {
        return admin("POST", `/admin/tenants/${t}/keys`, {
          kind: "publishable",
          limits: limits(single),
          widget: {
            allowed_origins: v.origin ?? [],
            ...(v["daily-cap"] ? { daily_cap: int(v["daily-cap"]) } : {}),
            ...(v["per-ip"] ? { per_ip_per_minute: int(v["per-ip"]) } : {}),
            ...(v["per-ip-daily"] ? { per_ip_daily_cap: int(v["per-ip-daily"]) } : {}),
            ...(v["max-output-tokens"] ? { max_output_tokens: int(v["max-output-tokens"]) } : {}),
            ...(v.memory ? { memory_limit: v.memory } : {}),
            ...(v.instructions ? { instructions: v.instructions } : {}),
            ...(v.model ? { model: v.model } : {}),
            ...(v["session-ttl"] ? { session_ttl_s: int(v["session-ttl"]) } : {}),
          },
        });
      }
      throw new Error("key needs a kind: secret or publishable");
    case "rotate":
      return admin("POST", `/admin/tenants/${t}/keys/${encodeURIComponent(b ?? "")}/rotate`);
    case "revoke-key":
      return admin("POST", `/admin/tenants/${t}/keys/${encodeURIComponent(b ?? "")}/revoke`);
    default:
      throw new Error(USAGE);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (out) => console.log(JSON.stringify(out, null, 2)),
    (err) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exit(1);
    },
  );
}
