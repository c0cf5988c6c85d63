// One gateway on the in-memory bus, reached through the worker's `websocket` host functions, against
// a real `ws` server on loopback; a stand-in plugin answers the WebSocketCallback calls.
import { GatewayMethod, createMemoryBus, storageNames, subjects, type Bus, type KeyValue } from "@tonearm/bus";
import { ConnectionNotFoundError } from "@tonearm/host";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createBusGatewayClient, createGateway, heartbeatKey, ownerKey, type Gateway } from "../src/index.js";
import { startEchoServer, type EchoServer } from "./support/echo-server.js";
import { memoryLogger } from "./support/logger.js";
import { fakePlugin, type FakePlugin } from "./support/plugin.js";
import { workerFunctions, type WorkerFunctions } from "./support/worker.js";

const NAMESPACE = "gw";
const PLUGIN = "ticker";

let server: EchoServer;
let bus: Bus;
let kv: KeyValue;
let gateway: Gateway;
let plugin: FakePlugin;
let worker: WorkerFunctions;
let logger: ReturnType<typeof memoryLogger>;

beforeAll(async () => {
  server = await startEchoServer();
});
afterAll(() => server.close());

beforeEach(async () => {
  bus = createMemoryBus({ namespace: NAMESPACE });
  kv = await bus.kv(storageNames(NAMESPACE).websocketsBucket);
  logger = memoryLogger();
  gateway = createGateway({ bus, namespace: NAMESPACE, gatewayId: "gw-1", logger });
  await gateway.start();
  plugin = fakePlugin(bus, NAMESPACE, PLUGIN);
  worker = workerFunctions(bus, NAMESPACE);
});
afterEach(async () => {
  await gateway.stop();
  await bus.close();
});

const owner = async (connectionId: string, pluginId = PLUGIN): Promise<string | undefined> => {
  const entry = await kv.get(ownerKey(pluginId, connectionId));
  return entry && new TextDecoder().decode(entry.value);
};

describe("connect", () => {
  it("opens the socket with the plugin's headers and records this gateway as its owner", async () => {
    const side = server.nextConnection();
    const response = await worker.connect(PLUGIN, { url: server.url, connectionId: "c1", headers: { "X-Test-Header": "test-value" } });
    expect(response).toMatchObject({ connectionId: "c1", error: "" });
    expect((await side).headers["x-test-header"]).toBe("test-value");
    expect(await owner("c1")).toBe("gw-1");
  });

  it("generates a 10-character id when the plugin gives none", async () => {
    const response = await worker.connect(PLUGIN, { url: server.url });
    expect(response.error).toBe("");
    expect(response.connectionId).toMatch(/^[A-Za-z0-9_-]{10}$/);
    expect(await owner(response.connectionId)).toBe("gw-1");
  });

  it("answers a dial failure in the response's error, recording nothing", async () => {
    const refused = await worker.connect(PLUGIN, { url: "ws://127.0.0.1:1/", connectionId: "nowhere" });
    expect(refused.error).toBe("failed to connect to WebSocket server: connect ECONNREFUSED 127.0.0.1:1");
    expect(await owner("nowhere")).toBeUndefined();
  });

  it("says so when no gateway is running", async () => {
    await gateway.stop();
    const response = await worker.connect(PLUGIN, { url: server.url, connectionId: "c1" });
    expect(response.error).toBe("failed to connect to WebSocket server: no WebSocket gateway is running");
  });

  it("replaces an open connection with the same id", async () => {
    const first = server.nextConnection();
    await worker.connect(PLUGIN, { url: server.url, connectionId: "same" });
    const firstSide = await first;
    const second = server.nextConnection();
    await worker.connect(PLUGIN, { url: server.url, connectionId: "same" });
    await firstSide.closed;
    expect(await worker.sendText(PLUGIN, "same", "to the new one")).toBe("");
    await plugin.next((c) => c.method === "OnTextMessage");
    expect((await second).received).toEqual([{ data: "to the new one", binary: false }]);
    expect(plugin.of("same")).toEqual([{ method: "OnTextMessage", connectionId: "same", message: "to the new one" }]);
  });
});

