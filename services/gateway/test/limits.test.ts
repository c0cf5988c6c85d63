// The gateway's limits: connections per plugin, message size both ways, and the ping keepalive.
import { createMemoryBus, type Bus } from "@tonearm/bus";
import { afterEach, describe, expect, it } from "vitest";
import { createGateway, type Gateway, type GatewayLimits } from "../src/index.js";
import { startEchoServer, type EchoServer } from "./support/echo-server.js";
import { memoryLogger } from "./support/logger.js";
import { fakePlugin, type FakePlugin } from "./support/plugin.js";
import { workerFunctions, type WorkerFunctions } from "./support/worker.js";

const NAMESPACE = "gwl";
const PLUGIN = "ticker";

interface Setup {
  readonly server: EchoServer;
  readonly bus: Bus;
  readonly gateway: Gateway;
  readonly plugin: FakePlugin;
  readonly worker: WorkerFunctions;
}

let setup: Setup | undefined;

async function gatewayWith(limits: GatewayLimits, server?: { autoPong?: boolean }): Promise<Setup> {
  const bus = createMemoryBus({ namespace: NAMESPACE });
  const gateway = createGateway({ bus, namespace: NAMESPACE, gatewayId: "gw-1", limits, logger: memoryLogger() });
  await gateway.start();
  setup = {
    server: await startEchoServer(server),
    bus,
    gateway,
    plugin: fakePlugin(bus, NAMESPACE, PLUGIN),
    worker: workerFunctions(bus, NAMESPACE),
  };
  return setup;
}

afterEach(async () => {
  if (!setup) return;
  await setup.gateway.stop();
  await setup.bus.close();
  await setup.server.close();
  setup = undefined;
});

describe("connections per plugin", () => {
  it("refuses a connection beyond the limit, and allows one again when another ends", async () => {
    const { server, worker, plugin } = await gatewayWith({ maxConnectionsPerPlugin: 2 });
    expect((await worker.connect(PLUGIN, { url: server.url, connectionId: "a" })).error).toBe("");
    expect((await worker.connect(PLUGIN, { url: server.url, connectionId: "b" })).error).toBe("");
    const before = server.connections.length;
    expect(await worker.connect(PLUGIN, { url: server.url, connectionId: "c" })).toMatchObject({
      connectionId: "",
      error: `too many WebSocket connections for plugin ${PLUGIN} (max 2)`,
    });
    expect(server.connections.length).toBe(before);
    await worker.sendText(PLUGIN, "a", "close");
    await plugin.next((c) => c.method === "OnClose");
    expect((await worker.connect(PLUGIN, { url: server.url, connectionId: "c" })).error).toBe("");
  });
});

describe("message size", () => {
  it("fails a connection that receives a message over the limit (1009), reporting it to the plugin", async () => {
    const { server, worker, plugin } = await gatewayWith({ maxMessageBytes: 1024 });
    const side = server.nextConnection();
    await worker.connect(PLUGIN, { url: server.url, connectionId: "c1" });
    await worker.sendText(PLUGIN, "c1", "big:1024");
    expect(await plugin.next((c) => c.method === "OnBinaryMessage")).toMatchObject({ data: new Uint8Array(1024).fill(7) });
    await worker.sendText(PLUGIN, "c1", "big:1025");
    expect(await plugin.next((c) => c.method === "OnError")).toEqual({
      method: "OnError",
      connectionId: "c1",
      error: "Max payload size exceeded",
    });
    expect((await (await side).closed).code).toBe(1009);
    expect(await worker.sendText(PLUGIN, "c1", "late")).toBe("connection not found");
  });

  it("refuses to send a message over the limit, keeping the connection", async () => {
    const { server, worker } = await gatewayWith({ maxMessageBytes: 16 });
    await worker.connect(PLUGIN, { url: server.url, connectionId: "c1" });
    expect(await worker.sendText(PLUGIN, "c1", "é".repeat(9))).toBe("failed to send message: message of 18 bytes exceeds the limit of 16 bytes");
    expect(await worker.sendBinary(PLUGIN, "c1", new Uint8Array(17))).toBe(
      "failed to send message: message of 17 bytes exceeds the limit of 16 bytes",
    );
    expect(await worker.sendBinary(PLUGIN, "c1", new Uint8Array(16))).toBe("");
  });
});

describe("keepalive", () => {
  it("drops a peer that does not answer pings, reporting it to the plugin", async () => {
    const { server, worker, plugin } = await gatewayWith({ pingIntervalMs: 30 }, { autoPong: false });
    const side = server.nextConnection();
    await worker.connect(PLUGIN, { url: server.url, connectionId: "c1" });
    expect(await plugin.next((c) => c.method === "OnError")).toEqual({
      method: "OnError",
      connectionId: "c1",
      error: "websocket: no pong received within 30 ms",
    });
    expect((await (await side).closed).code).toBe(1006);
  });

  it("keeps a peer that answers", async () => {
    const { server, worker, plugin } = await gatewayWith({ pingIntervalMs: 20 });
    const side = server.nextConnection();
    await worker.connect(PLUGIN, { url: server.url, connectionId: "c1" });
    const answering = await side;
    await expect.poll(() => answering.pings).toBeGreaterThanOrEqual(4);
    expect(await worker.sendText(PLUGIN, "c1", "still here")).toBe("");
    await plugin.next((c) => c.method === "OnTextMessage");
    expect(plugin.callbacks).toEqual([{ method: "OnTextMessage", connectionId: "c1", message: "still here" }]);
  });
});
