/**
 * The parts of Go's `net/url` (and `path.Base`) that decide what Navidrome made of a plugin's
 * SubsonicAPI URL: `url.Parse` with its error texts, `Query()` (which skips malformed pairs),
 * `Values.Encode` and path escaping.
 *
 * Go strings are bytes, and a percent escape may produce bytes that are not UTF-8, so this works on
 * byte strings: JavaScript strings whose every code unit is one byte (0–255). `toByteString` and
 * `fromByteString` convert at the edges.
 */
import { goQuoteBytes as quoteBytes } from "@tonearm/abi";

export const toByteString = (text: string): string => Buffer.from(text, "utf8").toString("latin1");
export const fromByteString = (bytes: string): string => Buffer.from(bytes, "latin1").toString("utf8");

/** A URL `url.Parse` refuses; the message is Go's, e.g. `parse "%zz": invalid URL escape "%zz"`. */
export class GoUrlError extends Error {
  override readonly name = "GoUrlError";
}

/** What Navidrome used of a parsed URL: the unescaped path and the raw query, both byte strings. */
export interface GoUrl {
  readonly path: string;
  readonly rawQuery: string;
}

/** `url.Values`: keys in first-seen order, each with its values in order. */
export type GoQuery = Map<string, string[]>;

type Mode = "path" | "host" | "zone" | "userinfo" | "query" | "fragment";

/** `url.Parse` of a byte string. */
export function parseGoUrl(raw: string): GoUrl {
  const hash = raw.indexOf("#");
  const withoutFragment = hash < 0 ? raw : raw.slice(0, hash);
  let url: GoUrl;
  try {
    url = parseWithoutFragment(withoutFragment);
  } catch (error) {
    throw new GoUrlError(`parse ${quoteBytes(withoutFragment)}: ${(error as Error).message}`);
  }
  if (hash >= 0) {
    try {
      unescape(raw.slice(hash + 1), "fragment");
    } catch (error) {
      throw new GoUrlError(`parse ${quoteBytes(raw)}: ${(error as Error).message}`);
    }
  }
  return url;
}

function parseWithoutFragment(raw: string): GoUrl {
  // eslint-disable-next-line no-control-regex -- Go refuses every ASCII control byte
  if (/[\x00-\x1f\x7f]/.test(raw)) throw new Error("net/url: invalid control character in URL");
  if (raw === "*") return { path: "*", rawQuery: "" };

  const { scheme, rest: afterScheme } = splitScheme(raw);
  let rest = afterScheme;
  let rawQuery = "";
  if (rest.endsWith("?") && rest.indexOf("?") === rest.length - 1) {
    rest = rest.slice(0, -1);
  } else {
    const q = rest.indexOf("?");
    if (q >= 0) [rest, rawQuery] = [rest.slice(0, q), rest.slice(q + 1)];
  }

  if (!rest.startsWith("/")) {
    // A rootless path after a scheme is opaque (`mailto:x`): no path at all.
    if (scheme !== "") return { path: "", rawQuery };
    const slash = rest.indexOf("/");
    if ((slash < 0 ? rest : rest.slice(0, slash)).includes(":")) {
      throw new Error("first path segment in URL cannot contain colon");
    }
  }
  if ((scheme !== "" || !rest.startsWith("///")) && rest.startsWith("//")) {
    const slash = rest.indexOf("/", 2);
    const authority = slash < 0 ? rest.slice(2) : rest.slice(2, slash);
    rest = slash < 0 ? "" : rest.slice(slash);
    checkAuthority(authority);
  }
  return { path: unescape(rest, "path"), rawQuery };
}

function splitScheme(raw: string): { scheme: string; rest: string } {
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] ?? "";
    if (/[A-Za-z]/.test(c)) continue;
    if (/[0-9+.-]/.test(c)) {
      if (i === 0) break;
      continue;
    }
    if (c === ":") {
      if (i === 0) throw new Error("missing protocol scheme");
      return { scheme: raw.slice(0, i), rest: raw.slice(i + 1) };
    }
    break;
  }
  return { scheme: "", rest: raw };
}

function checkAuthority(authority: string): void {
  const at = authority.lastIndexOf("@");
  checkHost(at < 0 ? authority : authority.slice(at + 1));
  if (at < 0) return;
  const userinfo = authority.slice(0, at);
  if (!/^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/.test(userinfo)) throw new Error("net/url: invalid userinfo");
  const colon = userinfo.indexOf(":");
  unescape(colon < 0 ? userinfo : userinfo.slice(0, colon), "userinfo");
  if (colon >= 0) unescape(userinfo.slice(colon + 1), "userinfo");
}

