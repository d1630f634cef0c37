/**
 * @module links/naming
 * Names each sandbox reference with its download URL. One `LinkNaming` per response: the plain
 * and the streamed rewrite of a response use the same instance, so the same destination always
 * gets the same URL (a token depends only on what was known when the link was first named).
 */
import { findSandboxRefs, type SandboxRef } from "./find";
import { fileUrl, signLink, type LinkSecret } from "./token";

/** Turns references into URLs, one per reference, in order. Async because signing is (WebCrypto). */
export type LinkNamer = (refs: readonly SandboxRef[]) => Promise<string[]>;

/** A link a response issued: its container path, the destination exactly as upstream wrote it, and its URL. */
export interface IssuedLink {
  path: string;
  original: string;
  url: string;
}

export interface LinkNamingOptions {
  /** `PUBLIC_FILES_ORIGIN`. */
  origin: string;
  /** `LINK_SECRETS` (the first signs). */
  secrets: readonly LinkSecret[];
  tenant: string;
  responseId: string;
  /** The container, when already known; it can be set later with {@link LinkNaming.containerId}. */
  containerId?: string;
  /** Unix seconds; links named by this instance stop working then. */
  expiresAt?: number;
}

/**
 * Per-response naming with memory. A destination written the same way twice gets one URL; two
 * spellings of one path (`sandbox:/x`, `sandbox:/mnt/data/x`) get different URLs (`variant`) so
 * each maps back to its own original text.
 */
export class LinkNaming {
  /** The container links named from now on will carry (the proxy sets it when a tool call names one). */
  containerId: string | undefined;
  /** Whose links these are, and of which response. */
  readonly tenant: string;
  readonly responseId: string;
  readonly #opts: LinkNamingOptions;
  readonly #byRaw = new Map<string, Promise<string>>();
  readonly #variants = new Map<string, number>();
  readonly #issued: IssuedLink[] = [];

  constructor(opts: LinkNamingOptions) {
    this.#opts = opts;
    this.containerId = opts.containerId;
    this.tenant = opts.tenant;
    this.responseId = opts.responseId;
  }

  /** The {@link LinkNamer} bound to this instance. */
  readonly name: LinkNamer = (refs) => Promise.all(refs.map((ref) => this.#nameOne(ref)));

  /** Every link named so far, once each, in the order first named. */
  get issued(): readonly IssuedLink[] {
    return this.#issued;
  }

  #nameOne(ref: SandboxRef): Promise<string> {
    let url = this.#byRaw.get(ref.raw);
    if (url) return url;
    // Claims are fixed synchronously, in call order, so the result does not depend on how the
    // signing promises interleave.
    const variant = this.#variants.get(ref.containerPath) ?? 0;
    this.#variants.set(ref.containerPath, variant + 1);
    const o = this.#opts;
    const claims = {
      tenant: o.tenant,
      responseId: o.responseId,
      path: ref.containerPath,
      ...(this.containerId !== undefined ? { containerId: this.containerId } : {}),
      ...(o.expiresAt !== undefined ? { expiresAt: o.expiresAt } : {}),
      ...(variant ? { variant } : {}),
    };
    const entry: IssuedLink = { path: ref.containerPath, original: ref.raw, url: "" };
    this.#issued.push(entry);
    const name = ref.containerPath.slice(ref.containerPath.lastIndexOf("/") + 1);
    url = signLink(claims, o.secrets).then((token) => (entry.url = fileUrl(o.origin, token, name)));
    this.#byRaw.set(ref.raw, url);
    return url;
  }
}

/**
 * The reference a file of the container gets when no text links it (a manifest entry, or a
 * citation whose span covers no link): as if the model had written `sandbox:<path>`, so it is
 * named, signed and resolved exactly like a link (same tenant, response and path).
 */
export function refOfPath(path: string): SandboxRef {
  const [ref] = findSandboxRefs(`<sandbox:${encodeURI(path)}>`);
  if (!ref) throw new Error(`cannot name ${path}`);
  return ref;
}
