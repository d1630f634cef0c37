/**
 * @module http/content-disposition
 * A `Content-Disposition` value that carries any file name safely (RFC 6266 with the RFC 8187,
 * formerly 5987, `filename*` parameter). Names come from a model, so they may contain quotes,
 * semicolons, percent signs, CR/LF, slashes and any Unicode: none of them may break the header or
 * smuggle a second parameter.
 */

/**
 * RFC 8187 `attr-char`: the only bytes that may appear unescaped in `filename*`. Everything else,
 * including `%`, `'`, `*`, `;`, `"` and the UTF-8 bytes of non-ASCII characters, is percent-encoded.
 */
const ATTR_CHAR = /[A-Za-z0-9!#$&+\-.^_`|~]/;

/** Strips what no file name should carry: control characters and path separators. */
export function cleanFilename(raw: string): string {
  const name = raw
    .replace(/[\u0000-\u001f\u007f]/g, "")
    .replace(/[\\/]/g, "_")
    .trim();
  return name === "" || name === "." || name === ".." ? "download" : name;
}

/**
 * The ASCII `filename=` fallback for old clients. Non-ASCII becomes `_`; `"` and `\` would end or
 * escape the quoted string; `%` is replaced because some browsers percent-decode the fallback
 * (RFC 6266 §4.3 advises against it there).
 */
function asciiFallback(name: string): string {
  return name.replace(/[^\x20-\x7e]|["\\%]/g, "_");
}

function encodeExtValue(name: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(name)) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && ATTR_CHAR.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/**
 * Builds e.g. `attachment; filename="r_sum_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf`.
 * Clients that understand `filename*` (every current browser) prefer it (RFC 6266 §4.3).
 */
export function contentDisposition(type: "attachment" | "inline", rawName: string): string {
  const name = cleanFilename(rawName);
  return `${type}; filename="${asciiFallback(name)}"; filename*=UTF-8''${encodeExtValue(name)}`;
}
