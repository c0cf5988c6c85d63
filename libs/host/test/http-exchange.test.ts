// The exchange's decisions with a scripted transport: what no loopback server can show, since
// only public addresses pass the local-network rule.
import type { HttpPermission } from "@tonearm/manifest";
import { describe, expect, it } from "vitest";
import { exchange, type PluginHttpRequest } from "../src/main/http/exchange.js";
import type { Hop, HopResponse, HttpTransport } from "../src/main/http/transport.js";
import { BlockedAddressError } from "../src/main/network-guard.js";

type Script = (hop: Hop, index: number) => HopResponse | Error;

function scripted(script: Script): { transport: HttpTransport; hops: Hop[] } {
  const hops: Hop[] = [];
  const transport: HttpTransport = (hop) => {
    hops.push(hop);
    const outcome = script(hop, hops.length - 1);
    return outcome instanceof Error ? Promise.reject(outcome) : Promise.resolve(outcome);
  };
  return { transport, hops };
}

const redirect = (location: string, status = 302): HopResponse => ({
  status,
  headers: { Location: location },
  body: Buffer.from("moved"),
});
const ok: HopResponse = { status: 200, headers: {}, body: Buffer.from("ok") };
const publicOnly: HttpPermission = { reason: "r", allowedUrls: { "*": ["*"] }, allowLocalNetwork: false };
const request = (url: string, headers: Record<string, string> = {}): PluginHttpRequest => ({ url, headers, timeoutMs: 0, body: new Uint8Array() });

async function run(script: Script, req: PluginHttpRequest, permission = publicOnly) {
  const { transport, hops } = scripted(script);
  const response = await exchange("GET", req, permission, { transport, defaultTimeoutMs: 1000 }, new AbortController().signal);
  return { response, hops };
}

describe("exchange", () => {
  it("answers the 3xx when the redirect target resolves into the local network", async () => {
    const { response, hops } = await run(
      (_hop, i) => (i === 0 ? redirect("https://rebound.example/") : new BlockedAddressError("rebound.example", "10.0.0.7", "private")),
      request("https://start.example/"),
    );
    expect(hops).toHaveLength(2);
    expect(response).toMatchObject({ status: 302, error: "", headers: { Location: "https://rebound.example/" } });
    expect(Buffer.from(response.body).toString()).toBe("moved");
  });

  it("refuses the first request when its name resolves into the local network, whatever wraps the error", async () => {
    const blocked = new BlockedAddressError("start.example", "169.254.169.254", "link-local");
    const { response } = await run(() => new Error("connect failed", { cause: blocked }), request("https://start.example/"));
    expect(response).toMatchObject({
      status: 0,
      error: "Request blocked by plugin permissions: requests to private IP addresses are not allowed (start.example resolves to 169.254.169.254)",
    });
  });

  it("does not follow a redirect to a literal local address", async () => {
    const { response, hops } = await run(() => redirect("http://127.0.0.1:8080/admin"), request("https://start.example/"));
    expect(hops).toHaveLength(1);
    expect(response.status).toBe(302);
  });

  it("keeps credentials dropped once the redirects left the host, even when they come back", async () => {
    const { hops } = await run(
      (_hop, i) => [redirect("https://cdn.start.example/a"), redirect("https://other.example/b"), redirect("https://start.example/c"), ok][i] ?? ok,
      request("https://start.example/", { authorization: "Bearer t" }),
    );
    expect(hops.map((h) => h.headers["Authorization"])).toEqual(["Bearer t", "Bearer t", undefined, undefined]);
  });

  it("sends the previous URL as Referer, the plugin's own Referer if it set one, and none from https to http", async () => {
    const withoutReferer = await run(
      (_hop, i) => [redirect("https://b.example/"), redirect("http://c.example/"), ok][i] ?? ok,
      request("https://user:pw@a.example/start"),
    );
    expect(withoutReferer.hops.map((h) => h.headers["Referer"])).toEqual([undefined, "https://a.example/start", undefined]);

    const explicit = await run((_hop, i) => (i === 0 ? redirect("https://b.example/") : ok), request("https://a.example/", { referer: "mine" }));
    expect(explicit.hops.map((h) => h.headers["Referer"])).toEqual(["mine", "mine"]);
  });

  it("resolves a relative Location against the current URL", async () => {
    const { hops } = await run((_hop, i) => (i === 0 ? redirect("../up?x=1") : ok), request("https://a.example/one/two"));
    expect(hops[1]?.url.href).toBe("https://a.example/up?x=1");
  });

  it("runs one deadline over all hops", async () => {
    const signals: AbortSignal[] = [];
    const transport: HttpTransport = (_hop, { signal }) => {
      signals.push(signal);
      return Promise.resolve(signals.length < 3 ? redirect("/again") : ok);
    };
    await exchange("GET", { ...request("https://a.example/"), timeoutMs: 50 }, publicOnly, { transport, defaultTimeoutMs: 1000 }, new AbortController().signal);
    expect(new Set(signals).size).toBe(1);
  });
});
