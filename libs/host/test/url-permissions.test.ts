import type { HttpMethod, HttpPermission, WebSocketPermission } from "@tonearm/manifest";
import { describe, expect, it } from "vitest";
import {
  NO_ALLOWED_URLS,
  checkHttpRequest,
  checkUrlPolicy,
  checkWebSocketConnection,
  matchesUrlPattern,
} from "../src/main/url-permissions.js";

const http = (allowedUrls: Record<string, HttpMethod[]>, allowLocalNetwork = false): HttpPermission => ({
  reason: "test",
  allowedUrls,
  allowLocalNetwork,
});
const websocket = (allowedUrls: string[], allowLocalNetwork = false): WebSocketPermission => ({
  reason: "test",
  allowedUrls,
  allowLocalNetwork,
});
const reasonOf = (decision: ReturnType<typeof checkHttpRequest>): string | undefined =>
  decision.allowed ? undefined : decision.reason;

describe("matchesUrlPattern (Navidrome's cases)", () => {
  it.each([
    ["https://api.example.com/v1", "https://api.example.com/v1", true],
    ["https://other.example.com/v1", "https://api.example.com/v1", false],
    ["http://api.example.com/v1", "https://api.example.com/v1", false],
    ["https://api.example.com/v2", "https://api.example.com/v1", false],
    ["https://anything.at/all?x#y", "*", true],
    ["https://api.example.com/x", "https://*.example.com", true],
    ["https://api.other.com/x", "https://*.example.com", false],
    ["https://api.example.com/v1/users", "https://api.example.com/*", true],
    ["https://other.com/v1/users", "https://api.example.com/*", false],
    ["https://api.example.com:8080/x", "https://api.example.com:*", true],
    ["https://api.example.com/x", "https://api.example.com:*", false],
    ["https://cdn.example.com/public/a.png", "https://*.example.com/public/*", true],
    ["https://admin.prod.example.com/x", "https://admin.*.example.com", true],
    ["https://admin.a.b.example.com/x", "https://admin.*.example.com", false],
    ["https://1.2.3.example.com/x", "https://*.example.com", true],
    ["https://api.example.com/apix", "https://api.example.com/api/*", true],
    ["https://api.example.com/api", "https://api.example.com/api/*", true],
    ["https://api.example.com/x", "https://api.example.com", false],
    ["https://api.example.com", "https://api.example.com", true],
    ["https://api.example.com/?q=1#frag", "https://api.example.com", true],
    ["not a url", "*", true],
    ["not a url", "https://*", false],
  ])("%s against %s → %s", (url, pattern, expected) => {
    expect(matchesUrlPattern(url, pattern)).toBe(expected);
  });

  it("matches a textual pattern against the URL without its credentials", () => {
    expect(matchesUrlPattern("https://api.example.com:8080@evil.com/", "https://api.example.com:*")).toBe(false);
  });

  it("compares the path that is actually requested, after dot segments are resolved", () => {
    expect(matchesUrlPattern("https://api.example.com/public/../admin", "https://api.example.com/public/*")).toBe(false);
  });
});

describe("checkUrlPolicy", () => {
  it.each([
    ["http://localhost:8080/x", "requests to localhost are not allowed"],
    ["http://LOCALHOST/x", "requests to localhost are not allowed"],
    ["http://127.0.0.1/x", "requests to localhost are not allowed"],
    ["http://[::1]/x", "requests to localhost are not allowed"],
    ["http://127.0.0.2/x", "requests to private IP addresses are not allowed"],
    ["http://192.168.1.100/x", "requests to private IP addresses are not allowed"],
    ["http://10.0.0.1/x", "requests to private IP addresses are not allowed"],
    ["http://172.16.0.1/x", "requests to private IP addresses are not allowed"],
    ["http://169.254.169.254/latest/meta-data", "requests to private IP addresses are not allowed"],
    ["http://[fe80::1]/x", "requests to private IP addresses are not allowed"],
    ["http://0x7f.1/x", "requests to localhost are not allowed"],
    ["http://0.0.0.0/x", "requests to private IP addresses are not allowed"],
  ])("refuses %s without allowLocalNetwork", (url, reason) => {
    expect(checkUrlPolicy(url, false)).toEqual({ allowed: false, reason });
    expect(checkUrlPolicy(url, true)).toEqual({ allowed: true });
  });

  it.each(["https://8.8.8.8/", "https://example.com/", "https://[2001:4860:4860::8888]/"])("lets %s through", (url) => {
    expect(checkUrlPolicy(url, false).allowed).toBe(true);
  });

  it("refuses a URL that does not parse", () => {
    expect(reasonOf(checkUrlPolicy("http://[::1", true))).toBe('invalid URL: parse "http://[::1": not an absolute URL');
  });
});

