// `env.call` (subsonicapi) against a real Subsonic server on loopback: Navidrome's parameter rules,
// permission checks and error texts (ABI.md §11.5 and the host_subsonicapi lines of §4.2), with
// the request forwarded under token auth.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { SubsonicApiPermission } from "@tonearm/manifest";
import { subsonicHost } from "@tonearm/proto";
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { MainContext, MainFunctions } from "../src/host.js";
import { createSubsonicFunctions, type SubsonicSettings, type SubsonicUserDirectory } from "../src/main/subsonic/index.js";

const ACCOUNT = { username: "tonearm", password: "s3cret pässword" };
const USERS: Record<string, { username: string; adminRole: boolean }> = {
  alice: { username: "alice", adminRole: false },
  admin: { username: "admin", adminRole: true },
  tonearm: { username: "tonearm", adminRole: true },
};

interface Received {
  readonly path: string;
  /** Decoded parameters, each with its values in order. */
  readonly params: Record<string, string[]>;
  readonly rawQuery: string;
}

let server: Server;
let baseUrl: string;
let received: Received[] = [];
/** Lets a test answer a request itself instead of the simulated Subsonic API. */
let override: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined;

const subsonic = (body: Record<string, unknown>, status = "ok"): string =>
  JSON.stringify({ "subsonic-response": { status, version: "1.16.1", ...body } });

/** A Subsonic server: checks token auth, answers getUser from USERS and echoes every other request. */
function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://localhost");
  const params: Record<string, string[]> = {};
  for (const [key, value] of url.searchParams) (params[key] ??= []).push(value);
  received.push({ path: url.pathname, params, rawQuery: url.search.slice(1) });
  if (override?.(req, res)) return;

  res.setHeader("content-type", "application/json");
  const one = (name: string): string => url.searchParams.get(name) ?? "";
  const expectedToken = createHash("md5").update(ACCOUNT.password + one("s")).digest("hex");
  if (one("u") !== ACCOUNT.username || one("t") !== expectedToken || one("s").length < 6) {
    res.end(subsonic({ error: { code: 40, message: "Wrong username or password" } }, "failed"));
    return;
  }
  if (url.pathname.endsWith("/rest/getUser")) {
    const user = USERS[one("username").toLowerCase()];
    res.end(user ? subsonic({ user }) : subsonic({ error: { code: 70, message: "User not found" } }, "failed"));
    return;
  }
  res.end(subsonic({ echo: { path: url.pathname } }));
}

beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  received = [];
  override = undefined;
});

type Permission = Pick<SubsonicApiPermission, "allowedUsernames" | "allowAdmins">;

async function call(functions: MainFunctions, url: string, permission: Permission = { allowedUsernames: [], allowAdmins: true }) {
  const ctx: MainContext = {
    pluginId: "subsonicapi-demo",
    permissions: { subsonicapi: { reason: "tests", ...permission } },
    config: {},
    signal: new AbortController().signal,
  };
  const fn = functions.call;
  if (!fn) throw new Error("no env.call");
  return fromBinary(subsonicHost.CallResponseSchema, await fn(ctx, toBinary(subsonicHost.CallRequestSchema, create(subsonicHost.CallRequestSchema, { url }))));
}

const forwarding = (extra: Partial<SubsonicSettings> = {}): MainFunctions => createSubsonicFunctions({ url: baseUrl, ...ACCOUNT, ...extra });
const calls = (): Received[] => received.filter((r) => !r.path.endsWith("/getUser"));

