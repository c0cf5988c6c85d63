// The registry on real NATS with JetStream: publication into KV and the object store, and a
// handover between registries on separate connections.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { connectNatsBus, type Bus } from "@tonearm/bus";
import { natsUrl, testNamespace } from "@tonearm/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  EventKind,
  EventLog,
  FakeWorker,
  PluginState,
  copyFixture,
  eventually,
  readArtifact,
  readRecord,
  removeTempFolders,
  tempFolder,
  testRegistry,
} from "./support.js";

const TTL_MS = 900;
const namespace = testNamespace("reg");
const buses: Bus[] = [];

async function connect(name: string): Promise<Bus> {
  const bus = await connectNatsBus({ servers: await natsUrl(), name: `registry-test-${name}`, namespace, waitForServer: false });
  buses.push(bus);
  return bus;
}

let clientBus: Bus;
beforeAll(async () => {
  clientBus = await connect("client");
});
afterAll(async () => {
  await Promise.all(buses.map((bus) => bus.close()));
  await removeTempFolders();
});

describe("registry on NATS", () => {
  it("publishes records and artifacts, and hands over to a standby when the active one goes away", async () => {
    const worker = await FakeWorker.start(clientBus);
    const events = await EventLog.start(clientBus);
    const folder = await tempFolder("fake_init_service", "fake_artist_agent");
    const firstBus = await connect("first");
    const first = testRegistry(firstBus, folder, { leaseTtlMs: TTL_MS, instanceId: "first" });
    const second = testRegistry(await connect("second"), folder, { leaseTtlMs: TTL_MS, instanceId: "second" });
    await first.start();
    await second.start();
    expect([first.active, second.active]).toEqual([true, false]);

    for (const id of ["fake_init_service", "fake_artist_agent"]) {
      const wasm = new Uint8Array(await readFile(join(folder, id, "plugin.wasm")));
      const sha256 = createHash("sha256").update(wasm).digest("hex");
      expect(await readRecord(clientBus, id), id).toMatchObject({ state: PluginState.READY, sha256 });
      expect(await readArtifact(clientBus, sha256)).toEqual(wasm);
      await events.waitFor((e) => e.record?.id === id && e.kind === EventKind.LOADED, `${id} LOADED`);
    }
    expect(worker.initsOf("fake_init_service")).toHaveLength(1);

    // The active registry's connection goes away without a word: it cannot renew, the standby takes over.
    await firstBus.close();
    await eventually(() => second.active, "the standby becomes active", TTL_MS * 4);
    expect(first.active).toBe(false);

    await copyFixture("fake_scrobbler", folder);
    const refreshed = await second.refresh();
    expect(refreshed.map((r) => [r.id, r.state]).sort()).toEqual([
      ["fake_artist_agent", PluginState.READY],
      ["fake_init_service", PluginState.READY],
      ["fake_scrobbler", PluginState.READY],
    ]);
    expect(await readRecord(clientBus, "fake_scrobbler")).toMatchObject({ state: PluginState.READY });
    expect(worker.initsOf("fake_init_service")).toHaveLength(1);
    await Promise.all([first.stop(), second.stop()]);
  });
});