describe("checkHttpRequest (Navidrome's cases)", () => {
  it("allows the listed methods of an exact pattern and names the pattern when refusing another", () => {
    const permission = http({ "https://api.example.com": ["GET", "POST"], "https://other.example.com": ["*"] });
    expect(checkHttpRequest(permission, "https://api.example.com", "GET").allowed).toBe(true);
    expect(checkHttpRequest(permission, "https://api.example.com", "POST").allowed).toBe(true);
    expect(reasonOf(checkHttpRequest(permission, "https://api.example.com", "DELETE"))).toBe(
      "operation DELETE not allowed for URL pattern https://api.example.com",
    );
    expect(checkHttpRequest(permission, "https://other.example.com", "OPTIONS").allowed).toBe(true);
    expect(checkHttpRequest(permission, "https://other.example.com", "HEAD").allowed).toBe(true);
  });

  it("matches methods case-insensitively, on either side", () => {
    const permission = http({ "https://api.example.com": ["GET"] });
    expect(checkHttpRequest(permission, "https://api.example.com", "get").allowed).toBe(true);
    expect(checkHttpRequest(permission, "https://api.example.com", "Get").allowed).toBe(true);
    const lowerCaseList = http({ "https://api.example.com": ["get" as HttpMethod] });
    expect(checkHttpRequest(lowerCaseList, "https://api.example.com", "GET").allowed).toBe(true);
  });

  it("lets the exact pattern decide before the wildcard one", () => {
    const permission = http({
      "https://api.example.com/v1/*": ["GET"],
      "https://api.example.com/v1/users": ["POST", "PUT"],
    });
    expect(checkHttpRequest(permission, "https://api.example.com/v1/posts", "GET").allowed).toBe(true);
    expect(reasonOf(checkHttpRequest(permission, "https://api.example.com/v1/posts", "POST"))).toBe(
      "operation POST not allowed for URL pattern https://api.example.com/v1/*",
    );
    expect(checkHttpRequest(permission, "https://api.example.com/v1/users", "POST").allowed).toBe(true);
    expect(checkHttpRequest(permission, "https://api.example.com/v1/users", "PUT").allowed).toBe(true);
    expect(reasonOf(checkHttpRequest(permission, "https://api.example.com/v1/users", "DELETE"))).toBe(
      "operation DELETE not allowed for URL pattern https://api.example.com/v1/users",
    );
    // The wildcard pattern would allow GET, but the exact one has decided.
    expect(reasonOf(checkHttpRequest(permission, "https://api.example.com/v1/users", "GET"))).toBe(
      "operation GET not allowed for URL pattern https://api.example.com/v1/users",
    );
  });

  it("handles host wildcards", () => {
    const permission = http({ "https://*.example.com/public/*": ["GET", "HEAD"], "https://admin.*.example.com": ["*"] });
    for (const host of ["cdn", "static"]) {
      expect(checkHttpRequest(permission, `https://${host}.example.com/public/x`, "GET").allowed).toBe(true);
      expect(checkHttpRequest(permission, `https://${host}.example.com/public/x`, "HEAD").allowed).toBe(true);
      expect(checkHttpRequest(permission, `https://${host}.example.com/public/x`, "POST").allowed).toBe(false);
    }
    for (const env of ["prod", "staging", "dev"]) {
      expect(checkHttpRequest(permission, `https://admin.${env}.example.com/x`, "DELETE").allowed).toBe(true);
    }
  });

  it("says which URL matched nothing", () => {
    expect(reasonOf(checkHttpRequest(http({ "https://api.example.com": ["GET"] }), "https://evil.com/x", "GET"))).toBe(
      "URL https://evil.com/x does not match any allowed URL patterns",
    );
  });

  it("applies the URL policy before the patterns, and allowLocalNetwork lifts it", () => {
    expect(reasonOf(checkHttpRequest(http({ "*": ["*"] }), "http://localhost/x", "GET"))).toBe("requests to localhost are not allowed");
    expect(checkHttpRequest(http({ "*": ["*"] }, true), "http://localhost/x", "GET").allowed).toBe(true);
  });

  it("refuses everything when no pattern is granted", () => {
    expect(reasonOf(checkHttpRequest(http({}), "https://api.example.com", "GET"))).toBe(NO_ALLOWED_URLS);
    expect(reasonOf(checkHttpRequest(undefined, "https://api.example.com", "GET"))).toBe(NO_ALLOWED_URLS);
  });
});

describe("checkWebSocketConnection (Navidrome's cases)", () => {
  const permission = websocket(["wss://api.example.com/*", "ws://localhost:8080"], true);

  it("allows matching URLs", () => {
    expect(checkWebSocketConnection(permission, "wss://api.example.com/v1/stream").allowed).toBe(true);
    expect(checkWebSocketConnection(permission, "ws://localhost:8080").allowed).toBe(true);
    expect(checkWebSocketConnection(websocket(["wss://*"]), "wss://gateway.discord.gg/?v=10").allowed).toBe(true);
  });

  it("refuses the others with Navidrome's texts", () => {
    expect(reasonOf(checkWebSocketConnection(permission, "wss://malicious.com/stream"))).toBe(
      "URL wss://malicious.com/stream does not match any allowed URL patterns",
    );
    expect(reasonOf(checkWebSocketConnection(websocket(["ws://localhost:8080"]), "ws://localhost:8080"))).toBe(
      "requests to localhost are not allowed",
    );
    expect(reasonOf(checkWebSocketConnection(websocket([]), "wss://api.example.com"))).toBe(NO_ALLOWED_URLS);
  });
});
