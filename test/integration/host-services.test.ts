// Every host service through the wasm boundary: the host_probe fixture (AssemblyScript, PDK)
// calls them from inside a plugin call, on real loopback servers and real Redis.
import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  createLocalWebSocketGateway,
  createMemoryScheduleStore,
  createPluginHost,
  createRedisCacheStore,
  type CacheStore,
  type LocalWebSocketGateway,
  type WebSocketEvent,
} from "@tonearm/host";
import { CallError } from "@tonearm/abi";
import { parseManifest } from "@tonearm/manifest";
import { invokeJson, Runtime } from "@tonearm/runtime";
import { fixturePaths, readFixture, redisUrl, testNamespace } from "@tonearm/test-harness";
import { Redis } from "ioredis";
import { WebSocketServer } from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const SHARE_URL = "https://music.example.com";
const SECRET = "test-secret";
const schedules = createMemoryScheduleStore();
const events: WebSocketEvent[] = [];
let runtime: Runtime;
let http: Server;
let httpBase: string;
let wss: WebSocketServer;
let wsBase: string;
let subsonic: Server;
let redis: Redis;
let cache: CacheStore;
let gateway: LocalWebSocketGateway;
const namespace = testNamespace("host");

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return typeof address === "object" && address ? address.port : 0;
}

const probe = async (op: string, id = "", mbid = ""): Promise<string> => {
  const response = (await invokeJson(runtime, "host_probe", "MetadataAgent", "GetArtistBiography", { name: op, id, mbid })) as { biography?: string };
  return response.biography ?? "";
};

beforeAll(async () => {
  http = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      res.setHeader("content-type", "text/plain");
      res.end(`${req.method} ${req.url} ${body}`);
    });
  });
  httpBase = `http://127.0.0.1:${await listen(http)}`;

  const wsHttp = createServer();
  wss = new WebSocketServer({ server: wsHttp });
  wss.on("connection", (socket) => socket.on("message", (data) => socket.send(`echo: ${data.toString()}`)));
  wsBase = `ws://127.0.0.1:${await listen(wsHttp)}`;

  subsonic = createServer((req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ "subsonic-response": { status: "ok", version: "1.16.1", path: req.url?.split("?")[0] } }));
  });
  const subsonicUrl = `http://127.0.0.1:${await listen(subsonic)}`;

  redis = new Redis(await redisUrl());
  cache = createRedisCacheStore(redis, { namespace });
  gateway = createLocalWebSocketGateway({ onEvent: (event) => events.push(event) });
  const pluginConfig = { clientid: "abc", region: "eu" };
  runtime = Runtime.create({
    threads: { min: 1, max: 4 },
    host: createPluginHost(
      {
        lookup: (id) => {
          const status = runtime.status(id);
          return status?.state === "ready" ? { manifest: status.plugin.manifest, config: pluginConfig } : undefined;
        },
      },
      {
        http: { timeoutMs: 5_000, maxResponseBytes: 1024 * 1024 },
        artwork: { secret: SECRET, shareUrl: SHARE_URL, baseUrl: "" },
        subsonic: {
          url: subsonicUrl,
          username: "tonearm",
          password: "secret",
          users: { find: (username) => Promise.resolve({ username, isAdmin: username === "admin" }) },
        },
      },
      { cache, schedules, websocket: gateway },
    ),
  });
  await runtime.load({ ...(await readFixture("plugins", "host_probe")), config: pluginConfig });
});

