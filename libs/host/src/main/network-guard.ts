/**
 * Keeps plugins off the host's own network unless their permission says `allowLocalNetwork`.
 *
 * Navidrome only looks at the URL's literal host (ABI.md §11.2), so a public name that resolves to
 * 127.0.0.1 or 10.x gets through. Here every connection is checked on the address it actually
 * connects to: a lookup wrapper drops blocked addresses from the resolver's answer, and literal IP
 * hosts (which Node connects to without a lookup) are checked before dialling. The ranges are
 * Navidrome's (Go's `IsLoopback`, `IsPrivate`, link-local) plus the unspecified address, which
 * reaches the local host on Linux; CGNAT space is not blocked, as in Navidrome.
 */
import { lookup as dnsLookup } from "node:dns";
import { isIP, isIPv4, isIPv6, type LookupFunction } from "node:net";
import type { LookupAddress } from "node:dns";
import { Agent, buildConnector } from "undici";

/** Navidrome's reason texts (ABI.md §11.1). */
export const LOCALHOST_NOT_ALLOWED = "requests to localhost are not allowed";
export const PRIVATE_IP_NOT_ALLOWED = "requests to private IP addresses are not allowed";

export type BlockedAddressKind = "loopback" | "private" | "link-local" | "unique-local" | "unspecified";

/** Why an address is off limits without `allowLocalNetwork`, or undefined for an address plugins may reach. */
export function blockedAddressKind(address: string): BlockedAddressKind | undefined {
  const unbracketed = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
  if (isIPv4(unbracketed)) return ipv4Kind(unbracketed.split(".").map(Number));
  const bytes = ipv6Bytes(unbracketed);
  return bytes ? ipv6Kind(bytes) : undefined;
}

/** The denial text for an address of this kind. */
export function blockedAddressReason(kind: BlockedAddressKind): string {
  return kind === "loopback" ? LOCALHOST_NOT_ALLOWED : PRIVATE_IP_NOT_ALLOWED;
}

/** A connection refused because its resolved address is local; `reason` is the permission denial text. */
export class BlockedAddressError extends Error {
  override readonly name = "BlockedAddressError";
  readonly code = "ERR_BLOCKED_ADDRESS";
  readonly reason: string;

  constructor(
    readonly hostname: string,
    readonly address: string,
    readonly kind: BlockedAddressKind,
  ) {
    const reason = blockedAddressReason(kind);
    super(hostname === address ? reason : `${reason} (${hostname} resolves to ${address})`);
    this.reason = reason;
  }
}

/** The BlockedAddressError in `err` or its cause chain (clients wrap connect errors). */
export function findBlockedAddressError(err: unknown): BlockedAddressError | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof BlockedAddressError) return e;
  }
  return undefined;
}

export interface NetworkAccessOptions {
  /** The plugin permission's `allowLocalNetwork`. */
  readonly allowLocalNetwork: boolean;
  /** Resolver used for every connection; tests make names resolve where they need. @default dns.lookup */
  readonly lookup?: LookupFunction | undefined;
}

/**
 * The resolver a connection should use: the base one, or, without `allowLocalNetwork`, one that
 * answers only allowed addresses and fails with BlockedAddressError when none is left.
 */
export function networkLookup(options: NetworkAccessOptions): LookupFunction {
  const base = options.lookup ?? dnsLookup;
  if (options.allowLocalNetwork) return base;
  return (hostname, lookupOptions, callback) => {
    base(hostname, { ...lookupOptions, all: true }, (err, result, family) => {
      if (err) {
        callback(err, lookupOptions.all ? [] : "", 0);
        return;
      }
      const addresses: LookupAddress[] = Array.isArray(result) ? result : [{ address: result, family: family ?? isIP(result) }];
      const allowed = addresses.filter((a) => blockedAddressKind(a.address) === undefined);
      const first = allowed[0];
      if (!first) {
        const blocked = addresses[0];
        const kind = blocked ? blockedAddressKind(blocked.address) : undefined;
        const error = blocked && kind ? new BlockedAddressError(hostname, blocked.address, kind) : notFound(hostname);
        callback(error, lookupOptions.all ? [] : "", 0);
        return;
      }
      if (lookupOptions.all) callback(null, allowed);
      else callback(null, first.address, first.family);
    });
  };
}

