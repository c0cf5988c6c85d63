// The http host functions against a real loopback server, called with encoded requests as the runtime does.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import type { HttpMethod, HttpPermission } from "@tonearm/manifest";
import { httpHost } from "@tonearm/proto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { MainContext, MainFunctions } from "../src/host.js";
import { createHttpFunctions } from "../src/main/http/index.js";
import { staticLookup } from "../src/main/network-guard.js";

interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let server: Server;
let base = "";
let port = 0;
let seen: Seen[] = [];

/** Routes: the path picks the behaviour, query parameters tune it. */
function handle(path: string, query: URLSearchParams, req: Seen, res: import("node:http").ServerResponse): void {
  const chain = /^\/chain\/(\d+)$/.exec(path);
  if (chain) {
    const left = Number(chain[1]);
    if (left === 0) {
      res.end(`end after ${req.method}`);
      return;
    }
    res.writeHead(Number(query.get("status") ?? 302), { Location: `/chain/${left - 1}${query.size ? `?${query}` : ""}` });
    res.end(`hop ${left}`);
    return;
  }
  switch (path) {
    case "/hello":
      res.setHeader("x-test", "ok");
      res.setHeader("x-multi", ["one", "two"]);
      res.setHeader("content-type", "text/plain");
      res.writeHead(201);
      res.end("hello");
      return;
    case "/echo":
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(req));
      return;
    case "/head":
      res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": "42" });
      res.end();
      return;
    case "/options":
      res.writeHead(200, { Allow: "GET, POST", "Access-Control-Allow-Methods": "GET, POST" });
      res.end();
      return;
    case "/redirect":
      res.writeHead(Number(query.get("status") ?? 302), { Location: query.get("to") ?? "" });
      res.end("moved");
      return;
    case "/bytes": {
      const size = Number(query.get("size"));
      if (query.get("chunked") === "1") {
        res.write("x".repeat(size - 1));
        res.end("x");
      } else {
        res.end("x".repeat(size));
      }
      return;
    }
    case "/gzip": {
      const text = "compressed ".repeat(Number(query.get("repeat") ?? 10));
      if (String(req.headers["accept-encoding"]).includes("gzip")) {
        res.writeHead(200, { "Content-Encoding": "gzip", "Content-Type": "text/plain" });
        res.end(gzipSync(text));
      } else {
        res.end(text);
      }
      return;
    }
    case "/slow-headers":
      return; // never answers; the client has to give up
    case "/slow-body":
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.write("partial");
      return;
    default:
      res.writeHead(404);
      res.end();
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://x");
      const record: Seen = { method: req.method ?? "", path: url.pathname, headers: req.headers, body: Buffer.concat(chunks).toString() };
      seen.push(record);
      handle(url.pathname, url.searchParams, record, res);
    });
  });
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});

afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((res) => server.close(() => res()));
});

beforeEach(() => {
  seen = [];
});

const lookup = staticLookup({ "public.test": ["127.0.0.1"], "other.test": ["127.0.0.1"] });
const functions = createHttpFunctions({ lookup });
const local = (allowedUrls: Record<string, HttpMethod[]> = { "*": ["*"] }): HttpPermission => ({
  reason: "test",
  allowedUrls,
  allowLocalNetwork: true,
});

async function call(
  name: string,
  request: MessageInitShape<typeof httpHost.HttpRequestSchema>,
  permission: HttpPermission,
  options: { fns?: MainFunctions; signal?: AbortSignal } = {},
): Promise<httpHost.HttpResponse> {
  const handler = (options.fns ?? functions)[name];
  if (!handler) throw new Error(`no env.${name}`);
  const ctx: MainContext = { pluginId: "plugin", permissions: { http: permission }, config: {}, signal: options.signal ?? new AbortController().signal };
  const bytes = await handler(ctx, toBinary(httpHost.HttpRequestSchema, create(httpHost.HttpRequestSchema, request)));
  return fromBinary(httpHost.HttpResponseSchema, bytes);
}

const text = (body: Uint8Array): string => Buffer.from(body).toString();

