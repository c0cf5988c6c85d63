/** Header maps as Go's net/http client hands them over: one value per key, keys in canonical MIME form. */

/** What Go's client sends when the request names no User-Agent; servers that gate on it see the same as under Navidrome. */
export const DEFAULT_USER_AGENT = "Go-http-client/1.1";

// RFC 7230 token characters; a key with anything else is left as it is (as Go does).
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Go's `textproto.CanonicalMIMEHeaderKey`: `content-type` → `Content-Type`. */
export function canonicalHeaderKey(key: string): string {
  if (!TOKEN.test(key)) return key;
  return key.toLowerCase().replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase());
}

/**
 * Go's client writes these itself or ignores them when set on a request; the connection-level
 * ones are also refused by undici, which manages the connection.
 */
const CLIENT_MANAGED = new Set([
  "Host",
  "Content-Length",
  "Transfer-Encoding",
  "Trailer",
  "Connection",
  "Keep-Alive",
  "Upgrade",
  "Expect",
]);

/** The headers a plugin asked for, as `Header.Set` would leave them, with Go's default User-Agent. */
export function outgoingHeaders(requested: Readonly<Record<string, string>>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(requested)) {
    const canonical = canonicalHeaderKey(key);
    if (!CLIENT_MANAGED.has(canonical)) headers[canonical] = value;
  }
  if (headers["User-Agent"] === undefined) headers["User-Agent"] = DEFAULT_USER_AGENT;
  // Go sends no User-Agent at all when it is set to "".
  if (headers["User-Agent"] === "") delete headers["User-Agent"];
  return headers;
}

/** Response headers as the plugin sees them: canonical keys, the first value of each. */
export function firstHeaderValues(received: Readonly<Record<string, string | string[] | undefined>>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(received)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) headers[canonicalHeaderKey(key)] ??= first;
  }
  return headers;
}
