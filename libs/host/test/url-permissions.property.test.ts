// The rules of ABI.md §11.2, stated on URL parts and checked against the matcher on URL strings.
import type { HttpMethod, HttpPermission } from "@tonearm/manifest";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkHttpRequest, matchesUrlPattern } from "../src/main/url-permissions.js";

interface Parts {
  scheme: string;
  host: string;
  /** Never a scheme's default port, which the URL parser drops. */
  port: number | undefined;
  segments: string[];
}

const label = fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/);
const hostArb = fc.array(label, { minLength: 1, maxLength: 3 }).map((labels) => `${labels.join(".")}.test`);
const partsArb: fc.Arbitrary<Parts> = fc.record({
  scheme: fc.constantFrom("http", "https", "ws", "wss"),
  host: hostArb,
  port: fc.option(fc.integer({ min: 1024, max: 65535 }), { nil: undefined }),
  segments: fc.array(fc.stringMatching(/^[a-z0-9_-]{1,6}$/), { maxLength: 3 }),
});
const suffixArb = fc.string({ unit: fc.constantFrom("?a=1", "#frag", "?q=x&y=2#z"), maxLength: 1 });

const authority = (p: Parts): string => (p.port === undefined ? p.host : `${p.host}:${p.port}`);
const path = (p: Parts): string => `/${p.segments.join("/")}`;
const href = (p: Parts, suffix = ""): string => `${p.scheme}://${authority(p)}${path(p)}${suffix}`;

/** A URL equal to `base` except in the parts the flags pick, which are redrawn. */
const nearbyArb = (base: Parts): fc.Arbitrary<Parts> =>
  fc
    .record({ flags: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), other: partsArb })
    .map(({ flags, other }) => ({
      scheme: flags[0] ? other.scheme : base.scheme,
      host: flags[1] ? other.host : base.host,
      port: flags[2] ? other.port : base.port,
      segments: flags[3] ? other.segments : base.segments,
    }));

const pairArb = partsArb.chain((pattern) => fc.tuple(fc.constant(pattern), nearbyArb(pattern), suffixArb));

describe("matchesUrlPattern against the rules", () => {
  it("`*` matches every URL", () => {
    fc.assert(fc.property(partsArb, suffixArb, (url, suffix) => matchesUrlPattern(href(url, suffix), "*")));
  });

  it("a pattern without `*` needs the same scheme, host with port, and path; query and fragment do not count", () => {
    fc.assert(
      fc.property(pairArb, ([pattern, url, suffix]) => {
        const expected = pattern.scheme === url.scheme && authority(pattern) === authority(url) && path(pattern) === path(url);
        expect(matchesUrlPattern(href(url, suffix), href(pattern))).toBe(expected);
      }),
    );
  });

  it("a host `*` stands for exactly one label (or a run of digits and dots), and a bare host pattern takes any path", () => {
    const prefixArb = fc.oneof(
      fc.array(label, { minLength: 1, maxLength: 3 }),
      fc.array(fc.stringMatching(/^[0-9]{1,3}$/), { minLength: 1, maxLength: 3 }),
    );
    fc.assert(
      fc.property(partsArb, prefixArb, fc.boolean(), (url, prefix, sameScheme) => {
        const pattern = `${url.scheme}://*.${url.host}`;
        const request: Parts = { ...url, host: `${prefix.join(".")}.${url.host}`, port: undefined, scheme: sameScheme ? url.scheme : "https" };
        const numeric = prefix.every((p) => /^[0-9]+$/.test(p));
        const expected = (sameScheme || url.scheme === "https") && (prefix.length === 1 || numeric);
        expect(matchesUrlPattern(href(request), pattern)).toBe(expected);
      }),
    );
  });

  it("a path ending in `/*` matches by string prefix", () => {
    fc.assert(
      fc.property(pairArb, ([pattern, url, suffix]) => {
        const patternText = `${pattern.scheme}://${authority(pattern)}${path(pattern) === "/" ? "" : path(pattern)}/*`;
        const prefix = path(pattern) === "/" ? "/" : path(pattern);
        const expected = pattern.scheme === url.scheme && authority(pattern) === authority(url) && path(url).startsWith(prefix);
        expect(matchesUrlPattern(href(url, suffix), patternText)).toBe(expected);
      }),
    );
  });

  it("a `*` port (no URL, so matched as text) takes any port and path of that host only", () => {
    fc.assert(
      fc.property(pairArb, fc.integer({ min: 1024, max: 65535 }), ([pattern, url, suffix], port) => {
        const request = { ...url, port };
        const expected = pattern.scheme === url.scheme && pattern.host === url.host;
        expect(matchesUrlPattern(href(request, suffix), `${pattern.scheme}://${pattern.host}:*`)).toBe(expected);
      }),
    );
  });
});

describe("checkHttpRequest against the rules", () => {
  const methodArb = fc.constantFrom<HttpMethod>("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS");
  const methodsArb = fc.uniqueArray(fc.constantFrom<HttpMethod>("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "*"), {
    minLength: 1,
    maxLength: 3,
  });
  const randomCase = (text: string, flips: boolean[]): string =>
    [...text].map((ch, i) => (flips[i % flips.length] ? ch.toLowerCase() : ch)).join("");

  it("when an exact and a wildcard pattern both match, the exact one's methods decide", () => {
    fc.assert(
      fc.property(partsArb, methodsArb, methodsArb, methodArb, (url, exactMethods, wildcardMethods, method) => {
        const exact = href(url);
        const permission: HttpPermission = {
          reason: "r",
          allowLocalNetwork: false,
          // Wildcard listed first: the order of the map must not matter.
          allowedUrls: { [`${url.scheme}://${authority(url)}/*`]: wildcardMethods, [exact]: exactMethods },
        };
        const decision = checkHttpRequest(permission, exact, method);
        if (exactMethods.includes("*") || exactMethods.includes(method)) expect(decision).toEqual({ allowed: true });
        else expect(decision).toEqual({ allowed: false, reason: `operation ${method} not allowed for URL pattern ${exact}` });
      }),
    );
  });

  it("the method's letter case never changes the decision", () => {
    fc.assert(
      fc.property(pairArb, methodsArb, methodArb, fc.array(fc.boolean(), { minLength: 1 }), ([pattern, url], methods, method, flips) => {
        const permission: HttpPermission = { reason: "r", allowLocalNetwork: false, allowedUrls: { [href(pattern)]: methods } };
        expect(checkHttpRequest(permission, href(url), randomCase(method, flips))).toEqual(checkHttpRequest(permission, href(url), method));
      }),
    );
  });

  it("a URL no pattern matches is refused with Navidrome's text", () => {
    fc.assert(
      fc.property(pairArb, methodArb, ([pattern, url], method) => {
        fc.pre(!matchesUrlPattern(href(url), href(pattern)));
        const permission: HttpPermission = { reason: "r", allowLocalNetwork: false, allowedUrls: { [href(pattern)]: ["*"] } };
        expect(checkHttpRequest(permission, href(url), method)).toEqual({
          allowed: false,
          reason: `URL ${href(url)} does not match any allowed URL patterns`,
        });
      }),
    );
  });
});
