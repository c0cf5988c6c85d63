// One active registry per namespace: the KV lease, and registries handing over through it.
import { createLease, storageNames, type Bus, type KeyValue, type Lease } from "@tonearm/bus";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { REGISTRY_LEASE_KEY } from "../src/registry.js";
import {
  FakeWorker,
  PluginState,
  copyFixture,
  eventually,
  memoryBus,
  partitionable,
  quiet,
  readRecord,
  removeTempFolders,
  tempFolder,
  testRegistry,
} from "./support.js";

const TTL_MS = 600;

let bus: Bus;
beforeEach(() => {
  bus = memoryBus("lease");
});
afterEach(async () => {
  await bus.close();
  await removeTempFolders();
});

describe("the lease", () => {
  let kv: KeyValue;
  const leases: Lease[] = [];
  beforeEach(async () => {
    kv = await bus.kv(storageNames(bus.namespace).leasesBucket);
  });
  afterEach(async () => {
    await Promise.all(leases.splice(0).map((lease) => lease.stop()));
  });

  function contender(holder: string, events: string[] = []): Lease {
    const lease = createLease({
      kv,
      key: "test",
      holder,
      ttlMs: TTL_MS,
      logger: quiet,
      onAcquired: () => events.push(`${holder} acquired`),
      onLost: () => events.push(`${holder} lost`),
    });
    leases.push(lease);
    return lease;
  }

  it("is held by exactly one of many contenders starting together", async () => {
    const all = Array.from({ length: 5 }, (_, i) => contender(`c${i}`));
    await Promise.all(all.map((lease) => lease.start()));
    expect(all.filter((lease) => lease.held)).toHaveLength(1);
  });

  it("is never taken from a holder that keeps renewing", async () => {
    const events: string[] = [];
    const holder = contender("holder", events);
    await holder.start();
    const other = contender("other", events);
    await other.start();
    await new Promise((resolve) => setTimeout(resolve, TTL_MS * 3));
    expect(holder.held).toBe(true);
    expect(other.held).toBe(false);
    expect(events).toEqual(["holder acquired"]);
  });

  it("is taken over when its holder stops renewing, with a compare-and-set on what was seen", async () => {
    // A holder that died without releasing: its value stays, never renewed.
    await kv.create("test", new TextEncoder().encode(JSON.stringify({ holder: "dead", expiresAtMs: Date.now() + TTL_MS })));
    const events: string[] = [];
    const successor = contender("successor", events);
    await successor.start();
    expect(successor.held).toBe(false);
    await eventually(() => successor.held, "the successor holds the lease", TTL_MS * 4);
    const value = JSON.parse(new TextDecoder().decode((await kv.get("test"))?.value)) as { holder: string; expiresAtMs: number };
    expect(value.holder).toBe("successor");
    expect(value.expiresAtMs).toBeGreaterThan(Date.now());
    expect(events).toEqual(["successor acquired"]);
  });

  it("is released on stop, and a contender takes it at its next check", async () => {
    const first = contender("first");
    await first.start();
    const second = contender("second");
    await second.start();
    await first.stop();
    expect(first.held).toBe(false);
    await eventually(() => second.held, "the second holds the lease", TTL_MS * 2);
  });
});

describe("two registries on one bus", () => {
  it("have one active; the standby takes over when the active one stops", async () => {
    await FakeWorker.start(bus);
    const folder = await tempFolder("fake_scrobbler");
    const first = testRegistry(bus, folder, { leaseTtlMs: TTL_MS, instanceId: "first" });
    const second = testRegistry(bus, folder, { leaseTtlMs: TTL_MS, instanceId: "second" });
    await first.start();
    await second.start();
    expect([first.active, second.active]).toEqual([true, false]);

    await first.stop();
    expect(first.active).toBe(false);
    await eventually(() => second.active, "the standby becomes active", TTL_MS * 3);
    // The new active registry serves: it publishes a plugin added after the handover.
    await copyFixture("fake_artist_agent", folder);
    await second.refresh();
    expect((await readRecord(bus, "fake_artist_agent"))?.state).toBe(PluginState.READY);
    await second.stop();
  });

  it("hand over when the active one stops renewing without stopping; it steps down by itself", async () => {
    await FakeWorker.start(bus);
    const folder = await tempFolder("fake_scrobbler");
    const partitioned = partitionable(bus);
    const first = testRegistry(partitioned.bus, folder, { leaseTtlMs: TTL_MS, instanceId: "first" });
    const second = testRegistry(bus, folder, { leaseTtlMs: TTL_MS, instanceId: "second" });
    await first.start();
    await second.start();
    expect(first.active).toBe(true);

    partitioned.cut(true);
    await eventually(() => second.active, "the standby becomes active", TTL_MS * 4);
    expect(first.active).toBe(false);

    // Back in touch, the old holder stays on standby behind the new one.
    partitioned.cut(false);
    await new Promise((resolve) => setTimeout(resolve, TTL_MS));
    expect([first.active, second.active]).toEqual([false, true]);
    const lease = await (await bus.kv(storageNames(bus.namespace).leasesBucket)).get(REGISTRY_LEASE_KEY);
    expect(JSON.parse(new TextDecoder().decode(lease?.value))).toMatchObject({ holder: "second" });
    await Promise.all([first.stop(), second.stop()]);
  });
});