describe("messages", () => {
  it("sends text and binary, and delivers the echoes to the plugin in order", async () => {
    const side = server.nextConnection();
    await worker.connect(PLUGIN, { url: server.url, connectionId: "c1" });
    expect(await worker.sendText(PLUGIN, "c1", "hello websocket")).toBe("");
    expect(await worker.sendBinary(PLUGIN, "c1", new Uint8Array([0, 1, 2, 255]))).toBe("");
    for (let i = 0; i < 20; i++) expect(await worker.sendText(PLUGIN, "c1", `n${i}`)).toBe("");
    await plugin.next((c) => c.method === "OnTextMessage" && c.message === "n19");
    expect((await side).received.slice(0, 2)).toEqual([
      { data: "hello websocket", binary: false },
      { data: Buffer.from([0, 1, 2, 255]).toString(), binary: true },
    ]);
    expect(plugin.of("c1")).toEqual([
      { method: "OnTextMessage", connectionId: "c1", message: "hello websocket" },
      { method: "OnBinaryMessage", connectionId: "c1", data: new Uint8Array([0, 1, 2, 255]) },
      ...Array.from({ length: 20 }, (_, i) => ({ method: "OnTextMessage", connectionId: "c1", message: `n${i}` })),
    ]);
    expect(plugin.callers).toEqual(new Set(["gateway"]));
  });

  it("waits for each callback to be answered before making the next one for that connection", async () => {
    plugin.stop();
    // The first answers slowest: calls made without waiting would overlap.
    const slow = fakePlugin(bus, NAMESPACE, PLUGIN, {
      answerAfterMs: (c) => (c.method === "OnTextMessage" ? 40 - Number(c.message) * 10 : 0),
    });
    await worker.connect(PLUGIN, { url: server.url, connectionId: "c1" });
    for (const message of ["0", "1", "2", "3"]) await worker.sendText(PLUGIN, "c1", message);
    await worker.sendText(PLUGIN, "c1", "close");
    await slow.next((c) => c.method === "OnClose");
    expect(slow.of("c1").map((c) => (c.method === "OnTextMessage" ? c.message : c.method))).toEqual(["0", "1", "2", "3", "OnClose"]);
    expect(slow.overlapping).toEqual([]);
  });

  it("answers `connection not found` for unknown ids and for another plugin's connection", async () => {
    expect(await worker.sendText(PLUGIN, "nope", "x")).toBe("connection not found");
    expect(await worker.sendBinary(PLUGIN, "nope", new Uint8Array([1]))).toBe("connection not found");
    expect(await worker.close(PLUGIN, "nope")).toBe("connection not found");
    expect(await worker.sendText(PLUGIN, "", "x")).toBe("connection not found");
    await worker.connect(PLUGIN, { url: server.url, connectionId: "mine" });
    expect(await worker.sendText("other-plugin", "mine", "x")).toBe("connection not found");
    expect(await worker.close("other-plugin", "mine")).toBe("connection not found");
    expect(await worker.sendText(PLUGIN, "mine", "x")).toBe("");
  });

  it("keeps going when the plugin's callbacks fail", async () => {
    plugin.stop();
    await worker.connect(PLUGIN, { url: server.url, connectionId: "c1" });
    await worker.sendText(PLUGIN, "c1", "nobody listens");
    await expect.poll(() => logger.at("warn").some((l) => l.message === "WebSocketCallback call failed")).toBe(true);
    const again = fakePlugin(bus, NAMESPACE, PLUGIN);
    expect(await worker.sendText(PLUGIN, "c1", "heard")).toBe("");
    expect(await again.next((c) => c.method === "OnTextMessage")).toMatchObject({ message: "heard" });
  });
});