/**
 * Throws BlockedAddressError when `hostname` is a literal IP the options do not allow. Node skips
 * the lookup for literal IPs, so callers dialling one must check it themselves.
 */
export function assertLiteralAddressAllowed(hostname: string, options: NetworkAccessOptions): void {
  if (options.allowLocalNetwork) return;
  const kind = blockedAddressKind(hostname);
  if (kind) throw new BlockedAddressError(hostname, hostname, kind);
}

/** An undici dispatcher whose every connection goes through the local-network rule. */
export function createNetworkAgent(options: NetworkAccessOptions): Agent {
  const connect = buildConnector({ lookup: networkLookup(options) });
  return new Agent({
    connect: (connectOptions, callback) => {
      try {
        assertLiteralAddressAllowed(connectOptions.hostname, options);
      } catch (err) {
        callback(err as Error, null);
        return;
      }
      connect(connectOptions, callback);
    },
  });
}

/**
 * A resolver answering the listed names from a fixed table (like a hosts file) and passing the
 * others to `fallback`, or failing them with ENOTFOUND when there is none.
 */
export function staticLookup(table: Readonly<Record<string, readonly string[]>>, fallback?: LookupFunction): LookupFunction {
  return (hostname, options, callback) => {
    const listed = Object.hasOwn(table, hostname) ? table[hostname] : undefined;
    if (!listed) {
      if (fallback) fallback(hostname, options, callback);
      else process.nextTick(() => callback(notFound(hostname), options.all ? [] : "", 0));
      return;
    }
    const wanted = options.family === 4 || options.family === "IPv4" ? 4 : options.family === 6 || options.family === "IPv6" ? 6 : 0;
    const addresses = listed.map((address) => ({ address, family: isIP(address) })).filter((a) => wanted === 0 || a.family === wanted);
    const first = addresses[0];
    process.nextTick(() => {
      if (!first) callback(notFound(hostname), options.all ? [] : "", 0);
      else if (options.all) callback(null, addresses);
      else callback(null, first.address, first.family);
    });
  };
}

function notFound(hostname: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
  err.code = "ENOTFOUND";
  return err;
}

function ipv4Kind([a = 0, b = 0]: number[]): BlockedAddressKind | undefined {
  if (a === 127) return "loopback";
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return "private";
  if (a === 169 && b === 254) return "link-local";
  if (a === 0) return "unspecified";
  return undefined;
}

function ipv6Kind(bytes: Uint8Array): BlockedAddressKind | undefined {
  const leadingZeros = bytes.findIndex((b) => b !== 0);
  if (leadingZeros === -1) return "unspecified";
  if (leadingZeros === 15 && bytes[15] === 1) return "loopback";
  // IPv4-mapped (::ffff:a.b.c.d) reaches the IPv4 address it carries.
  if (leadingZeros === 10 && bytes[10] === 0xff && bytes[11] === 0xff) return ipv4Kind([...bytes.subarray(12)]);
  const first = bytes[0] ?? 0;
  const second = bytes[1] ?? 0;
  if ((first & 0xfe) === 0xfc) return "unique-local";
  if (first === 0xfe && (second & 0xc0) === 0x80) return "link-local";
  return undefined;
}

/** The 16 bytes of an IPv6 address (zone id ignored), or undefined when `text` is not one. */
function ipv6Bytes(text: string): Uint8Array | undefined {
  const address = text.split("%")[0] ?? "";
  if (!isIPv6(address)) return undefined;
  const groups: number[] = [];
  const toGroups = (part: string): number[] =>
    part === ""
      ? []
      : part.split(":").flatMap((g) => {
          if (!g.includes(".")) return [parseInt(g, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = g.split(".").map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const [head = "", tail] = address.split("::");
  const headGroups = toGroups(head);
  const tailGroups = tail === undefined ? [] : toGroups(tail);
  groups.push(...headGroups, ...new Array<number>(8 - headGroups.length - tailGroups.length).fill(0), ...tailGroups);
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return bytes;
}
