// The ws-ticker example on the real runtime and host (real WebSocket connections, in-memory cache,
// recorded schedules), against a loopback feed. Schedules are fired by the test, as the scheduler
// service would fire them.
import { createServer } from "node:net";
import { startPlugin, type PluginUnderTest } from "@tonearm/plugin-testkit";
import { WebSocketServer, type WebSocket } from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exampleFolder } from "../../shared/test/examples.js";

const PLUGIN = "ws-ticker";
const SUBSCRIBE = '{"type":"subscribe","channels":["ticker"]}';

interface FeedConnection {
  readonly socket: WebSocket;
  readonly path: string;
  readonly received: string[];
}

const connections: FeedConnection[] = [];
let feed: WebSocketServer;
let feedUrl: string;
/** Allowed by the test's manifest, but nothing listens there. */
let deadFeedUrl: string;
let host: PluginUnderTest;

const latest = (): FeedConnection => {
  const last = connections.at(-1);
  if (!last) throw new Error("no connection to the feed yet");
  return last;
};

async function scheduleIds(): Promise<string[]> {
  return (await host.schedules.list()).map((s) => s.scheduleId).sort();
}

/** Drops the pending retry, as if it had run, so the next test starts without one. */
async function cancelReconnect(): Promise<void> {
  await host.schedules.cancel("ticker-reconnect");
  await host.cache.remove("ticker.reconnect-pending");
}

async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === "object" && address ? address.port : 0;
}

beforeAll(async () => {
  feed = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => feed.once("listening", resolve));
  feed.on("connection", (socket, request) => {
    const connection: FeedConnection = { socket, path: request.url ?? "", received: [] };
    socket.on("message", (data) => connection.received.push(data.toString()));
    connections.push(connection);
  });
  const address = feed.address();
  feedUrl = `ws://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/feed`;
  deadFeedUrl = `ws://127.0.0.1:${await unusedPort()}/feed`;

  host = await startPlugin(await exampleFolder(PLUGIN), {
    config: { url: feedUrl, subscribe: SUBSCRIBE, ping: "ping" },
    // Each test runs OnInit itself, with the config it is about.
    init: false,
    adjustManifest: (manifest) => {
      manifest.permissions.websocket = { reason: "test feeds on loopback", allowLocalNetwork: true, allowedUrls: [feedUrl, deadFeedUrl] };
    },
  });
});

afterAll(async () => {
  await host?.close();
  await new Promise<void>((resolve) => (feed ? feed.close(() => resolve()) : resolve()));
});

describe("OnInit", () => {
  it("connects, sends the subscribe message and starts the heartbeat", async () => {
    await host.init({ url: feedUrl, subscribe: SUBSCRIBE, ping: "ping" });
    await expect.poll(() => connections.length).toBe(1);
    expect(latest().path).toBe("/feed");
    await expect.poll(() => latest().received).toEqual([SUBSCRIBE]);
    const [heartbeat] = await host.schedules.list();
    expect(heartbeat).toMatchObject({ scheduleId: "ticker-heartbeat", kind: "recurring", expression: "@every 30s" });
  });

  it("refuses a URL that is not a WebSocket URL", async () => {
    await expect(host.init({ url: "https://ws-feed.example.com" })).rejects.toThrow(
      'config "url" must be a ws:// or wss:// URL, got "https://ws-feed.example.com"',
    );
  });

  it("fails for a feed the manifest does not allow, without retrying", async () => {
    const before = connections.length;
    const elsewhere = feedUrl.replace("/feed", "/elsewhere");
    await expect(host.init({ url: elsewhere })).rejects.toThrow(/^Connection blocked by plugin permissions: /);
    expect(connections.length).toBe(before);
    expect(await scheduleIds()).not.toContain("ticker-reconnect");
  });

  it("succeeds when the feed is down and retries it later", async () => {
    await host.init({ url: deadFeedUrl });
    expect(await host.schedules.get("ticker-reconnect")).toMatchObject({ kind: "once", delaySeconds: 5 });
    expect(host.logs.some((line) => line.includes(`connecting to ${deadFeedUrl} failed`))).toBe(true);
  });

  it("waits twice as long after each failed retry, up to 5 minutes, and starts over once connected", async () => {
    // Retries read the feed from the config, as the host hands it over.
    await host.setConfig({ url: deadFeedUrl });
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      await host.schedules.fire("ticker-reconnect");
      const next = await host.schedules.get("ticker-reconnect");
      delays.push(next?.kind === "once" ? next.delaySeconds : -1);
    }
    expect(delays).toEqual([10, 20, 40, 80, 160, 300, 300, 300]);
    await host.setConfig({ url: feedUrl, subscribe: SUBSCRIBE, ping: "ping" });
    await host.init();
    expect(await host.cache.get("ticker.reconnect-attempts")).toBeUndefined();
    await cancelReconnect();
  });
});