describe("requests and responses", () => {
  it("offers exactly the ABI's import names", () => {
    expect(Object.keys(functions).sort()).toEqual(["delete", "get", "head", "options", "patch", "post", "put"]);
  });

  it("answers status, body and canonical headers with the first value of each", async () => {
    const response = await call("get", { url: `${base}/hello` }, local());
    expect(response.error).toBe("");
    expect(response.status).toBe(201);
    expect(text(response.body)).toBe("hello");
    expect(response.headers).toMatchObject({ "X-Test": "ok", "X-Multi": "one", "Content-Type": "text/plain" });
    expect(Object.keys(response.headers).every((k) => /^[A-Z][a-z0-9]*(-[A-Z0-9][a-z0-9]*)*$/.test(k))).toBe(true);
  });

  it("forwards request headers once each and sends Go's User-Agent when none is given", async () => {
    await call("get", { url: `${base}/echo`, headers: { "x-custom": "v1", Accept: "application/json" } }, local());
    expect(seen[0]?.headers).toMatchObject({ "x-custom": "v1", accept: "application/json", "user-agent": "Go-http-client/1.1" });
    await call("get", { url: `${base}/echo`, headers: { "user-agent": "my-plugin/1.0", host: "spoofed.example" } }, local());
    expect(seen[1]?.headers["user-agent"]).toBe("my-plugin/1.0");
    expect(seen[1]?.headers.host).toBe(`127.0.0.1:${port}`);
  });

  it("turns credentials in the URL into Basic auth, unless the plugin sets Authorization", async () => {
    await call("get", { url: `http://us%20er:p%40ss@127.0.0.1:${port}/echo` }, local());
    expect(seen[0]?.headers.authorization).toBe(`Basic ${Buffer.from("us er:p@ss").toString("base64")}`);
    await call("get", { url: `http://user:pw@127.0.0.1:${port}/echo`, headers: { Authorization: "Bearer mine" } }, local());
    expect(seen[1]?.headers.authorization).toBe("Bearer mine");
  });

  it("sends the body with POST, PUT and PATCH only", async () => {
    for (const [name, payload] of [["post", "got:abc"], ["put", "put:xyz"], ["patch", "patch:test-patch"]] as const) {
      const response = await call(name, { url: `${base}/echo`, body: Buffer.from(payload) }, local());
      expect(JSON.parse(text(response.body))).toMatchObject({ method: name.toUpperCase(), body: payload });
    }
    for (const name of ["get", "delete"]) {
      const response = await call(name, { url: `${base}/echo`, body: Buffer.from("ignored") }, local());
      expect(JSON.parse(text(response.body))).toMatchObject({ method: name.toUpperCase(), body: "" });
    }
  });

  it("answers HEAD with headers and no body, and OPTIONS with its headers", async () => {
    const head = await call("head", { url: `${base}/head` }, local());
    expect(head.status).toBe(200);
    expect(head.headers).toMatchObject({ "Content-Type": "text/plain", "Content-Length": "42" });
    expect(head.body).toHaveLength(0);
    const capped = await call("head", { url: `${base}/head` }, local(), { fns: createHttpFunctions({ maxResponseBytes: 10 }) });
    expect(capped).toMatchObject({ status: 200, error: "" });
    const options = await call("options", { url: `${base}/options` }, local());
    expect(options.headers).toMatchObject({ Allow: "GET, POST", "Access-Control-Allow-Methods": "GET, POST" });
  });

  it("hands non-2xx statuses over as answers, not errors", async () => {
    const response = await call("get", { url: `${base}/missing` }, local());
    expect(response).toMatchObject({ status: 404, error: "" });
  });
});