describe("the end of a connection", () => {
  it("reports a server's close frame as OnClose and forgets the connection", async () => {
    await worker.connect(PLUGIN, { url: server.url, connectionId: "c2" });
    await worker.sendText(PLUGIN, "c2", "close");
    expect(await plugin.next((c) => c.method !== "OnTextMessage")).toEqual({ method: "OnClose", connectionId: "c2", code: 4001, reason: "bye" });
    expect(await owner("c2")).toBeUndefined();
    expect(await worker.sendText(PLUGIN, "c2", "late")).toBe("connection not found");
  });

  it("reports a connection cut without close frame as OnError", async () => {
    await worker.connect(PLUGIN, { url: server.url, connectionId: "c3" });
    await worker.sendText(PLUGIN, "c3", "drop");
    expect(await plugin.next((c) => c.method === "OnError")).toEqual({
      method: "OnError",
      connectionId: "c3",
      error: "websocket: close 1006 (abnormal closure): unexpected EOF",
    });
    expect(await owner("c3")).toBeUndefined();
  });

  it("closes with the plugin's code and reason, then reports nothing for it", async () => {
    const side = server.nextConnection();
    await worker.connect(PLUGIN, { url: server.url, connectionId: "c4" });
    expect(await worker.close(PLUGIN, "c4", 4000, "done")).toBe("");
    expect(await (await side).closed).toEqual({ code: 4000, reason: "done" });
    expect(await owner("c4")).toBeUndefined();
    expect(await worker.close(PLUGIN, "c4")).toBe("connection not found");
    // A last echo through an open connection proves earlier events have all been delivered.
    await worker.connect(PLUGIN, { url: server.url, connectionId: "c5" });
    await worker.sendText(PLUGIN, "c5", "after");
    await plugin.next((c) => c.connectionId === "c5");
    expect(plugin.of("c4")).toEqual([]);
  });

  it("on stop closes every socket as going away, tells each plugin, and leaves no entries", async () => {
    const side = server.nextConnection();
    await worker.connect(PLUGIN, { url: server.url, connectionId: "c6" });
    expect(await kv.get(heartbeatKey("gw-1"))).toBeDefined();
    await gateway.stop();
    expect(gateway.state).toBe("stopped");
    expect(await (await side).closed).toEqual({ code: 1001, reason: "gateway stopping" });
    expect(plugin.of("c6")).toEqual([{ method: "OnError", connectionId: "c6", error: "gateway gw-1 stopped: shutting down" }]);
    expect(await owner("c6")).toBeUndefined();
    expect(await kv.get(heartbeatKey("gw-1"))).toBeUndefined();
  });
});

describe("the bus client", () => {
  it("rejects with ConnectionNotFoundError when no gateway owns the connection, or its owner is gone", async () => {
    const client = createBusGatewayClient(bus, NAMESPACE);
    await expect(client.sendText(PLUGIN, "nope", "x")).rejects.toBeInstanceOf(ConnectionNotFoundError);
    await kv.put(ownerKey(PLUGIN, "orphan"), new TextEncoder().encode("gw-gone"));
    await expect(client.sendBinary(PLUGIN, "orphan", new Uint8Array([1]))).rejects.toBeInstanceOf(ConnectionNotFoundError);
    await expect(client.close(PLUGIN, "orphan", 1000, "")).rejects.toThrow("connection not found");
  });

  it("says which gateway did not answer in time", async () => {
    const client = createBusGatewayClient(bus, NAMESPACE, { timeoutMs: 50 });
    await kv.put(ownerKey(PLUGIN, "stuck"), new TextEncoder().encode("gw-stuck"));
    bus.subscribe(subjects(NAMESPACE).gatewayInstance("gw-stuck", GatewayMethod.SendText), {}, () => undefined);
    await expect(client.sendText(PLUGIN, "stuck", "x")).rejects.toThrow(/^failed to send message: gateway gw-stuck did not answer: /);
  });
});

describe("lifecycle", () => {
  it("starts once, and stopping is idempotent", async () => {
    await expect(gateway.start()).rejects.toThrow("gateway gw-1 cannot start: it is running");
    await Promise.all([gateway.stop(), gateway.stop()]);
    expect(gateway.state).toBe("stopped");
  });

  it("refuses options that make no sense", () => {
    expect(() => createGateway({ bus, namespace: NAMESPACE, limits: { maxConnectionsPerPlugin: 0 } })).toThrow(
      "gateway option limits.maxConnectionsPerPlugin must be a positive number, got 0",
    );
    expect(() => createGateway({ bus, namespace: NAMESPACE, heartbeatMs: Number.NaN })).toThrow(RangeError);
  });

  it("reports the connections an earlier life of its id left behind", async () => {
    await kv.put(ownerKey(PLUGIN, "left-behind"), new TextEncoder().encode("gw-2"));
    const again = createGateway({ bus, namespace: NAMESPACE, gatewayId: "gw-2", logger });
    await again.start();
    try {
      expect(await plugin.next((c) => c.connectionId === "left-behind")).toEqual({
        method: "OnError",
        connectionId: "left-behind",
        error: "gateway gw-2 stopped: connection lost",
      });
      expect(await owner("left-behind")).toBeUndefined();
    } finally {
      await again.stop();
    }
  });
});