describe("feed messages", () => {
  it("keeps the latest message in the cache and logs it", async () => {
    latest().socket.send('{"type":"ticker","price":"42000.01"}');
    latest().socket.send('{"type":"ticker","price":"42000.02"}');
    await expect.poll(() => host.cache.get("ticker.last")).toEqual({ type: "string", value: '{"type":"ticker","price":"42000.02"}' });
    expect(host.logs).toContain('ws-ticker: {"type":"ticker","price":"42000.01"}');
  });

  it("sends the ping text when the heartbeat fires", async () => {
    await host.schedules.fire("ticker-heartbeat");
    await expect.poll(() => latest().received.at(-1)).toBe("ping");
  });
});

describe("reconnecting", () => {
  it("schedules a reconnect in 5 s when the feed closes the connection, and reconnects when it fires", async () => {
    expect(await scheduleIds()).toEqual(["ticker-heartbeat"]);
    const before = connections.length;
    latest().socket.close(1001, "going away");
    await expect.poll(scheduleIds).toEqual(["ticker-heartbeat", "ticker-reconnect"]);
    const reconnect = (await host.schedules.list()).find((s) => s.scheduleId === "ticker-reconnect");
    expect(reconnect).toMatchObject({ kind: "once", delaySeconds: 5 });
    expect(host.logs.some((line) => line.includes("connection closed: 1001 going away"))).toBe(true);

    await host.schedules.fire("ticker-reconnect");
    await cancelReconnect();
    await expect.poll(() => connections.length).toBe(before + 1);
    await expect.poll(() => latest().received).toEqual([SUBSCRIBE]);
  });

  it("schedules a reconnect when the connection drops without a close frame", async () => {
    latest().socket.terminate();
    await expect.poll(scheduleIds).toContain("ticker-reconnect");
    expect(host.logs.some((line) => line.includes("connection failed: "))).toBe(true);
    await cancelReconnect();
  });

  it("schedules a reconnect when a heartbeat finds the connection gone", async () => {
    await host.schedules.fire("ticker-heartbeat");
    expect(await scheduleIds()).toContain("ticker-reconnect");
    expect(host.logs.some((line) => line.includes("heartbeat failed: connection not found"))).toBe(true);
  });

  it("leaves a pending reconnect as it is when more losses are noticed before it runs", async () => {
    const pending = await host.schedules.get("ticker-reconnect");
    const delay = pending?.kind === "once" ? pending.delaySeconds : -1;
    expect(delay).toBeLessThan(30);
    const attempts = await host.cache.get("ticker.reconnect-attempts");
    // Heartbeats keep failing while the retry waits: they may not push it further out.
    for (let i = 0; i < 2; i++) await host.schedules.fire("ticker-heartbeat");
    expect(await host.schedules.get("ticker-reconnect")).toEqual(pending);
    expect(await host.cache.get("ticker.reconnect-attempts")).toEqual(attempts);
    expect(host.logs.filter((line) => line.includes("a reconnect is already scheduled"))).toHaveLength(2);
    // A retry still pending two heartbeats after it was due is taken for lost: the next wait is scheduled.
    await host.schedules.fire("ticker-heartbeat");
    expect(await host.schedules.get("ticker-reconnect")).toMatchObject({ kind: "once", delaySeconds: delay * 2 });
    // Once a retry ran (and failed), the next one is scheduled at once, twice as far out again.
    await host.setConfig({ url: deadFeedUrl, subscribe: SUBSCRIBE, ping: "ping" });
    await host.schedules.fire("ticker-reconnect");
    expect(await host.schedules.get("ticker-reconnect")).toMatchObject({ kind: "once", delaySeconds: delay * 4 });
    await host.setConfig({ url: feedUrl, subscribe: SUBSCRIBE, ping: "ping" });
    await cancelReconnect();
  });

  it("handled every feed event without failing a callback", () => {
    expect(host.callbackFailures).toEqual([]);
  });
});

describe("heartbeat switched off", () => {
  it("cancels the heartbeat when ping is empty", async () => {
    await host.init({ url: feedUrl, subscribe: SUBSCRIBE, ping: "" });
    expect(await scheduleIds()).not.toContain("ticker-heartbeat");
  });
});
