/**
 * The request Go's client makes after a 3xx (net/http `Client.Do`): which statuses redirect, the
 * method and body that go along, and which headers survive the move.
 */
import type { Hop, HopResponse } from "./transport.js";

/**
 * Redirects followed at most: Go's check stops when 5 requests have been made, so the 5th 3xx is
 * what the plugin gets.
 */
export const MAX_REDIRECTS = 4;

/** Credentials Go drops when a redirect leaves the host (and its subdomains); once dropped they stay dropped. */
const SENSITIVE_HEADERS = ["Authorization", "Www-Authenticate", "Cookie", "Cookie2"] as const;

export type RedirectStep =
  | { readonly kind: "none" }
  | { readonly kind: "invalid-location"; readonly location: string }
  | { readonly kind: "follow"; readonly hop: Hop };

/**
 * What follows `response` to `hop`. `explicitReferer` is the Referer the plugin set itself, which Go
 * keeps on every hop instead of the previous URL.
 */
export function redirectStep(hop: Hop, response: HopResponse, explicitReferer: string | undefined): RedirectStep {
  const { status } = response;
  const keepsMethodAndBody = status === 307 || status === 308;
  if (!keepsMethodAndBody && status !== 301 && status !== 302 && status !== 303) return { kind: "none" };
  // A 3xx without Location is handed back as it is.
  const location = response.headers["Location"];
  if (!location) return { kind: "none" };
  let url: URL;
  try {
    url = new URL(location, hop.url);
  } catch {
    return { kind: "invalid-location", location };
  }

  const method = keepsMethodAndBody || hop.method === "GET" || hop.method === "HEAD" ? hop.method : "GET";
  const body = keepsMethodAndBody ? hop.body : undefined;
  const headers: Record<string, string> = { ...hop.headers };
  if (!isSameOrSubdomain(url.hostname, hop.url.hostname)) {
    for (const key of SENSITIVE_HEADERS) delete headers[key];
  }
  const referer = refererFor(hop.url, url, explicitReferer);
  if (referer === undefined) delete headers["Referer"];
  else headers["Referer"] = referer;
  return { kind: "follow", hop: { url, method, headers, body } };
}

/** Go's `refererForURL`: never from https to http, else the plugin's own or the previous URL without credentials. */
function refererFor(previous: URL, next: URL, explicitReferer: string | undefined): string | undefined {
  if (previous.protocol === "https:" && next.protocol === "http:") return explicitReferer;
  if (explicitReferer !== undefined) return explicitReferer;
  const referer = new URL(previous.href);
  referer.username = "";
  referer.password = "";
  return referer.href;
}

function isSameOrSubdomain(host: string, of: string): boolean {
  return host === of || host.endsWith(`.${of}`);
}
