// The status page on the in-memory bus: what it reads from the catalog, the workers' reports, the
// scheduler, the gateways' KV entries and a scrobble source, and how it serves and escapes it.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { CallError } from "@tonearm/abi";
import { storageNames, subjects, type Bus } from "@tonearm/bus";
import { heartbeatKey, ownerKey } from "@tonearm/gateway";
import { createMemoryScheduleDriver } from "@tonearm/host";
import { bus as busProto } from "@tonearm/proto";
import { createSchedulerService } from "@tonearm/scheduler";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startStatusPage, type StatusPage, type StatusPageOptions } from "../src/status.js";
import type { StatusSnapshot } from "../src/status-model.js";
import { FakeWorker, memoryBus, removeTempFolders, tempFolder, testRegistry } from "./support.js";

const EVIL = `<img src=x onerror="alert(1)"> & 'quoted'`;
let bus: Bus;
let page: StatusPage | undefined;
let server: Server | undefined;
const stops: (() => Promise<void> | void)[] = [];

beforeEach(() => {
  bus = memoryBus("status");
});

afterEach(async () => {
  page?.close();
  page = undefined;
  if (server) await new Promise((resolve) => server?.close(resolve));
  server = undefined;
  for (const stop of stops.splice(0).reverse()) await stop();
  await bus.close();
  await removeTempFolders();
});

/** A registry publishing `fixtures`; verification of `failing` fails with EVIL. */
async function publish(fixtures: string[], failing?: string) {
  const worker = await FakeWorker.start(bus, { verify: (record) => (record.id === failing ? new CallError("load_error", EVIL) : undefined) });
  stops.push(() => worker.stop());
  const registry = testRegistry(bus, await tempFolder(...fixtures));
  await registry.start();
  stops.push(() => registry.stop());
  return registry;
}

