/**
 * Which URLs a plugin may reach: the one URL matcher behind the `http` and `websocket` permissions,
 * with Navidrome's rules and denial texts (ABI.md §11.2).
 *
 * URLs are read with the WHATWG parser the clients use to connect, so the host and path that are
 * checked are the ones that are dialled and requested (Go would compare `Host` case-sensitively and
 * leave `..` segments in the path; here both sides are normalised the same way before comparing).
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
  if (!parsedPattern) return globRegExp(pattern, ".*").test(comparableHref(request));

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
  return globRegExp(pattern, "[0-9.]+").test(host) || globRegExp(pattern, "[^.]*").test(host);
}

/** `/*` at the end of a pattern matches by prefix (so `/api/*` takes `/api`, `/api/x` and `/apix`). */
function matchesPath(path: string, pattern: string): boolean {
  const requestPath = path === "" ? "/" : path;
  const patternPath = pattern === "" ? "/" : pattern;
  if (patternPath === "*") return true;
  if (patternPath.endsWith("/*")) return requestPath.startsWith(patternPath.slice(0, -2) || "/");
  return requestPath === patternPath;
}

function globRegExp(pattern: string, star: string): RegExp {
  const escaped = pattern
    .split("*")
    .map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"))
    .join(star);
  return new RegExp(`^${escaped}$`, "s");
}

function unbracket(hostname: string): string {
  return hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
}