describe("permissions", () => {
  it("refuses a URL outside the patterns without contacting the server", async () => {
    const response = await call("get", { url: `${base}/hello` }, local({ "https://api.example.com/*": ["GET"] }));
    expect(response).toMatchObject({
      status: 0,
      error: `Request blocked by plugin permissions: URL ${base}/hello does not match any allowed URL patterns`,
    });
    expect(seen).toHaveLength(0);
  });

  it("refuses a method the pattern does not list", async () => {
    const response = await call("post", { url: `${base}/echo` }, local({ [`${base}/echo`]: ["GET"] }));
    expect(response.error).toBe(`Request blocked by plugin permissions: operation POST not allowed for URL pattern ${base}/echo`);
    expect((await call("get", { url: `${base}/echo` }, local({ [`${base}/echo`]: ["GET"] }))).status).toBe(200);
  });

  it("refuses localhost by name without allowLocalNetwork", async () => {
    const response = await call("get", { url: `http://localhost:${port}/hello` }, { ...local(), allowLocalNetwork: false });
    expect(response).toMatchObject({ status: 0, error: "Request blocked by plugin permissions: requests to localhost are not allowed" });
  });

  it("refuses a public-looking name that resolves to loopback, and allows it with allowLocalNetwork", async () => {
    const url = `http://public.test:${port}/hello`;
    const blocked = await call("get", { url }, { ...local(), allowLocalNetwork: false });
    expect(blocked).toMatchObject({
      status: 0,
      error: "Request blocked by plugin permissions: requests to localhost are not allowed (public.test resolves to 127.0.0.1)",
    });
    expect(seen).toHaveLength(0);
    const allowed = await call("get", { url }, local());
    expect(allowed).toMatchObject({ status: 201, error: "" });
  });
});