describe("forwarding", () => {
  it("answers the server's JSON; the server gets c=<plugin id>, f=json, v=1.16.1 and the caller's parameters", async () => {
    const answer = await call(forwarding(), "/rest/getAlbum?u=alice&id=al-1");
    expect(answer.error).toBe("");
    expect(JSON.parse(answer.json)).toMatchObject({ "subsonic-response": { status: "ok", echo: { path: "/rest/getAlbum" } } });
    expect(calls()).toHaveLength(1);
    expect(calls()[0]?.params).toMatchObject({ c: ["subsonicapi-demo"], f: ["json"], v: ["1.16.1"], id: ["al-1"] });
  });

  it("authenticates as the configured account by token, never sending the password", async () => {
    await call(forwarding(), "/rest/ping?u=alice");
    const [request] = calls();
    const salt = request?.params.s?.[0] ?? "";
    expect(request?.params).toMatchObject({ u: ["tonearm"], t: [createHash("md5").update(ACCOUNT.password + salt).digest("hex")] });
    expect(salt).toMatch(/^[0-9a-f]{16}$/);
    expect(request?.params.p).toBeUndefined();
    expect(request?.rawQuery).not.toContain(encodeURIComponent(ACCOUNT.password));
  });

  it("uses a fresh salt on every request", async () => {
    const functions = forwarding();
    await call(functions, "/rest/ping?u=alice");
    await call(functions, "/rest/ping?u=alice");
    const [first, second] = calls().map((r) => r.params.s?.[0]);
    expect(first).not.toBe(second);
  });

  it("overrides the plugin's c, f and v and drops its own credentials", async () => {
    await call(forwarding(), "/rest/ping?u=alice&c=other&f=xml&v=1.0.0&p=guess&t=abc&s=def&apiKey=k");
    const params = calls()[0]?.params ?? {};
    expect(params).toMatchObject({ c: ["subsonicapi-demo"], f: ["json"], v: ["1.16.1"], u: ["tonearm"] });
    expect(params.p).toBeUndefined();
    expect(params.apiKey).toBeUndefined();
    expect(params.t).toHaveLength(1);
    expect(params.s).toHaveLength(1);
  });

  it.each([
    ["/rest/ping?u=alice", "/rest/ping"],
    ["/ping?u=alice", "/rest/ping"],
    ["/rest/ping.view?u=alice", "/rest/ping.view"],
    ["/some/other/prefix/ping?u=alice", "/rest/ping"],
    ["https://elsewhere.example/rest/ping?u=alice", "/rest/ping"],
    ["/rest/ping/?u=alice", "/rest/ping"],
    ["ping?u=alice", "/rest/ping"],
    ["/rest/get%20it?u=alice", "/rest/get%20it"],
    ["/rest/a%2Fb?u=alice", "/rest/b"], // Go unescapes before taking the last segment
  ])("%s reaches the server at %s", async (url, path) => {
    expect((await call(forwarding(), url)).error).toBe("");
    expect(calls().map((r) => r.path)).toEqual([path]);
  });

  it("keeps a path prefix of the configured URL", async () => {
    await call(forwarding({ url: `${baseUrl}/music/` }), "/rest/ping?u=alice");
    expect(calls().map((r) => r.path)).toEqual(["/music/rest/ping"]);
  });

  it("re-encodes the query as Go does: values decoded, repeated values kept in order, malformed pairs dropped", async () => {
    await call(forwarding(), "/rest/search3?u=alice&query=a+b%20c%C3%A9&id=2&id=1&bad=%zz&semi=1;x=2&&flag");
    const params = calls()[0]?.params ?? {};
    expect(params).toMatchObject({ query: ["a b cé"], id: ["2", "1"], flag: [""] });
    expect(params.bad).toBeUndefined();
    expect(params.semi).toBeUndefined();
    expect(calls()[0]?.rawQuery).toMatch(/^c=subsonicapi-demo&f=json&flag=&id=2&id=1&query=a\+b\+c%C3%A9&s=[0-9a-f]+&t=[0-9a-f]+&u=tonearm&v=1\.16\.1$/);
  });

  it("passes a Subsonic error through in the JSON, as Navidrome does", async () => {
    const answer = await call(forwarding({ password: "wrong" }), "/rest/ping?u=alice");
    expect(answer.error).toBe("");
    expect(JSON.parse(answer.json)).toMatchObject({ "subsonic-response": { status: "failed", error: { code: 40 } } });
  });

  it("passes a Subsonic JSON error sent with a non-2xx status through", async () => {
    override = (_req, res) => {
      res.writeHead(404, { "content-type": "application/json" }).end(subsonic({ error: { code: 0, message: "not found" } }, "failed"));
      return true;
    };
    expect(await call(forwarding(), "/rest/nope?u=alice")).toMatchObject({ error: "", json: expect.stringContaining('"not found"') as unknown });
  });

  it("reports a non-Subsonic failure (a proxy's HTML error page) in error", async () => {
    override = (_req, res) => {
      res.writeHead(502, "Bad Gateway", { "content-type": "text/html" }).end("<html>bad gateway</html>");
      return true;
    };
    expect(await call(forwarding(), "/rest/ping?u=alice")).toMatchObject({ json: "", error: "SubsonicAPI request failed: HTTP 502 Bad Gateway" });
  });

  it("reports an unreachable server in error", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const answer = await call(createSubsonicFunctions({ url: `http://127.0.0.1:${port}`, ...ACCOUNT }), "/rest/ping?u=alice");
    expect(answer.error).toMatch(/^SubsonicAPI request failed: fetch failed: .*ECONNREFUSED/);
  });

  it("refuses a body larger than the limit", async () => {
    override = (_req, res) => {
      res.setHeader("content-type", "application/json");
      res.write(`{"subsonic-response":{"padding":"`);
      res.end(`${"x".repeat(4_096)}"}}`);
      return true;
    };
    expect(await call(forwarding({ maxResponseBytes: 1_024 }), "/rest/ping?u=alice")).toMatchObject({
      json: "",
      error: "SubsonicAPI request failed: response larger than 1024 bytes",
    });
  });

  it("gives up when the plugin call is cancelled", async () => {
    override = () => true; // never answers
    const abort = new AbortController();
    const ctx: MainContext = { pluginId: "p", permissions: { subsonicapi: { reason: "tests", allowedUsernames: [], allowAdmins: true } }, config: {}, signal: abort.signal };
    const request = toBinary(subsonicHost.CallRequestSchema, create(subsonicHost.CallRequestSchema, { url: "/rest/ping?u=alice" }));
    const pending = forwarding().call!(ctx, request);
    await expect.poll(() => received.length).toBe(1);
    abort.abort();
    expect(fromBinary(subsonicHost.CallResponseSchema, await pending).error).toMatch(/^SubsonicAPI request failed: .*abort/i);
  });

  it("uses the injected fetch", async () => {
    const seen: string[] = [];
    const fetchSpy: typeof fetch = (input, init) => {
      seen.push(String(input));
      return fetch(input, init);
    };
    await call(forwarding({ fetch: fetchSpy }), "/rest/ping?u=alice");
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(new RegExp(`^${baseUrl}/rest/ping\\?`));
  });
});

