// Several gateways on one in-memory bus: requests reach the gateway owning the socket, limits count
// across gateways, and the connections of a gateway that dies are reported lost by a survivor.
import { createMemoryBus, storageNames, type Bus, type KeyValue } from "@tonearm/bus";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createGateway, heartbeatKey, ownerKey, type Gateway, type GatewayOptions } from "../src/index.js";
import { startEchoServer, type EchoServer } from "./support/echo-server.js";
import { memoryLogger } from "./support/logger.js";
import { fakePlugin, type FakePlugin } from "./support/plugin.js";
import { severable } from "./support/severable-bus.js";
import { workerFunctions, type WorkerFunctions } from "./support/worker.js";

const NAMESPACE = "gwc";
const PLUGIN = "ticker";
const HEARTBEAT_MS = 40;
const utf8 = new TextEncoder();

let server: EchoServer;
let bus: Bus;
let kv: KeyValue;
let plugin: FakePlugin;
let worker: WorkerFunctions;
let logger: ReturnType<typeof memoryLogger>;
const gateways: Gateway[] = [];

beforeAll(async () => {
  server = await startEchoServer();
});
afterAll(() => server.close());

beforeEach(async () => {
  bus = createMemoryBus({ namespace: NAMESPACE });
  kv = await bus.kv(storageNames(NAMESPACE).websocketsBucket);
  logger = memoryLogger();
  plugin = fakePlugin(bus, NAMESPACE, PLUGIN);
  worker = workerFunctions(bus, NAMESPACE);
});
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((gateway) => gateway.stop()));
  await bus.close();
});

async function startGateways(count: number, options: Partial<GatewayOptions> = {}): Promise<Gateway[]> {
  const started: Gateway[] = [];
  for (let i = 1; i <= count; i++) {
    const gateway = createGateway({ bus, namespace: NAMESPACE, gatewayId: `gw-${i}`, heartbeatMs: HEARTBEAT_MS, logger, ...options });
    gateways.push(gateway);
    await gateway.start();
    started.push(gateway);
  }
  return started;
}

const owner = async (connectionId: string): Promise<string | undefined> => {
  const entry = await kv.get(ownerKey(PLUGIN, connectionId));
  return entry && new TextDecoder().decode(entry.value);
};

describe("routing", () => {
  it("sends through whichever gateway owns the connection", async () => {
    await startGateways(2);
    const ids = ["a", "b", "c", "d"];
    for (const id of ids) expect((await worker.connect(PLUGIN, { url: server.url, connectionId: id })).error).toBe("");
    const owners = await Promise.all(ids.map(owner));
    expect(new Set(owners)).toEqual(new Set(["gw-1", "gw-2"]));
    for (const id of ids) expect(await worker.sendText(PLUGIN, id, `to ${id}`)).toBe("");
    for (const id of ids) {
      expect(await plugin.next((c) => c.connectionId === id)).toEqual({ method: "OnTextMessage", connectionId: id, message: `to ${id}` });
    }
    for (const id of ids) expect(await worker.close(PLUGIN, id)).toBe("");
    expect(await Promise.all(ids.map(owner))).toEqual([undefined, undefined, undefined, undefined]);
  });

  it("replaces a connection held by another gateway when its id is re-used", async () => {
    await startGateways(2);
    const first = server.nextConnection();
    await worker.connect(PLUGIN, { url: server.url, connectionId: "same" });
    const firstOwner = await owner("same");
    // The Connect queue group takes turns, so the next connect lands on the other gateway.
    await worker.connect(PLUGIN, { url: server.url, connectionId: "same" });
    expect(await owner("same")).not.toBe(firstOwner);
    expect(await (await first).closed).toEqual({ code: 1001, reason: "replaced" });
    expect(await worker.sendText(PLUGIN, "same", "hi")).toBe("");
    await plugin.next((c) => c.method === "OnTextMessage");
    expect(plugin.of("same")).toEqual([{ method: "OnTextMessage", connectionId: "same", message: "hi" }]);
  });

  it("counts a plugin's connections across gateways", async () => {
    await startGateways(2, { limits: { maxConnectionsPerPlugin: 3 } });
    for (const id of ["a", "b", "c"]) expect((await worker.connect(PLUGIN, { url: server.url, connectionId: id })).error).toBe("");
    const refused = await worker.connect(PLUGIN, { url: server.url, connectionId: "d" });
    expect(refused.error).toBe(`too many WebSocket connections for plugin ${PLUGIN} (max 3)`);
    // Re-using an open id replaces a connection rather than adding one; other plugins have their own count.
    expect((await worker.connect(PLUGIN, { url: server.url, connectionId: "a" })).error).toBe("");
    expect((await worker.connect("other", { url: server.url, connectionId: "d" })).error).toBe("");
    await worker.close(PLUGIN, "b");
    expect((await worker.connect(PLUGIN, { url: server.url, connectionId: "d" })).error).toBe("");
  });
});

