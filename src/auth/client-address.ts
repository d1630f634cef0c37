/**
 * @module auth/client-address
 * The bucket a client address is rate-limited under. Pure.
 *
 * An IPv4 address is one client. An IPv6 client is routinely given a whole /64 (RFC 4291 §2.5.1
 * fixes 64-bit interface ids for unicast; SLAAC, RFC 4862, and privacy addresses, RFC 8981, let a
 * host pick any address in its /64 and change it at will), so a limit keyed on the full address
 * would give anyone with one /64 2^64 buckets. IPv6 addresses are therefore keyed by their /64
 * prefix, after normalising the text (RFC 4291 §2.2: `::` compression, embedded IPv4, either
 * case, leading zeros; RFC 5952 is the canonical form written here). An IPv4-mapped address
 * (`::ffff:a.b.c.d`) is the IPv4 client it maps. Anything that is not an address (the header is
 * missing in local development) shares one bucket, so junk never multiplies buckets either.
 */

/** The rate-limit bucket of a client address: `4:<a.b.c.d>`, `6:<prefix>::/64` or `unknown`. */
export function addressBucket(raw: string | null | undefined): string {
  const text = (raw ?? "").trim();
  if (text.length === 0 || text.length > 64) return "unknown";
  const v4 = parseIPv4(text);
  if (v4) return `4:${v4.join(".")}`;
  const v6 = parseIPv6(text);
  if (!v6) return "unknown";
  // ::ffff:0:0/96 carries an IPv4 client (RFC 4291 §2.5.5.2).
  if (v6.slice(0, 5).every((h) => h === 0) && v6[5] === 0xffff) {
    return `4:${[v6[6]! >> 8, v6[6]! & 0xff, v6[7]! >> 8, v6[7]! & 0xff].join(".")}`;
  }
  return `6:${compress([...v6.slice(0, 4), 0, 0, 0, 0])}/64`;
}

/** Four octets of a dotted-quad IPv4 address (decimal, no leading zeros), or null. */
function parseIPv4(text: string): number[] | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) return null;
    out.push(Number(p));
  }
  return out;
}

/** Eight 16-bit groups of an IPv6 address in any RFC 4291 text form, or null. A zone (`%eth0`) is dropped. */
function parseIPv6(text: string): number[] | null {
  const addr = text.replace(/%[A-Za-z0-9_.-]{1,32}$/, "");
  const halves = addr.split("::");
  if (halves.length > 2) return null;
  const groups = (half: string): number[] | null => {
    if (half === "") return [];
    const out: number[] = [];
    const parts = half.split(":");
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes(".")) {
        const v4 = parseIPv4(p);
        if (!v4) return null;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (/^[0-9A-Fa-f]{1,4}$/.test(p)) out.push(parseInt(p, 16));
      else return null;
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return null;
  // An embedded IPv4 address may only end the address.
  if (halves.length === 2 && halves[0]!.includes(".")) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  return [...head, ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
}

/** RFC 5952 text: lowercase, no leading zeros, the longest run (≥ 2) of zero groups as `::`. */
function compress(groups: number[]): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}
