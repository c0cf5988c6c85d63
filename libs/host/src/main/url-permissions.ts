/**
 * Which URLs a plugin may reach: the one URL matcher behind the `http` and `websocket` permissions,
 * with Navidrome's rules and denial texts (ABI.md §11.2).
 *
 * URLs are read with the WHATWG parser the clients use to connect, so the host and path that are
 * checked are the ones that are dialled and requested (Go would compare `Host` case-sensitively and
 * leave `..` segments in the path; here both sides are normalised the same way before comparing).
 *
 * `*` is matched without regular expressions: a pattern such as `https://*a*a*a…` against a long URL
 * makes a backtracking engine take exponential time (Go's RE2 never does), and both come from the
 * plugin, which could stall the event loop every plugin's host calls share. Both matchers below
 * take time proportional to the URL times the pattern at worst.
 */
import type { HttpPermission, WebSocketPermission } from "@tonearm/manifest";
import { LOCALHOST_NOT_ALLOWED, PRIVATE_IP_NOT_ALLOWED, blockedAddressKind } from "./network-guard.js";

export type UrlDecision = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

const ALLOW: UrlDecision = Object.freeze({ allowed: true });
const deny = (reason: string): UrlDecision => ({ allowed: false, reason });

/** Navidrome's text when a permission lists no pattern at all. */
export const NO_ALLOWED_URLS = "no allowed URLs configured for plugin";

/** Host names refused by name (the same list as Navidrome's). */
const LOCALHOST_NAMES: ReadonlySet<string> = new Set(["localhost", "127.0.0.1", "::1"]);

/** Whether `url` matches one permission pattern (rules 1–7 of ABI.md §11.2). */
export function matchesUrlPattern(url: string, pattern: string): boolean {
  if (pattern === "*") return true;
  const request = parseUrl(url);
  if (!request) return false;
  const parsedPattern = parseUrl(pattern);
  // Patterns that are no URL (e.g. a `*` port) are matched as text, `*` standing for anything.
  if (!parsedPattern) return globMatches(comparableHref(request), pattern);

  if (parsedPattern.protocol !== request.protocol) return false;
  if (!matchesHost(request.host, parsedPattern.host)) return false;
  if ((parsedPattern.pathname === "" || parsedPattern.pathname === "/") && pattern.includes("*")) return true;
  return matchesPath(request.pathname, parsedPattern.pathname);
}

/**
 * The URL policy applied before any pattern: a URL that does not parse, and (without
 * `allowLocalNetwork`) the localhost names and literal local IPs, are refused.
 */
export function checkUrlPolicy(url: string, allowLocalNetwork: boolean): UrlDecision {
  const parsed = parseUrl(url);
  if (!parsed) return deny(`invalid URL: parse ${JSON.stringify(url)}: not an absolute URL`);
  if (allowLocalNetwork) return ALLOW;
  const hostname = unbracket(parsed.hostname);
  if (LOCALHOST_NAMES.has(hostname)) return deny(LOCALHOST_NOT_ALLOWED);
  if (blockedAddressKind(hostname)) return deny(PRIVATE_IP_NOT_ALLOWED);
  return ALLOW;
}

/**
 * May the plugin send `method` to `url`? Patterns without `*` decide first, then those with one;
 * the first matching pattern decides, whatever later ones say.
 */
export function checkHttpRequest(permission: HttpPermission | undefined, url: string, method: string): UrlDecision {
  const policy = checkUrlPolicy(url, permission?.allowLocalNetwork ?? false);
  if (!policy.allowed) return policy;
  const patterns = Object.entries(permission?.allowedUrls ?? {});
  if (patterns.length === 0) return deny(NO_ALLOWED_URLS);
  const operation = method.toUpperCase();
  for (const wildcard of [false, true]) {
    for (const [pattern, methods] of patterns) {
      if (pattern.includes("*") !== wildcard || !matchesUrlPattern(url, pattern)) continue;
      return methods.some((m) => m === "*" || m.toUpperCase() === operation)
        ? ALLOW
        : deny(`operation ${operation} not allowed for URL pattern ${pattern}`);
    }
  }
  return deny(`URL ${url} does not match any allowed URL patterns`);
}

