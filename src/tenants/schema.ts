/**
 * @module tenants/schema
 * The shapes of tenants and keys: what the admin API accepts (strict: an unknown field is a 400,
 * because a typo in a limit must not silently mean "no limit") and what the directory stores.
 */
import { z } from "zod";

/** Ids unsandbox mints for tenants and keys: a prefix and 1-64 of `[A-Za-z0-9_-]`. */
export const TenantId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "tenant ids are 1-63 of [a-z0-9_-], starting with a letter or digit");
export const KeyId = z.string().regex(/^key_[A-Za-z0-9]{8,40}$/, "key ids look like key_…");

/** Limits a tenant (or one key) sets for itself. Absent means unlimited. */
export const Limits = z.strictObject({
  /** Requests per minute, counted exactly (a Durable Object counter). */
  requests_per_minute: z.int().min(1).max(1_000_000).optional(),
  /** Storage limits and retention (src/storage/limits.ts; README "Limits"); absent = the deployment's default. */
  files_per_response: z.int().min(1).max(100_000).optional(),
  bytes_per_file: z.int().min(1).optional(),
  bytes_per_tenant: z.int().min(1).optional(),
  retention_days: z.int().min(1).max(36_500).optional(),
  /**
   * Extensions this tenant never stores, on top of the deployment's `UNSANDBOX_BLOCKED_EXTENSIONS`
   * (a tenant can block more, never unblock what the operator blocks). Written without the dot.
   */
  blocked_extensions: z
    .array(
      z
        .string()
        .regex(
          /^\.?[A-Za-z0-9_-]{1,16}$/,
          "blocked_extensions are extensions like exe or .scr (1-16 of [A-Za-z0-9_-])",
        ),
    )
    .max(100)
    .optional(),
});
export type Limits = z.infer<typeof Limits>;

/**
 * A tenant's defaults for the opt-in request features. A request's own header (`1`/`true`/`on`
 * or `0`/`false`/`off`) still wins; absent here means the deployment's default (off, or
 * `UNSANDBOX_REPAIR` for repair). src/harvest/features.ts resolves them.
 */
export const Features = z.strictObject({
  /** Append unsandbox's file instructions to the app's own (`x-unsandbox-file-instructions`). */
  file_instructions: z.boolean().optional(),
  /** unsandbox creates and reuses the code_interpreter container (`x-unsandbox-managed-container`). */
  managed_containers: z.boolean().optional(),
  /** Ask the model once more for linked files it never wrote (`x-unsandbox-repair`). */
  repair: z.boolean().optional(),
  /** Deliver file citations as `url_citation`s with the download URL (`x-unsandbox-url-citations`). */
  url_citations: z.boolean().optional(),
});
export type Features = z.infer<typeof Features>;

const OriginString = z.string().refine((raw) => {
  try {
    const u = new URL(raw);
    return (u.protocol === "https:" || u.protocol === "http:") && u.origin === raw;
  } catch {
    return false;
  }
}, "allowed_origins must be origins like https://shop.example (scheme, host and port only)");

/** The code interpreter memory sizes OpenAI offers. */
export const MemoryLimit = z.enum(["1g", "4g", "16g", "64g"]);

/**
 * What a publishable (`pk_…`) key may do. The key ships inside a web page and `Origin` can be
 * forged by anything that is not a browser, so the caps are what bounds the cost, and the forced
 * settings are what bounds the reach.
 */
export const WidgetSettings = z.strictObject({
  allowed_origins: z.array(OriginString).min(1).max(50),
  /** Responses created in any 24 hours over the whole key (sessions and reads do not count: src/auth/limits.ts). */
  daily_cap: z.int().min(1).max(10_000_000).default(1000),
  /** Responses created per minute from one client address (an IPv6 /64 is one); sessions per minute too, reads ten times as many. */
  per_ip_per_minute: z.int().min(1).max(100_000).default(20),
  /** Responses created in any 24 hours from one client address; absent = a tenth of `daily_cap`. */
  per_ip_daily_cap: z.int().min(1).max(10_000_000).optional(),
  /** The most `max_output_tokens` a widget turn may have (src/auth/widget-policy.ts); absent = 32768. */
  max_output_tokens: z.int().min(16).max(1_000_000).optional(),
  memory_limit: MemoryLimit.default("1g"),
  /** When set, replaces whatever `instructions` the page sends. */
  instructions: z.string().max(20_000).optional(),
  /** When set, replaces whatever `model` the page sends. */
  model: z.string().min(1).max(100).optional(),
  /** Lifetime of a visitor session, seconds. */
  session_ttl_s: z
    .int()
    .min(60)
    .max(24 * 3600)
    .default(1800),
  /** Lifetime of the download links a widget's responses get, seconds (they expire by default: the key is public). */
  link_ttl_s: z
    .int()
    .min(60)
    .max(365 * 86400)
    .default(7 * 86400),
});
export type WidgetSettings = z.infer<typeof WidgetSettings>;

export const KeyKind = z.enum(["secret", "publishable"]);
export type KeyKind = z.infer<typeof KeyKind>;

/** A key as stored: the hash, never the key itself. */
export interface KeyRecord {
  id: string;
  tenant: string;
  kind: KeyKind;
  /** The first characters of the key, to recognise it in a listing. */
  prefix: string;
  status: "active" | "revoked";
  limits: Limits;
  widget: WidgetSettings | null;
  created_at: number;
  revoked_at: number | null;
}

/** A tenant as stored (the upstream key sealed, see tenants/sealed-key.ts). */
export interface TenantRecord {
  id: string;
  name: string;
  status: "active" | "revoked";
  limits: Limits;
  features: Features;
  /** `v1.<kid>.<iv>.<ciphertext>`, or null to use the deployment's OPENAI_API_KEY. */
  upstream_key_sealed: string | null;
  created_at: number;
  revoked_at: number | null;
}

/** What the admin API shows of a tenant: never the sealed upstream key. */
export interface TenantView extends Omit<TenantRecord, "upstream_key_sealed"> {
  upstream_key: "own" | "deployment";
  keys: KeyRecord[];
}

// ---------------------------------------------------------------------------------------------
// Admin API bodies

export const CreateTenantBody = z.strictObject({
  id: TenantId.optional(),
  name: z.string().min(1).max(200),
  /** The tenant's own OpenAI key; absent = the deployment's. */
  upstream_key: z
    .string()
    .min(8)
    .max(500)
    .regex(/^[\x21-\x7e]+$/, "upstream_key must be printable ASCII without spaces")
    .optional(),
  limits: Limits.default({}),
  features: Features.default({}),
});

export const UpdateTenantBody = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  upstream_key: z
    .string()
    .min(8)
    .max(500)
    .regex(/^[\x21-\x7e]+$/)
    .nullable()
    .optional(),
  limits: Limits.optional(),
  features: Features.optional(),
});

export const CreateKeyBody = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("secret"), limits: Limits.default({}) }),
  z.strictObject({ kind: z.literal("publishable"), limits: Limits.default({}), widget: WidgetSettings }),
]);
export type CreateKeyBody = z.infer<typeof CreateKeyBody>;

/** The body of the rotate and revoke calls: nothing, or an empty object. */
export const EmptyBody = z.strictObject({});