function checkHost(host: string): void {
  if (host.startsWith("[")) {
    const close = host.lastIndexOf("]");
    if (close < 0) throw new Error("missing ']' in host");
    checkPort(host.slice(close + 1));
    const zone = host.slice(0, close).indexOf("%25");
    if (zone >= 0) {
      unescape(host.slice(0, zone), "host");
      unescape(host.slice(zone, close), "zone");
      unescape(host.slice(close), "host");
      return;
    }
  } else {
    const colon = host.lastIndexOf(":");
    if (colon >= 0) checkPort(host.slice(colon));
  }
  unescape(host, "host");
}

function checkPort(colonPort: string): void {
  if (colonPort !== "" && !/^:[0-9]*$/.test(colonPort)) throw new Error(`invalid port ${quoteBytes(colonPort)} after host`);
}

const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9A-Fa-f]$/.test(c);

/** Go's `unescape`: checks every escape (and, in hosts, every character), then decodes. */
function unescape(s: string, mode: Mode): string {
  for (let i = 0; i < s.length; ) {
    const c = s[i] ?? "";
    if (c === "%") {
      if (!isHex(s[i + 1]) || !isHex(s[i + 2])) throw escapeError(s.slice(i, i + 3));
      const escape = s.slice(i, i + 3);
      const value = parseInt(escape.slice(1), 16);
      // Hosts may percent-encode only non-ASCII bytes, except %25 (RFC 6874 zones).
      if (mode === "host" && value < 0x80 && escape !== "%25") throw escapeError(escape);
      if (mode === "zone" && escape !== "%25" && value !== 0x20 && hostMustEscape(String.fromCharCode(value))) {
        throw escapeError(escape);
      }
      i += 3;
    } else {
      if ((mode === "host" || mode === "zone") && c < "\x80" && hostMustEscape(c)) {
        throw new Error(`invalid character ${quoteBytes(c)} in host name`);
      }
      i++;
    }
  }
  const plusIsSpace = mode === "query";
  return s.replace(/%([0-9A-Fa-f]{2})|\+/g, (match: string, hex: string | undefined) =>
    hex !== undefined ? String.fromCharCode(parseInt(hex, 16)) : plusIsSpace ? " " : match,
  );
}

const escapeError = (escape: string): Error => new Error(`invalid URL escape ${quoteBytes(escape)}`);

// Go's shouldEscape in host mode: RFC 3986 sub-delims plus `:[]<>"` pass.
const hostMustEscape = (c: string): boolean => !/^[A-Za-z0-9\-_.~!$&'()*+,;=:[\]<>"]$/.test(c);

/** `url.ParseQuery` as `URL.Query()` uses it: malformed pairs (bad escapes, semicolons) are skipped. */
export function parseGoQuery(rawQuery: string): GoQuery {
  const values: GoQuery = new Map();
  for (const pair of rawQuery.split("&")) {
    if (pair === "" || pair.includes(";")) continue;
    const eq = pair.indexOf("=");
    let key: string;
    let value: string;
    try {
      key = unescape(eq < 0 ? pair : pair.slice(0, eq), "query");
      value = unescape(eq < 0 ? "" : pair.slice(eq + 1), "query");
    } catch {
      continue;
    }
    const list = values.get(key);
    if (list) list.push(value);
    else values.set(key, [value]);
  }
  return values;
}

/** `url.Values.Encode`: keys sorted by bytes, values in order, `QueryEscape`d. */
export function encodeGoQuery(values: GoQuery): string {
  return [...values.keys()]
    .sort()
    .flatMap((key) => (values.get(key) ?? []).map((value) => `${queryEscape(key)}=${queryEscape(value)}`))
    .join("&");
}

/** `url.QueryEscape` of a byte string. */
export const queryEscape = (bytes: string): string =>
  bytes.replace(/[^A-Za-z0-9\-_.~]/g, (c) => (c === " " ? "+" : percent(c)));

/** How `URL.String` escapes a path: everything but unreserved characters and `$&+,/:;=@`. */
export const pathEscape = (bytes: string): string => bytes.replace(/[^A-Za-z0-9\-_.~$&+,/:;=@]/g, percent);

const percent = (c: string): string => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`;

/** Go's `path.Base`. */
export function pathBase(path: string): string {
  if (path === "") return ".";
  const trimmed = path.replace(/\/+$/, "");
  if (trimmed === "") return "/";
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}
