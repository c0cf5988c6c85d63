/**
 * One plugin HTTP call from permission check to answer (ABI.md §11.1): the permission decides
 * first, then requests follow redirects hop by hop, each target checked again, all within one
 * deadline. Every failure becomes the response's `error` text with status 0; nothing throws.
 */
import type { HttpPermission } from "@tonearm/manifest";
import { findBlockedAddressError } from "../network-guard.js";
import { checkHttpRequest } from "../url-permissions.js";
import { outgoingHeaders } from "./headers.js";
import { MAX_REDIRECTS, redirectStep } from "./redirects.js";
import { ResponseBodyError, ResponseTooLargeError, type Hop, type HopResponse, type HttpTransport } from "./transport.js";

/** Prefix of every permission denial in `HttpResponse.error` (Navidrome's text). */
export const REQUEST_BLOCKED_PREFIX = "Request blocked by plugin permissions: ";

/** Methods whose request body is sent; the others ignore it, as in Navidrome. */
const BODY_METHODS: ReadonlySet<string> = new Set(["POST", "PUT", "PATCH"]);

export interface PluginHttpRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** 0 (or less) means the default. */
  readonly timeoutMs: number;
  readonly body: Uint8Array;
}

export interface PluginHttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
  /** Non-empty on a denial or a network failure, and then `status` is 0. */
  readonly error: string;
}

export interface ExchangeSettings {
  readonly transport: HttpTransport;
  readonly defaultTimeoutMs: number;
}

export async function exchange(
  method: string,
  request: PluginHttpRequest,
  permission: HttpPermission | undefined,
  settings: ExchangeSettings,
  signal: AbortSignal,
): Promise<PluginHttpResponse> {
  const decision = checkHttpRequest(permission, request.url, method);
  if (!decision.allowed) return failure(REQUEST_BLOCKED_PREFIX + decision.reason);

  const allowLocalNetwork = permission?.allowLocalNetwork ?? false;
  // Navidrome gives 0 the default; a negative value would mean no timeout at all in Go, which a host cannot afford.
  const timeoutMs = request.timeoutMs > 0 ? request.timeoutMs : settings.defaultTimeoutMs;
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), timeoutMs);
  const hopSignal = AbortSignal.any([signal, deadline.signal]);
  const headers = outgoingHeaders(request.headers);
  const explicitReferer = headers["Referer"];
  let hop: Hop = { url: new URL(request.url), method, headers, body: BODY_METHODS.has(method) ? request.body : undefined };
  let previous: HopResponse | undefined;
  try {
    for (let requestsMade = 1; ; requestsMade++) {
      let response: HopResponse;
      try {
        response = await settings.transport(hop, { allowLocalNetwork, signal: hopSignal });
      } catch (err) {
        const blocked = findBlockedAddressError(err);
        // A redirect into the local network stops like any other refused redirect: the 3xx is the answer.
        if (blocked) return previous ? answer(previous) : failure(REQUEST_BLOCKED_PREFIX + blocked.message);
        return failure(transportErrorText(err, method, hop.url, { caller: signal, deadline: deadline.signal }));
      }

      const step = redirectStep(hop, response, explicitReferer);
      if (step.kind === "none") return answer(response);
      if (step.kind === "invalid-location") {
        return failure(`${urlErrorPrefix(method, hop.url)}failed to parse Location header ${JSON.stringify(step.location)}`);
      }
      if (requestsMade > MAX_REDIRECTS) return answer(response);
      if (!checkHttpRequest(permission, step.hop.url.href, step.hop.method).allowed) return answer(response);
      previous = response;
      hop = step.hop;
    }
  } finally {
    clearTimeout(timer);
  }
}

function answer(response: HopResponse): PluginHttpResponse {
  return { status: response.status, headers: response.headers, body: response.body, error: "" };
}

function failure(error: string): PluginHttpResponse {
  return { status: 0, headers: {}, body: new Uint8Array(0), error };
}

/**
 * Go's wording: `Get "<url>": <cause>` for failures up to the response headers, the bare cause
 * for failures while reading the body, and its texts for cancellation and the client timeout.
 */
function transportErrorText(
  err: unknown,
  method: string,
  url: URL,
  signals: { readonly caller: AbortSignal; readonly deadline: AbortSignal },
): string {
  const prefix = urlErrorPrefix(method, url);
  if (err instanceof ResponseTooLargeError) return prefix + err.message;
  const readingBody = err instanceof ResponseBodyError;
  if (signals.caller.aborted) return readingBody ? "context canceled" : `${prefix}context canceled`;
  if (signals.deadline.aborted) {
    return readingBody
      ? "context deadline exceeded (Client.Timeout or context cancellation while reading body)"
      : `${prefix}context deadline exceeded (Client.Timeout exceeded while awaiting headers)`;
  }
  const cause = readingBody ? err.cause : err;
  const text = cause instanceof Error && cause.message ? cause.message : String(cause);
  return readingBody ? text : prefix + text;
}

/** `Get "https://host/path": ` with any password masked, as Go's `url.Error` prints it. */
function urlErrorPrefix(method: string, url: URL): string {
  const shown = new URL(url.href);
  if (shown.password) shown.password = "***";
  return `${method.charAt(0)}${method.slice(1).toLowerCase()} ${JSON.stringify(shown.href)}: `;
}
