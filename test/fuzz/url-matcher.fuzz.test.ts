// The URL matcher behind the http and websocket permissions, fed what a hostile plugin controls: the
// patterns of its manifest and every URL it asks for. It never throws, never takes more than time
// proportional to URL × pattern (a backtracking regular expression took exponential time), and
// decides as the regular expressions of ABI.md §11.2 do.
import { checkHttpRequest, checkWebSocketConnection, matchesUrlPattern } from "@tonearm/host";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { callsFinishWithin, libraryEntry } from "./support.js";

/** ABI.md §11.2 with regular expressions, as Go's RE2 runs them; only fit for short inputs here. */
function reference(url: string, pattern: string): boolean {
  const glob = (p: string, star: string): RegExp =>
    new RegExp(`^${p.split("*").map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")).join(star)}$`, "s");
  const parse = (text: string): URL | undefined => {
    try {
      return new URL(text);
    } catch {
      return undefined;
    }
  };
  if (pattern === "*") return true;
  const u = parse(url);
  if (!u) return false;
  const p = parse(pattern);
  if (!p) return glob(pattern, ".*").test(`${u.protocol}//${u.host}${u.pathname}${u.search}${u.hash}`);
  if (p.protocol !== u.protocol) return false;
  const hostOk = p.host === "" || p.host === "*" || (p.host.includes("*") ? glob(p.host, "[0-9.]+").test(u.host) || glob(p.host, "[^.]*").test(u.host) : u.host === p.host);
  if (!hostOk) return false;
  if ((p.pathname === "" || p.pathname === "/") && pattern.includes("*")) return true;
  const path = u.pathname === "" ? "/" : u.pathname;
  const patternPath = p.pathname === "" ? "/" : p.pathname;
  if (patternPath === "*") return true;
  if (patternPath.endsWith("/*")) return path.startsWith(patternPath.slice(0, -2) || "/");
  return path === patternPath;
}

const piece = fc.constantFrom("a", "b", "1", ".", "-", "*", "**", "x.y", "0.0", "/", ":", "8", "?", "#");
const text = (max: number) => fc.array(piece, { maxLength: max }).map((p) => p.join(""));
const scheme = fc.constantFrom("http://", "https://", "ws://", "");
const urlLike = fc.tuple(scheme, text(6), fc.constantFrom("", ":80", ":8080", ":*"), fc.constantFrom("", "/", "/a", "/a/*", "/*", "/a/b?q=1"), text(3)).map((parts) => parts.join(""));
/** A URL and a pattern made from it by turning a few runs of it into `*`, so that many match. */
const urlAndPattern = urlLike.chain((url) =>
  fc.tuple(
    fc.constant(url),
    fc.array(fc.tuple(fc.nat(url.length), fc.nat(3)), { maxLength: 4 }).map((cuts) =>
      cuts.reduce((pattern, [at, length]) => `${pattern.slice(0, at)}*${pattern.slice(at + length)}`, url),
    ),
  ),
);

describe("URL matcher fuzz", () => {
  it("never throws on arbitrary text, and answers a boolean", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), urlLike), fc.oneof(fc.string(), urlLike), (url, pattern) => {
        expect(typeof matchesUrlPattern(url, pattern)).toBe("boolean");
      }),
    );
  });

  it("decides as the regular expressions of ABI.md §11.2 on short URLs and star-heavy patterns", () => {
    fc.assert(
      fc.property(fc.oneof(urlAndPattern, fc.tuple(urlLike, urlLike)), ([url, pattern]) => {
        expect(matchesUrlPattern(url, pattern), `${url} vs ${pattern}`).toBe(reference(url, pattern));
      }),
      { numRuns: 2_000 },
    );
  });

  it("answers permission checks with a decision, never an exception", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.oneof(fc.string(), urlLike), fc.array(fc.constantFrom("GET", "post", "*", "", "Delete"), { maxLength: 3 }), { maxKeys: 4 }),
        fc.array(fc.oneof(fc.string(), urlLike), { maxLength: 4 }),
        fc.oneof(fc.string(), urlLike),
        fc.string({ maxLength: 8 }),
        fc.boolean(),
        (allowedUrls, wsUrls, url, method, allowLocalNetwork) => {
          const http = checkHttpRequest({ reason: "r", allowedUrls, allowLocalNetwork }, url, method);
          const ws = checkWebSocketConnection({ reason: "r", allowedUrls: wsUrls, allowLocalNetwork }, url);
          for (const decision of [http, ws]) expect(decision.allowed || typeof decision.reason === "string").toBe(true);
        },
      ),
    );
  });

  it("finishes star-heavy patterns against long URLs (a backtracking matcher would not)", async () => {
    const calls = [
      // The textual fallback (the `:*` port makes the pattern no URL): 24 stars, a 4 KB path.
      [`https://h.example:1/${"a".repeat(4_000)}`, `https://h.example:*/${"*a".repeat(24)}b`],
      // The host rule: both star classes over a long host.
      [`https://${"a".repeat(200)}.example/`, `https://${"*a".repeat(30)}*b.example/x`],
      [`https://${"1.".repeat(100)}9/`, `https://${"*1".repeat(30)}*.8/x`],
    ];
    const outcomes = await callsFinishWithin(libraryEntry("host", "main/url-permissions.js"), "matchesUrlPattern", calls, 10_000);
    expect(outcomes).toEqual([
      { ok: true, value: false },
      { ok: true, value: false },
      { ok: true, value: false },
    ]);
  });
});
