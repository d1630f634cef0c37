/**
 * @module ids
 * Ids shaped like the real ones: `cntr_` + 48 hex and `cfile_` + 32 hex, whose first 8 hex digits
 * are the creation time in seconds (observed in captures, not a contract), and `resp_`, `msg_`,
 * `ci_` + 48 hex.
 */

function randomHex(chars: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(Math.ceil(chars / 2)));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0"))
    .join("")
    .slice(0, chars);
}

function timeHex(seconds: number): string {
  return (seconds >>> 0).toString(16).padStart(8, "0");
}

/** `cntr_<8 hex time><40 hex>`. */
export const containerId = (createdAt: number) => `cntr_${timeHex(createdAt)}${randomHex(40)}`;
/** `cfile_<8 hex time><24 hex>`. */
export const fileId = (createdAt: number) => `cfile_${timeHex(createdAt)}${randomHex(24)}`;
/** `resp_`, `msg_`, `ci_`… + 48 hex. */
export const itemId = (
  prefix: "resp" | "msg" | "ci" | "sh" | "sho" | "call" | "fault" | "file" | "conv",
  createdAt = nowSeconds(),
) => `${prefix}_${timeHex(createdAt)}${randomHex(40)}`;

/** Unix seconds now. */
export const nowSeconds = () => Math.floor(Date.now() / 1000);