describe("redirects", () => {
  it("follows four redirects and answers the fifth 3xx as it is", async () => {
    const followed = await call("get", { url: `${base}/chain/4` }, local());
    expect(followed).toMatchObject({ status: 200, error: "" });
    expect(text(followed.body)).toBe("end after GET");
    expect(seen).toHaveLength(5);

    seen = [];
    const stopped = await call("get", { url: `${base}/chain/5` }, local());
    expect(stopped).toMatchObject({ status: 302, error: "", headers: expect.objectContaining({ Location: "/chain/0" }) as unknown });
    expect(text(stopped.body)).toBe("hop 1");
    expect(seen).toHaveLength(5);
  });

  it("answers the 3xx itself when its target is outside the patterns", async () => {
    const target = "https://elsewhere.example/x";
    const response = await call("get", { url: `${base}/redirect?to=${encodeURIComponent(target)}` }, local({ [`${base}/*`]: ["GET"] }));
    expect(response).toMatchObject({ status: 302, error: "", headers: expect.objectContaining({ Location: target }) as unknown });
    expect(text(response.body)).toBe("moved");
  });

  it("checks the method the redirect will use against the target's pattern", async () => {
    const permission = local({ [`${base}/redirect`]: ["POST"], [`${base}/echo`]: ["POST"] });
    const keep = await call("post", { url: `${base}/redirect?status=307&to=/echo`, body: Buffer.from("payload") }, permission);
    expect(JSON.parse(text(keep.body))).toMatchObject({ method: "POST", body: "payload" });
    // 303 turns POST into GET, which /echo does not allow: the 303 is the answer.
    const switched = await call("post", { url: `${base}/redirect?status=303&to=/echo`, body: Buffer.from("payload") }, permission);
    expect(switched).toMatchObject({ status: 303, error: "" });
  });

  it.each([
    [301, "GET", ""],
    [302, "GET", ""],
    [303, "GET", ""],
    [307, "POST", "payload"],
    [308, "POST", "payload"],
  ])("a %i after POST continues with %s", async (status, method, body) => {
    const response = await call("post", { url: `${base}/redirect?status=${status}&to=/echo`, body: Buffer.from("payload") }, local());
    expect(JSON.parse(text(response.body))).toMatchObject({ method, body });
  });

  it("keeps HEAD a HEAD and sets the Referer to the previous URL", async () => {
    await call("head", { url: `${base}/redirect?status=302&to=/echo` }, local());
    expect(seen.map((s) => s.method)).toEqual(["HEAD", "HEAD"]);
    expect(seen[1]?.headers.referer).toBe(`${base}/redirect?status=302&to=/echo`);
  });

  it("drops credentials when the redirect leaves the host, and keeps them on it", async () => {
    const headers = { Authorization: "Bearer secret", Cookie: "a=b", "X-Other": "kept" };
    await call("get", { url: `${base}/redirect?to=/echo`, headers }, local());
    expect(seen[1]?.headers).toMatchObject({ authorization: "Bearer secret", cookie: "a=b", "x-other": "kept" });
    seen = [];
    await call("get", { url: `${base}/redirect?to=${encodeURIComponent(`http://other.test:${port}/echo`)}`, headers }, local());
    expect(seen[1]?.headers.authorization).toBeUndefined();
    expect(seen[1]?.headers.cookie).toBeUndefined();
    expect(seen[1]?.headers["x-other"]).toBe("kept");
  });

  it("answers a 3xx without Location as it is", async () => {
    const response = await call("get", { url: `${base}/redirect?status=302&to=` }, local());
    expect(response).toMatchObject({ status: 302, error: "" });
    expect(seen).toHaveLength(1);
  });

  it("fails on a Location that is no URL", async () => {
    const response = await call("get", { url: `${base}/redirect?to=${encodeURIComponent("http://[bad")}` }, local());
    expect(response).toMatchObject({ status: 0, error: `Get "${base}/redirect?to=http%3A%2F%2F%5Bbad": failed to parse Location header "http://[bad"` });
  });
});

describe("limits and failures", () => {
  it("gives up after timeout_ms while awaiting headers, with Go's text", async () => {
    const response = await call("get", { url: `${base}/slow-headers`, timeoutMs: 100 }, local());
    expect(response).toMatchObject({
      status: 0,
      error: `Get "${base}/slow-headers": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
    });
  });

  it("gives up while reading a body that never ends", async () => {
    const response = await call("get", { url: `${base}/slow-body`, timeoutMs: 150 }, local());
    expect(response).toMatchObject({ status: 0, error: "context deadline exceeded (Client.Timeout or context cancellation while reading body)" });
  });

  it("uses the configured default timeout when timeout_ms is 0", async () => {
    const fns = createHttpFunctions({ timeoutMs: 100 });
    const response = await call("get", { url: `${base}/slow-headers` }, local(), { fns });
    expect(response.error).toContain("context deadline exceeded");
  });

  it("stops when the plugin call is cancelled", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const response = await call("get", { url: `${base}/slow-headers` }, local(), { signal: controller.signal });
    expect(response).toMatchObject({ status: 0, error: `Get "${base}/slow-headers": context canceled` });
  });

  it("refuses a body over the cap, declared or streamed, and takes one at the cap", async () => {
    const fns = createHttpFunctions({ maxResponseBytes: 1000 });
    expect((await call("get", { url: `${base}/bytes?size=1000` }, local(), { fns })).body).toHaveLength(1000);
    for (const chunked of ["0", "1"]) {
      const response = await call("get", { url: `${base}/bytes?size=1001&chunked=${chunked}` }, local(), { fns });
      expect(response).toMatchObject({
        status: 0,
        error: `Get "${base}/bytes?size=1001&chunked=${chunked}": response body exceeds the limit of 1000 bytes`,
      });
    }
  });

  it("decompresses gzip it asked for, and counts the cap after decompression", async () => {
    const response = await call("get", { url: `${base}/gzip` }, local());
    expect(text(response.body)).toBe("compressed ".repeat(10));
    expect(response.headers["Content-Encoding"]).toBeUndefined();
    expect(seen[0]?.headers["accept-encoding"]).toBe("gzip");

    const raw = await call("get", { url: `${base}/gzip`, headers: { "Accept-Encoding": "gzip" } }, local());
    expect(raw.headers["Content-Encoding"]).toBe("gzip");
    expect(Buffer.from(raw.body).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));

    const fns = createHttpFunctions({ maxResponseBytes: 1000 });
    const bomb = await call("get", { url: `${base}/gzip?repeat=1000` }, local(), { fns });
    expect(bomb.error).toBe(`Get "${base}/gzip?repeat=1000": response body exceeds the limit of 1000 bytes`);
  });

  it("reports a refused connection and an unknown host in `error`", async () => {
    const closed = createServer();
    await new Promise<void>((res) => closed.listen(0, "127.0.0.1", res));
    const closedPort = closed.address() as AddressInfo;
    await new Promise<void>((res) => closed.close(() => res()));
    const refused = await call("get", { url: `http://127.0.0.1:${closedPort.port}/` }, local());
    expect(refused.status).toBe(0);
    expect(refused.error).toBe(`Get "http://127.0.0.1:${closedPort.port}/": connect ECONNREFUSED 127.0.0.1:${closedPort.port}`);

    const unknown = await call("get", { url: "http://nowhere.test/" }, { ...local(), allowLocalNetwork: false });
    expect(unknown.error).toBe('Get "http://nowhere.test/": getaddrinfo ENOTFOUND nowhere.test');
  });
});