describe("a gateway that dies", () => {
  it("has its connections reported lost by a survivor, once", async () => {
    const cut = severable(bus);
    const doomed = createGateway({ bus: cut.bus, namespace: NAMESPACE, gatewayId: "doomed", heartbeatMs: HEARTBEAT_MS, logger });
    gateways.push(doomed);
    await doomed.start();
    for (const id of ["a", "b"]) expect((await worker.connect(PLUGIN, { url: server.url, connectionId: id })).error).toBe("");
    expect(await owner("a")).toBe("doomed");
    await startGateways(2);

    cut.sever();
    const lost = await Promise.all(["a", "b"].map((id) => plugin.next((c) => c.connectionId === id)));
    expect(lost).toEqual(
      ["a", "b"].map((id) => ({ method: "OnError", connectionId: id, error: "gateway doomed stopped: connection lost" })),
    );
    await expect.poll(() => kv.get(heartbeatKey("doomed"))).toBeUndefined();
    expect(await owner("a")).toBeUndefined();
    expect(await worker.sendText(PLUGIN, "a", "x")).toBe("connection not found");
    // Two survivors raced for the cleanup; the plugin heard of each connection once.
    await Promise.all(gateways.slice(1).map((gateway) => gateway.stop()));
    expect(plugin.callbacks).toHaveLength(2);
  });

  it("cleans up after a gateway whose heartbeat stopped, whatever it owned", async () => {
    const last = Date.now() - 10 * HEARTBEAT_MS;
    await kv.put(heartbeatKey("ghost"), utf8.encode(JSON.stringify({ v: 1, at: last, heartbeatMs: HEARTBEAT_MS })));
    await kv.put(ownerKey(PLUGIN, "haunted"), utf8.encode("ghost"));
    await kv.put(ownerKey(PLUGIN, "alive"), utf8.encode("gw-elsewhere"));
    await startGateways(1);
    expect(await plugin.next((c) => c.connectionId === "haunted")).toEqual({
      method: "OnError",
      connectionId: "haunted",
      error: "gateway ghost stopped: connection lost",
    });
    await expect.poll(() => kv.get(heartbeatKey("ghost"))).toBeUndefined();
    expect(await owner("haunted")).toBeUndefined();
    expect(await owner("alive")).toBe("gw-elsewhere");
  });

  it("leaves alone a gateway that keeps its heartbeat", async () => {
    await kv.put(heartbeatKey("slow"), utf8.encode(JSON.stringify({ v: 1, at: Date.now(), heartbeatMs: 60_000 })));
    await kv.put(ownerKey(PLUGIN, "kept"), utf8.encode("slow"));
    await startGateways(1);
    // Several sweeps go by: the entry is fresh by its writer's own interval.
    await new Promise((resolve) => setTimeout(resolve, 5 * HEARTBEAT_MS));
    expect(await owner("kept")).toBe("slow");
    expect(plugin.callbacks).toEqual([]);
  });

  it("drops its sockets silently when it comes back after being declared dead, then rejoins", async () => {
    const [gateway] = await startGateways(1);
    const side = server.nextConnection();
    await worker.connect(PLUGIN, { url: server.url, connectionId: "c1" });
    // What a survivor does when it takes over: claim the heartbeat, remove and report the connections.
    const entry = await kv.get(heartbeatKey("gw-1"));
    if (!entry) throw new Error("gw-1 wrote no heartbeat");
    const claim = { v: 1, at: Date.now(), heartbeatMs: 60_000, reapedBy: "gw-9" };
    await kv.update(heartbeatKey("gw-1"), utf8.encode(JSON.stringify(claim)), entry.revision);
    await kv.delete(ownerKey(PLUGIN, "c1"));

    expect((await (await side).closed).code).toBe(1006);
    await expect.poll(() => logger.at("warn").some((l) => l.message.startsWith("another gateway declared this one dead"))).toBe(true);
    // Until the claim is gone (or stale) it takes no connections, so the reaper cannot take them too.
    expect((await worker.connect(PLUGIN, { url: server.url, connectionId: "c2" })).error).toBe(
      "failed to connect to WebSocket server: gateway gw-1 is not taking connections",
    );
    await kv.delete(heartbeatKey("gw-1"));
    await expect.poll(async () => (await worker.connect(PLUGIN, { url: server.url, connectionId: "c2" })).error).toBe("");
    expect(gateway?.state).toBe("running");
    expect(plugin.of("c1")).toEqual([]);
  });
});