async function serve(options: Partial<StatusPageOptions> = {}): Promise<string> {
  page = await startStatusPage({ bus, namespace: "status", schedulesTimeoutMs: 200, ...options });
  const routes = page.routes;
  server = createServer((request, response) => {
    void routes(request, response).then((handled) => {
      if (!handled) response.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function json(base: string): Promise<StatusSnapshot> {
  return (await (await fetch(`${base}/status.json`)).json()) as StatusSnapshot;
}

function workerReport(workerId: string, calls: number, errors: number) {
  const now = Date.now();
  return toBinary(
    busProto.WorkerStatsReportSchema,
    create(busProto.WorkerStatsReportSchema, {
      workerId,
      sinceMs: BigInt(now - 2_000),
      atMs: BigInt(now),
      intervalMs: 60_000,
      bucketBoundsSeconds: [0.001, 0.01],
      methods: [
        create(busProto.MethodCallStatsSchema, {
          plugin: "multi_plugin",
          capability: "MetadataAgent",
          method: "GetArtistMBID",
          calls: BigInt(calls),
          errors: BigInt(errors),
          bucketCounts: [0n, BigInt(calls), 0n],
        }),
      ],
    }),
  );
}

describe("the status page", () => {
  it("shows each plugin's record, capabilities, permission reasons and error, escaped", async () => {
    const registry = await publish(["multi_plugin", "host_probe", "fake_scrobbler"], "fake_scrobbler");
    const base = await serve({ registry });
    const status = await json(base);
    expect(status.plugins.map((p) => [p.id, p.state])).toEqual([
      ["fake_scrobbler", "FAILED"],
      ["host_probe", "READY"],
      ["multi_plugin", "READY"],
    ]);
    const multi = status.plugins.find((p) => p.id === "multi_plugin");
    expect(multi).toMatchObject({
      capabilities: ["MetadataAgent", "SchedulerCallback", "LifecycleManagement"],
      permissions: [{ key: "scheduler", reason: "For testing scheduled callback functionality", details: [] }],
      manifest: { name: "multi_plugin", version: "1.0.0", author: "Navidrome Test" },
      error: "",
    });
    expect(multi?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(multi?.recordVersion).toBeGreaterThan(0);
    const probe = status.plugins.find((p) => p.id === "host_probe");
    expect(probe?.permissions.find((p) => p.key === "http")).toEqual({
      key: "http",
      reason: "Probe the HTTP service",
      details: ["Allow Local Network: true", "Allowed URLs:", "  http://127.0.0.1:*/allowed/*: [GET, POST]", "  http://localhost:*/allowed/*: [GET]"],
    });
    expect(status.plugins[0]?.error).toContain(EVIL);
    expect(status.registry).toMatchObject({ serving: true, activeRegistry: expect.any(String) as string });

    const html = await (await fetch(`${base}/status`)).text();
    expect(html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &#39;quoted&#39;");
    expect(html).not.toContain("<img");
    expect(html).toContain('data-plugin="multi_plugin"');
    expect(html).toContain("For testing scheduled callback functionality");
    expect(html).toContain(multi?.sha256.slice(0, 12));
  });

  it("adds up the live workers' reports into the plugin's figures", async () => {
    await publish(["multi_plugin"]);
    const base = await serve();
    bus.publish(subjects("status").workerStats("w1"), workerReport("w1", 6, 0));
    bus.publish(subjects("status").workerStats("w2"), workerReport("w2", 4, 2));
    bus.publish(subjects("status").workerStats("w3"), new Uint8Array([0xff, 0x01]));
    await expect.poll(async () => (await json(base)).workers.map((w) => w.id)).toEqual(["w1", "w2"]);
    const status = await json(base);
    const calls = status.plugins.find((p) => p.id === "multi_plugin")?.calls;
    expect(calls).toMatchObject({ calls: 10, errors: 2, errorRatio: 0.2 });
    expect(calls?.callsPerSecond).toBeCloseTo(5, 1);
    expect(calls?.p50Ms).toBeCloseTo(5.5, 6);
    const html = await (await fetch(`${base}/status?refresh=0`)).text();
    expect(html).toMatch(/data-field="calls">10 <span class="bad">\(2 failed\)<\/span>/);
    expect(html).toContain("5.5 ms");
    expect(html).not.toContain("<script>");
  });

  it("says why schedules, connections or scrobbles cannot be shown, and shows them once they can", async () => {
    await publish(["multi_plugin"]);
    const failing = async () => {
      throw new Error("stream gone");
    };
    const base = await serve({ scrobbles: failing });
    let status = await json(base);
    expect(status.schedules).toEqual({ available: false, reason: "no scheduler is running" });
    expect(status.scrobbles).toEqual({ available: false, reason: "the scrobble consumers cannot be read: stream gone" });
    expect(status.websockets).toEqual({ available: true, items: [], omitted: 0 });

    const driver = createMemoryScheduleDriver();
    await driver.upsert({ pluginId: "multi_plugin", scheduleId: "tick", kind: "recurring", expression: "@every 1h", spec: { type: "every", everyMs: 3_600_000 }, payload: new Uint8Array(), createdAt: Date.now() });
    const scheduler = createSchedulerService({ bus, namespace: "status", driver, capabilities: () => ["SchedulerCallback"] });
    await scheduler.start();
    stops.push(() => scheduler.stop());
    const kv = await bus.kv(storageNames("status").websocketsBucket);
    const heartbeat = (at: number) => new TextEncoder().encode(JSON.stringify({ v: 1, at, heartbeatMs: 1_000 }));
    await kv.put(heartbeatKey("gw-live"), heartbeat(Date.now()));
    await kv.put(heartbeatKey("gw-dead"), heartbeat(Date.now() - 60_000));
    await kv.put(ownerKey("host_probe", "conn.1"), new TextEncoder().encode("gw-live"));
    await kv.put(ownerKey("host_probe", "conn 2"), new TextEncoder().encode("gw-dead"));

    status = await json(base);
    expect(status.schedules).toMatchObject({ available: true, items: [{ plugin: "multi_plugin", scheduleId: "tick", kind: "every", expression: "@every 1h" }] });
    expect(status.websockets).toEqual({
      available: true,
      omitted: 0,
      items: [
        { plugin: "host_probe", connectionId: "conn 2", gateway: "gw-dead", gatewayAlive: false },
        { plugin: "host_probe", connectionId: "conn.1", gateway: "gw-live", gatewayAlive: true },
      ],
    });
  });

  it("shows the scrobble consumers a source reports, given the plugin records", async () => {
    await publish(["fake_scrobbler", "multi_plugin"]);
    const seen: string[][] = [];
    const base = await serve({
      scrobbles: async (records) => {
        seen.push(records.map((r) => r.id).sort());
        return [{ plugin: "fake_scrobbler", pending: 7, redelivered: 2, deadLettered: 1, parked: false, consumer: true }];
      },
    });
    const status = await json(base);
    expect(seen.at(-1)).toEqual(["fake_scrobbler", "multi_plugin"]);
    expect(status.scrobbles).toEqual({
      available: true,
      omitted: 0,
      items: [{ plugin: "fake_scrobbler", pending: 7, redelivered: 2, deadLettered: 1, parked: false, consumer: true }],
    });
    const html = await (await fetch(`${base}/status`)).text();
    expect(html).toContain('data-field="pending">7<');
  });

  it("answers only GET and HEAD, checks refresh, and sends / to /status", async () => {
    await publish(["multi_plugin"]);
    const base = await serve();
    expect((await fetch(`${base}/status`, { method: "POST" })).status).toBe(405);
    const bad = await fetch(`${base}/status?refresh=soon`);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("refresh must be a whole number of seconds");
    const root = await fetch(`${base}/`, { redirect: "manual" });
    expect([root.status, root.headers.get("location")]).toEqual([302, "/status"]);
    const head = await fetch(`${base}/status.json`, { method: "HEAD" });
    expect([head.status, head.headers.get("content-type"), await head.text()]).toEqual([200, "application/json; charset=utf-8", ""]);
    const html = await (await fetch(`${base}/status?refresh=7`)).text();
    expect(html).toContain('data-refresh="7"');
    expect(html).toContain("<script>");
    expect((await fetch(`${base}/elsewhere`)).status).toBe(404);
  });

  it("tells a standby registry's page which registry is active", async () => {
    const active = await publish(["multi_plugin"]);
    const standby = testRegistry(bus, await tempFolder("multi_plugin"), { instanceId: "standby-1" });
    await standby.start();
    stops.push(() => standby.stop());
    const base = await serve({ registry: standby });
    const status = await json(base);
    expect(active.active).toBe(true);
    expect(status.registry.serving).toBe(false);
    expect(status.registry.activeRegistry).not.toBe("standby-1");
    expect(status.registry.leaseExpiresAtMs).toBeGreaterThan(Date.now() - 1_000);
    expect(await (await fetch(`${base}/status`)).text()).toContain("this one is on standby");
  });
});