afterAll(async () => {
  await runtime?.close();
  gateway?.closeAll();
  const keys = await redis.keys(`tonearm:${namespace}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis?.disconnect();
  http?.close();
  wss?.close();
  subsonic?.close();
});

describe("http", () => {
  it("makes allowed requests and answers with status, canonical headers and body", async () => {
    expect(await probe("http.get", `${httpBase}/allowed/a?x=1`)).toBe("200 text/plain GET /allowed/a?x=1 ");
    expect(await probe("http.post", `${httpBase}/allowed/b`, "hello")).toBe("200 text/plain POST /allowed/b hello");
  });

  it("blocks URLs and methods the manifest does not allow, with Navidrome's text", async () => {
    expect(await probe("http.get", `${httpBase}/private`)).toMatch(/^error: Request blocked by plugin permissions: /);
    expect(await probe("http.delete", `${httpBase}/allowed/a`)).toMatch(/^error: Request blocked by plugin permissions: /);
  });
});

describe("cache", () => {
  it("stores and reads every type, per plugin, with has and remove", async () => {
    expect(await probe("cache.set.string", "s", "text")).toBe("ok");
    expect(await probe("cache.get.string", "s")).toBe("text");
    expect(await probe("cache.set.int", "i", "-42")).toBe("ok");
    expect(await probe("cache.get.int", "i")).toBe("-42");
    expect(await probe("cache.set.float", "f", "2.5")).toBe("ok");
    expect(await probe("cache.get.float", "f")).toBe("2.5");
    expect(await probe("cache.set.bytes", "b", "raw")).toBe("ok");
    expect(await probe("cache.get.bytes", "b")).toBe("raw");
    expect(await probe("cache.get.int", "s")).toBe("(missing)");
    expect(await probe("cache.has", "s")).toBe("true");
    expect(await probe("cache.remove", "s")).toBe("ok");
    expect(await probe("cache.has", "s")).toBe("false");
    expect(await probe("cache.remove", "never-set")).toBe("ok");
    expect(await cache.get("host_probe", "i")).toEqual({ type: "int", value: -42n });
    expect(await cache.get("another_plugin", "i")).toBeUndefined();
  });
});

describe("config, artwork and time", () => {
  it("hands the plugin its own config", async () => {
    expect(await probe("config")).toBe("clientid=abc;region=eu");
  });

  it("builds signed artwork URLs on the share URL", async () => {
    const url = await probe("artwork.album", "al123", "300");
    const match = /^https:\/\/music\.example\.com\/share\/img\/([\w-]+\.[\w-]+\.[\w-]+)\?size=300$/.exec(url);
    expect(match).not.toBeNull();
    const claims = JSON.parse(Buffer.from(match![1]!.split(".")[1]!, "base64url").toString()) as Record<string, unknown>;
    expect(claims).toEqual({ id: "al-al123_0", iss: "ND" });
    expect(await probe("artwork.artist", "ar1")).toMatch(/^https:\/\/music\.example\.com\/share\/img\/[\w.-]+$/);
  });

  it("tells the time", async () => {
    const [rfc3339, unixMilli] = (await probe("time")).split(" ");
    expect(rfc3339).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
    expect(Math.abs(Number(unixMilli) - Date.now())).toBeLessThan(60_000);
  });
});

describe("scheduler", () => {
  it("stores schedules, answers invalid ones in the response and cancels", async () => {
    expect(await probe("schedule.once", "job-1")).toBe("job-1");
    expect(await probe("schedule.recurring", "job-2", "@every 5m")).toBe("job-2");
    expect((await schedules.list("host_probe")).map((s) => s.scheduleId).sort()).toEqual(["job-1", "job-2"]);
    expect(await probe("schedule.recurring", "bad", "not a cron")).toMatch(/^error: failed to schedule recurring job: /);
    expect(await probe("schedule.cancel", "job-1")).toBe("ok");
    expect(await probe("schedule.cancel", "job-1")).toBe("error: schedule not found");
  });
});

describe("subsonicapi", () => {
  it("forwards calls of allowed users and refuses others", async () => {
    const json = JSON.parse(await probe("subsonic", "/rest/ping?u=alice")) as { "subsonic-response": { status: string; path: string } };
    expect(json["subsonic-response"]).toMatchObject({ status: "ok", path: "/rest/ping" });
    expect(await probe("subsonic", "/rest/ping?u=bob")).toMatch(/^error: .*bob/);
  });
});

describe("websocket", () => {
  it("connects, sends, receives through the gateway and closes", async () => {
    expect(await probe("ws.connect", `${wsBase}/allowed`, "conn-1")).toBe("conn-1");
    expect(await probe("ws.send", "conn-1", "hi")).toBe("ok");
    await expect.poll(() => events.find((e) => e.kind === "text")).toMatchObject({ pluginId: "host_probe", connectionId: "conn-1", message: "echo: hi" });
    expect(await probe("ws.close", "conn-1", "bye")).toBe("ok");
    expect(await probe("ws.send", "conn-1", "again")).toBe("error: connection not found");
    expect(await probe("ws.connect", `${wsBase}/elsewhere`)).toMatch(/^error: Connection blocked by plugin permissions: /);
  });
});

describe("permissions", () => {
  it("refuses to load the same module when its manifest does not grant what it imports", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tonearm-probe-"));
    await cp(fixturePaths.plugin("plugins", "host_probe"), dir, { recursive: true });
    const manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as { permissions: Record<string, unknown> };
    delete manifest.permissions.http;
    await writeFile(join(dir, "manifest.json"), JSON.stringify(manifest));
    const spec = { id: "host_probe_without_http", manifest: parseManifest(JSON.stringify(manifest)), wasm: new Uint8Array(await readFile(join(dir, "plugin.wasm"))) };
    const error = await runtime.load(spec).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(CallError);
    expect((error as CallError).message).toMatch(/"(get|post|delete)" is not exported in module "env"/);
  });
});

describe("tonearm call", () => {
  const BIN = fileURLToPath(new URL("../../services/cli/dist/main.js", import.meta.url));
  const run = (...args: string[]) =>
    new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(process.execPath, [BIN, "call", "--folder", fixturePaths.folder("plugins"), ...args], { timeout: 20_000 }, (err, stdout) =>
        resolve({ code: err ? 1 : 0, stdout }),
      );
    });

  it("shows host services end to end from the command line", async () => {
    const got = await run("host_probe", "MetadataAgent/GetArtistBiography", JSON.stringify({ name: "http.get", id: `${httpBase}/allowed/cli` }));
    expect(got).toEqual({ code: 0, stdout: `{"biography":"200 text/plain GET /allowed/cli "}\n` });
    const cached = await run("host_probe", "MetadataAgent/GetArtistBiography", JSON.stringify({ name: "cache.set.string", id: "k", mbid: "v" }));
    expect(cached).toEqual({ code: 0, stdout: `{"biography":"ok"}\n` });
    const scheduled = await run("host_probe", "MetadataAgent/GetArtistBiography", JSON.stringify({ name: "schedule.recurring", id: "x", mbid: "@daily" }));
    expect(scheduled).toEqual({ code: 0, stdout: `{"biography":"x"}\n` });
  });
});
