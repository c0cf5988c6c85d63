// Gateways and a worker as separate connections to a real NATS server: the bus protocol, the
// ownership bucket, and a gateway that dies (its connection closed) reported by the survivor.
import { connectNatsBus, type Bus } from "@tonearm/bus";
import { natsUrl, testNamespace } from "@tonearm/test-harness";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createGateway, type Gateway } from "../src/index.js";
import { startEchoServer, type EchoServer } from "./support/echo-server.js";
import { memoryLogger } from "./support/logger.js";
import { fakePlugin, type FakePlugin } from "./support/plugin.js";
import { workerFunctions, type WorkerFunctions } from "./support/worker.js";

const namespace = testNamespace("gw");
const PLUGIN = "ticker";
const HEARTBEAT_MS = 100;

let server: EchoServer;
const buses: Bus[] = [];
const gateways: Gateway[] = [];
let plugin: FakePlugin;
let worker: WorkerFunctions;

async function connectBus(name: string): Promise<Bus> {
  const bus = await connectNatsBus({ servers: await natsUrl(), name, namespace, logger: memoryLogger(), waitForServer: false });
  buses.push(bus);
  return bus;
}

async function startGateway(gatewayId: string): Promise<{ gateway: Gateway; bus: Bus }> {
  const bus = await connectBus(gatewayId);
  const gateway = createGateway({ bus, namespace, gatewayId, heartbeatMs: HEARTBEAT_MS, logger: memoryLogger() });
  gateways.push(gateway);
  await gateway.start();
  return { gateway, bus };
}

beforeAll(async () => {
  server = await startEchoServer();
  const workerBus = await connectBus("worker");
  plugin = fakePlugin(workerBus, namespace, PLUGIN);
  await workerBus.flush();
  worker = workerFunctions(workerBus, namespace, { timeoutMs: 5_000 });
});

afterAll(async () => {
  await Promise.all(gateways.map((gateway) => gateway.stop()));
  await Promise.all(buses.map((bus) => bus.close()));
  await server.close();
});

it("serves connections over NATS, and a survivor reports those of a gateway that died", async () => {
  const { bus: doomedBus } = await startGateway("doomed");
  const side = server.nextConnection();
  const opened = await worker.connect(PLUGIN, { url: server.url, connectionId: "c1", headers: { "X-Test-Header": "test-value" } });
  expect(opened).toMatchObject({ connectionId: "c1", error: "" });
  expect((await side).headers["x-test-header"]).toBe("test-value");
  expect(await worker.sendText(PLUGIN, "c1", "hello")).toBe("");
  expect(await worker.sendBinary(PLUGIN, "c1", new Uint8Array([1, 2, 3]))).toBe("");
  await plugin.next((c) => c.method === "OnBinaryMessage");
  expect(plugin.of("c1")).toEqual([
    { method: "OnTextMessage", connectionId: "c1", message: "hello" },
    { method: "OnBinaryMessage", connectionId: "c1", data: new Uint8Array([1, 2, 3]) },
  ]);
  expect(await worker.sendText(PLUGIN, "unknown", "x")).toBe("connection not found");

  await startGateway("survivor");
  // The doomed gateway's process is gone as far as the cluster can tell: no heartbeat, no subscriptions.
  await doomedBus.close();
  expect(await plugin.next((c) => c.method === "OnError")).toEqual({
    method: "OnError",
    connectionId: "c1",
    error: "gateway doomed stopped: connection lost",
  });
  expect(await worker.sendText(PLUGIN, "c1", "late")).toBe("connection not found");

  // The survivor takes the plugin's next connection, with the same id.
  expect((await worker.connect(PLUGIN, { url: server.url, connectionId: "c1" })).error).toBe("");
  expect(await worker.sendText(PLUGIN, "c1", "again")).toBe("");
  expect(await plugin.next((c) => c.method === "OnTextMessage" && c.message === "again")).toBeDefined();
  expect(await worker.close(PLUGIN, "c1", 4000, "done")).toBe("");
  expect(await worker.sendText(PLUGIN, "c1", "closed")).toBe("connection not found");
});
