/**
 * @module upstream/domain-secrets
 * A container's `network_policy` may carry `domain_secrets`: `[{domain, name, value}]`, where
 * `value` is a credential the sandbox injects for that domain (OpenAI API reference, "Create
 * container", the code_interpreter tool's `container.network_policy` and the shell tool's
 * `environment.network_policy`:
 * https://platform.openai.com/docs/api-reference/containers/createContainers). unsandbox forwards
 * them upstream and never logs, stores or echoes them:
 *
 * - nothing unsandbox logs or stores holds a request body (log lines carry ids, counts and
 *   states only: src/log.ts);
 * - objects that echo the request (a Response's `tools`, also inside stream events; a container
 *   object's `network_policy`) have each secret's `value` replaced by {@link REDACTED};
 * - an upstream error answer to a request that carried secrets has every secret value replaced
 *   in its text, should upstream quote one.
 *
 * Pure. Work is linear in the body: only the positions above are visited.
 */

export const REDACTED = "[redacted]";

/** Secrets shorter than this are not searched for in error text (they would match ordinary words). */
const MIN_SCRUB_LENGTH = 4;
/** At most this many distinct values are searched for in one error text (bounded work). */
const MAX_SCRUB_VALUES = 64;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function secretsOf(policy: unknown): Obj[] {
  if (!isObj(policy) || !Array.isArray(policy.domain_secrets)) return [];
  return policy.domain_secrets.filter(isObj);
}

/** Where a tool holds its container settings: code_interpreter's `container`, the shell tool's `environment`. */
const containerKey = (t: Obj): "container" | "environment" => (t.type === "shell" ? "environment" : "container");

/** The container objects of a `tools` array (code_interpreter tools with an object container, shell tools' environments). */
function toolContainers(tools: unknown): Obj[] {
  if (!Array.isArray(tools)) return [];
  return tools.flatMap((t) => (isObj(t) && isObj(t[containerKey(t)]) ? [t[containerKey(t)] as Obj] : []));
}

/** Every `network_policy` a request body or an echoed object holds: top-level (a container), in `tools[].container` and `tools[].environment`. */
function policiesOf(body: unknown): unknown[] {
  if (!isObj(body)) return [];
  return [body.network_policy, ...toolContainers(body.tools).map((c) => c.network_policy)];
}

/** The secret values a request body carries (container create or responses create). */
export function domainSecretValues(body: unknown): string[] {
  const values = new Set<string>();
  for (const policy of policiesOf(body)) {
    for (const s of secretsOf(policy))
      if (typeof s.value === "string" && s.value.length >= MIN_SCRUB_LENGTH) values.add(s.value);
  }
  return [...values].slice(0, MAX_SCRUB_VALUES);
}

function redactPolicy(policy: unknown): unknown {
  if (!isObj(policy) || !Array.isArray(policy.domain_secrets)) return policy;
  return {
    ...policy,
    domain_secrets: policy.domain_secrets.map((s) => (isObj(s) && "value" in s ? { ...s, value: REDACTED } : s)),
  };
}

/**
 * A copy of an object that echoes a request (a Response object, a container object) with every
 * domain secret's `value` replaced; anything without secrets is returned as it is.
 */
export function withoutDomainSecrets<T>(obj: T): T {
  if (!isObj(obj)) return obj;
  let out: Obj = obj;
  if (secretsOf(obj.network_policy).length > 0) out = { ...out, network_policy: redactPolicy(obj.network_policy) };
  if (Array.isArray(obj.tools) && toolContainers(obj.tools).some((c) => secretsOf(c.network_policy).length > 0)) {
    out = {
      ...out,
      tools: obj.tools.map((t) => {
        if (!isObj(t)) return t;
        const key = containerKey(t);
        const c = t[key];
        return isObj(c) ? { ...t, [key]: { ...c, network_policy: redactPolicy(c.network_policy) } } : t;
      }),
    };
  }
  return out as T;
}

/** A stream event with its `response` (created, in_progress, completed…) passed through {@link withoutDomainSecrets}. */
export function eventWithoutDomainSecrets<E extends { response?: unknown }>(event: E): E {
  return isObj(event.response) ? { ...event, response: withoutDomainSecrets(event.response) } : event;
}

/** `text` with every one of `values` replaced by {@link REDACTED}. */
export function scrubSecrets(text: string, values: readonly string[]): string {
  let out = text;
  for (const v of values) if (out.includes(v)) out = out.split(v).join(REDACTED);
  return out;
}

/**
 * An upstream error answer, passed on with any secret value of the request removed from its body
 * (the body is read as text: upstream errors are small JSON documents).
 */
export async function scrubbedError(
  upstream: Response,
  values: readonly string[],
  headers: Headers,
): Promise<Response> {
  if (values.length === 0) return new Response(upstream.body, { status: upstream.status, headers });
  const text = scrubSecrets(await upstream.text(), values);
  headers.delete("content-length");
  return new Response(text, { status: upstream.status, headers });
}