describe("refusals, with Navidrome's texts", () => {
  it("no server configured → SubsonicAPI router not available", async () => {
    expect(await call(createSubsonicFunctions(), "/rest/ping?u=alice")).toMatchObject({ json: "", error: "SubsonicAPI router not available" });
    expect(await call(createSubsonicFunctions({ url: "" }), "/rest/ping?u=alice")).toMatchObject({ error: "SubsonicAPI router not available" });
  });

  it.each([
    ["%zz", 'invalid URL format: parse "%zz": invalid URL escape "%zz"'],
    ["/rest/ping%2?u=alice", 'invalid URL format: parse "/rest/ping%2?u=alice": invalid URL escape "%2"'],
    ["/rest/%\u20ac?u=alice", 'invalid URL format: parse "/rest/%\u20ac?u=alice": invalid URL escape "%\\xe2\\x82"'], // cut inside a character
    ["://example.com/rest/ping?u=alice", 'invalid URL format: parse "://example.com/rest/ping?u=alice": missing protocol scheme'],
    ["1a:b/ping?u=alice", 'invalid URL format: parse "1a:b/ping?u=alice": first path segment in URL cannot contain colon'],
    ["/rest/ping\n?u=alice", 'invalid URL format: parse "/rest/ping\\n?u=alice": net/url: invalid control character in URL'],
    ["http://host:port/rest/ping?u=alice", 'invalid URL format: parse "http://host:port/rest/ping?u=alice": invalid port ":port" after host'],
    ["http://[::1/rest/ping?u=alice", `invalid URL format: parse "http://[::1/rest/ping?u=alice": missing ']' in host`],
    ["http://ho st/rest/ping?u=alice", 'invalid URL format: parse "http://ho st/rest/ping?u=alice": invalid character " " in host name'],
    ["http://a b@host/rest/ping?u=alice", 'invalid URL format: parse "http://a b@host/rest/ping?u=alice": net/url: invalid userinfo'],
    ["/rest/ping?u=alice#%zz", 'invalid URL format: parse "/rest/ping?u=alice#%zz": invalid URL escape "%zz"'],
    ["/rest/p%C3ng?u=alice#x%", 'invalid URL format: parse "/rest/p%C3ng?u=alice#x%": invalid URL escape "%"'],
  ])("%j → %j", async (url, error) => {
    expect(await call(forwarding(), url)).toMatchObject({ json: "", error });
    expect(received).toEqual([]);
  });

  it.each(["/rest/ping", "/rest/ping?id=1", "/rest/ping?u=", "/rest/ping?u=%zz", "/rest/ping?U=alice", ""])(
    "%j → missing required parameter 'u' (username)",
    async (url) => {
      expect(await call(forwarding(), url)).toMatchObject({ error: "missing required parameter 'u' (username)" });
      expect(received).toEqual([]);
    },
  );

  it("the first u counts", async () => {
    expect(await call(forwarding(), "/rest/ping?u=alice&u=bob", { allowedUsernames: ["alice"], allowAdmins: true })).toMatchObject({ error: "" });
    expect(await call(forwarding(), "/rest/ping?u=bob&u=alice", { allowedUsernames: ["alice"], allowAdmins: true })).toMatchObject({
      error: "username bob is not allowed",
    });
  });

  it("a username outside allowedUsernames → not allowed; the list matches case-insensitively", async () => {
    const permission = { allowedUsernames: ["Alice", "admin"], allowAdmins: true };
    expect(await call(forwarding(), "/rest/ping?u=bob", permission)).toMatchObject({ error: "username bob is not allowed" });
    expect(received).toEqual([]);
    expect(await call(forwarding(), "/rest/ping?u=ALICE", permission)).toMatchObject({ error: "" });
  });

  it("without allowAdmins an admin is refused, after a getUser lookup as the configured account", async () => {
    expect(await call(forwarding(), "/rest/ping?u=admin", { allowedUsernames: [], allowAdmins: false })).toMatchObject({
      json: "",
      error: "calling SubsonicAPI as admin user is not allowed",
    });
    expect(received.map((r) => r.path)).toEqual(["/rest/getUser"]);
    expect(received[0]?.params).toMatchObject({ username: ["admin"], u: ["tonearm"], f: ["json"] });
  });

  it("without allowAdmins an unknown user is refused", async () => {
    expect(await call(forwarding(), "/rest/ping?u=ghost", { allowedUsernames: [], allowAdmins: false })).toMatchObject({
      error: "username ghost not found",
    });
  });

  it("without allowAdmins a regular user goes through", async () => {
    expect(await call(forwarding(), "/rest/ping?u=alice", { allowedUsernames: [], allowAdmins: false })).toMatchObject({ error: "" });
    expect(received.map((r) => r.path)).toEqual(["/rest/getUser", "/rest/ping"]);
  });

  it("with allowAdmins an admin goes through without a lookup (the subsonicapi-demo manifest)", async () => {
    expect(await call(forwarding(), "/rest/ping?u=admin", { allowedUsernames: ["admin"], allowAdmins: true })).toMatchObject({ error: "" });
    expect(received.map((r) => r.path)).toEqual(["/rest/ping"]);
  });

  it("a plugin without subsonicapi settings gets Navidrome's defaults: any user, no admins", async () => {
    const ctx: MainContext = { pluginId: "p", permissions: {}, config: {}, signal: new AbortController().signal };
    const request = toBinary(subsonicHost.CallRequestSchema, create(subsonicHost.CallRequestSchema, { url: "/rest/ping?u=admin" }));
    const answer = fromBinary(subsonicHost.CallResponseSchema, await forwarding().call!(ctx, request));
    expect(answer.error).toBe("calling SubsonicAPI as admin user is not allowed");
  });

  it("a getUser answer about someone else (Navidrome describes the caller) is not trusted", async () => {
    override = (req, res) => {
      if (!req.url?.includes("/getUser")) return false;
      res.setHeader("content-type", "application/json");
      res.end(subsonic({ user: USERS.tonearm }));
      return true;
    };
    expect(await call(forwarding(), "/rest/ping?u=alice", { allowedUsernames: [], allowAdmins: false })).toMatchObject({
      error: "permissions check failed: the Subsonic server did not describe user alice (getUser answered for tonearm)",
    });
  });

  it("a getUser the account may not make is reported", async () => {
    override = (req, res) => {
      if (!req.url?.includes("/getUser")) return false;
      res.setHeader("content-type", "application/json");
      res.end(subsonic({ error: { code: 50, message: "User is not authorized for the given operation." } }, "failed"));
      return true;
    };
    expect(await call(forwarding(), "/rest/ping?u=alice", { allowedUsernames: [], allowAdmins: false })).toMatchObject({
      error: "permissions check failed: getUser: User is not authorized for the given operation. (Subsonic error 50)",
    });
  });

  it("an injected user directory replaces the getUser lookup", async () => {
    const users: SubsonicUserDirectory = {
      find: (username) => Promise.resolve(username === "carol" ? { username: "carol", isAdmin: false } : undefined),
    };
    expect(await call(forwarding({ users }), "/rest/ping?u=carol", { allowedUsernames: [], allowAdmins: false })).toMatchObject({ error: "" });
    expect(await call(forwarding({ users }), "/rest/ping?u=alice", { allowedUsernames: [], allowAdmins: false })).toMatchObject({
      error: "username alice not found",
    });
    expect(received.map((r) => r.path)).toEqual(["/rest/ping"]);
  });

  it.each([
    ["/rest/..%2F?u=alice", '".."'],
    ["/rest/.?u=alice", '"."'],
    ["/?u=alice", '"/"'],
    ["?u=alice", '"."'],
  ])("%j names no endpoint → refused before reaching the server", async (url, endpoint) => {
    expect(await call(forwarding(), url)).toMatchObject({ error: `invalid SubsonicAPI endpoint ${endpoint}` });
    expect(received).toEqual([]);
  });
});

describe("settings", () => {
  it("a server URL without credentials is a configuration error", () => {
    expect(() => createSubsonicFunctions({ url: baseUrl })).toThrow("subsonicapi: a server url needs the username and password");
  });

  it.each(["not a url", "ftp://music.example.com"])("%j is refused", (url) => {
    expect(() => createSubsonicFunctions({ url, ...ACCOUNT })).toThrow(/^subsonicapi: /);
  });
});