/** May the plugin open a WebSocket to `url`? Any matching pattern allows it. */
export function checkWebSocketConnection(permission: WebSocketPermission | undefined, url: string): UrlDecision {
  const policy = checkUrlPolicy(url, permission?.allowLocalNetwork ?? false);
  if (!policy.allowed) return policy;
  const patterns = permission?.allowedUrls ?? [];
  if (patterns.length === 0) return deny(NO_ALLOWED_URLS);
  if (patterns.some((p) => matchesUrlPattern(url, p))) return ALLOW;
  return deny(`URL ${url} does not match any allowed URL patterns`);
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** The URL as it will be requested, without credentials, so a textual pattern cannot be met through `user@`. */
function comparableHref(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}${url.search}${url.hash}`;
}

/** Host plus port; a `*` stands for one DNS label (possibly empty) or for a run of digits and dots. */
function matchesHost(host: string, pattern: string): boolean {
  if (pattern === "" || pattern === "*") return true;
  if (!pattern.includes("*")) return host === pattern;
  return starsMatch(host, pattern, isDigitOrDot, true) || starsMatch(host, pattern, isNotDot, false);
}

/** `/*` at the end of a pattern matches by prefix (so `/api/*` takes `/api`, `/api/x` and `/apix`). */
function matchesPath(path: string, pattern: string): boolean {
  const requestPath = path === "" ? "/" : path;
  const patternPath = pattern === "" ? "/" : pattern;
  if (patternPath === "*") return true;
  if (patternPath.endsWith("/*")) return requestPath.startsWith(patternPath.slice(0, -2) || "/");
  return requestPath === patternPath;
}

/** `text` matches `pattern` whose every `*` stands for any run of characters (leftmost-first, no backtracking). */
function globMatches(text: string, pattern: string): boolean {
  const parts = pattern.split("*");
  const first = parts[0] ?? "";
  const last = parts.at(-1) ?? "";
  if (parts.length === 1) return text === pattern;
  if (text.length < first.length + last.length || !text.startsWith(first) || !text.endsWith(last)) return false;
  const end = text.length - last.length;
  let at = first.length;
  for (const part of parts.slice(1, -1)) {
    const found = text.indexOf(part, at);
    if (found < 0 || found + part.length > end) return false;
    at = found + part.length;
  }
  return true;
}

const isDigitOrDot = (ch: string): boolean => ch === "." || (ch >= "0" && ch <= "9");
const isNotDot = (ch: string): boolean => ch !== ".";

/**
 * `text` matches `pattern` whose every `*` stands for a run of characters `inStar` accepts (at least
 * one when `nonEmpty`): the set of text positions each pattern prefix can reach, one step per
 * pattern character.
 */
function starsMatch(text: string, pattern: string, inStar: (ch: string) => boolean, nonEmpty: boolean): boolean {
  let reached = new Uint8Array(text.length + 1);
  reached[0] = 1;
  for (let j = 0; j < pattern.length; j++) {
    const ch = pattern[j];
    const next = new Uint8Array(text.length + 1);
    let any = false;
    if (ch === "*") {
      // A run of star characters from every reached position (and the empty run unless nonEmpty).
      let run = false;
      for (let i = 0; i <= text.length; i++) {
        if (run) {
          next[i] = 1;
          any = true;
        }
        if (!nonEmpty && reached[i]) {
          next[i] = 1;
          any = true;
        }
        run = (run || reached[i] === 1) && i < text.length && inStar(text[i] ?? "");
      }
    } else {
      for (let i = 0; i < text.length; i++) {
        if (reached[i] && text[i] === ch) {
          next[i + 1] = 1;
          any = true;
        }
      }
    }
    if (!any) return false;
    reached = next;
  }
  return reached[text.length] === 1;
}

function unbracket(hostname: string): string {
  return hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
}
