// OnInit (ABI.md §11.6): once per plugin id and artifact across restarts and failovers; a failing
// OnInit leaves the plugin FAILED with its text.
import { copyFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { CallError } from "@tonearm/abi";
import type { Bus } from "@tonearm/bus";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  EventKind,
  EventLog,
  FIXTURES,
  FakeWorker,
  PluginState,
  eventually,
  memoryBus,
  readRecord,
  removeTempFolders,
  tempFolder,
  testRegistry,
} from "./support.js";

let bus: Bus;
beforeEach(() => {
  bus = memoryBus("life");
});
afterEach(async () => {
  await bus.close();
  await removeTempFolders();
});

describe("OnInit runs once per plugin version", () => {
  it("is not run again when the registry restarts", async () => {
    const worker = await FakeWorker.start(bus);
    const folder = await tempFolder("fake_init_service", "multi_plugin");
    const first = testRegistry(bus, folder);
    await first.start();
    expect(worker.inits.map((call) => call.plugin).sort()).toEqual(["fake_init_service", "multi_plugin"]);
    await first.stop();

    const restarted = testRegistry(bus, folder);
    await restarted.start();
    expect(restarted.active).toBe(true);
    await restarted.refresh();
    expect(worker.inits).toHaveLength(2);
    expect(await readRecord(bus, "fake_init_service")).toMatchObject({ state: PluginState.READY });
    await restarted.stop();
  });

  it("is not run again by a registry that takes over", async () => {
    const worker = await FakeWorker.start(bus);
    const folder = await tempFolder("fake_init_service");
    const first = testRegistry(bus, folder);
    const standby = testRegistry(bus, folder);
    await first.start();
    await standby.start();
    expect(standby.active).toBe(false);
    expect(worker.inits).toHaveLength(1);

    await first.stop();
    await eventually(() => standby.active, "the standby becomes active");
    await standby.refresh();
    expect(worker.inits).toHaveLength(1);
    await standby.stop();
  });

  it("is not run again when the registry that ran it stopped before recording READY", async () => {
    const folder = await tempFolder("fake_init_service");
    const first = testRegistry(bus, folder);
    let stopping: Promise<void> | undefined;
    const worker = await FakeWorker.start(bus, {
      onInit: () => {
        // The active registry goes away while OnInit runs: its READY is never written.
        stopping = first.stop();
        return undefined;
      },
    });
    await first.start();
    await stopping;
    expect(worker.inits).toHaveLength(1);
    expect((await readRecord(bus, "fake_init_service"))?.state).toBe(PluginState.LOADING);

    const successor = testRegistry(bus, folder);
    await successor.start();
    expect((await readRecord(bus, "fake_init_service"))?.state).toBe(PluginState.READY);
    expect(worker.inits).toHaveLength(1);
    expect(worker.verified).toHaveLength(2);
    await successor.stop();
  });

  it("is run again for a new artifact of the same plugin", async () => {
    const worker = await FakeWorker.start(bus);
    const events = await EventLog.start(bus);
    const folder = await tempFolder("fake_init_service");
    const registry = testRegistry(bus, folder);
    await registry.start();
    const before = await readRecord(bus, "fake_init_service");

    await copyFile(join(FIXTURES, "multi_plugin", "plugin.wasm"), join(folder, "fake_init_service", "plugin.wasm"));
    await registry.refresh();
    const after = await readRecord(bus, "fake_init_service");
    expect(after?.sha256).not.toBe(before?.sha256);
    expect(after?.state).toBe(PluginState.READY);
    expect(worker.initsOf("fake_init_service")).toHaveLength(2);
    expect(events.of("fake_init_service").at(-1)?.kind).toBe(EventKind.LOADED);
    await registry.stop();
  });

  it("is run again for a plugin that was removed and comes back", async () => {
    const worker = await FakeWorker.start(bus);
    const folder = await tempFolder("fake_init_service");
    const registry = testRegistry(bus, folder);
    await registry.start();
    await rename(join(folder, "fake_init_service"), join(folder, ".parked"));
    await registry.refresh();
    expect((await readRecord(bus, "fake_init_service"))?.state).toBe(PluginState.REMOVED);

    await rename(join(folder, ".parked"), join(folder, "fake_init_service"));
    await registry.refresh();
    expect((await readRecord(bus, "fake_init_service"))?.state).toBe(PluginState.READY);
    expect(worker.initsOf("fake_init_service")).toHaveLength(2);
    await registry.stop();
  });
});

describe("a failing OnInit", () => {
  it("leaves the plugin FAILED with InitResponse.error, and is not retried after a restart", async () => {
    const worker = await FakeWorker.start(bus, {
      onInit: (call) => (call.config.returnerror === "response_error" ? { error: "initialization failed with response error" } : undefined),
    });
    const events = await EventLog.start(bus);
    const folder = await tempFolder("fake_init_service");
    const pluginConfig = { fake_init_service: { returnerror: "response_error" } };
    const registry = testRegistry(bus, folder, { pluginConfig });
    await registry.start();

    expect(await readRecord(bus, "fake_init_service")).toMatchObject({
      state: PluginState.FAILED,
      error: "initialization failed with response error",
      config: { returnerror: "response_error" },
    });
    expect(events.of("fake_init_service").at(-1)?.kind).toBe(EventKind.FAILED);
    await registry.stop();

    const restarted = testRegistry(bus, folder, { pluginConfig });
    await restarted.start();
    await restarted.refresh();
    expect(worker.inits).toHaveLength(1);
    expect((await readRecord(bus, "fake_init_service"))?.state).toBe(PluginState.FAILED);
    await restarted.stop();
  });

  it("leaves the plugin FAILED with the call's error text", async () => {
    await FakeWorker.start(bus, {
      onInit: () => new CallError("plugin_error", "initialization failed with Go error"),
    });
    const registry = testRegistry(bus, await tempFolder("fake_init_service", "fake_artist_agent"));
    await registry.start();

    expect(await readRecord(bus, "fake_init_service")).toMatchObject({
      state: PluginState.FAILED,
      error: "initialization failed with Go error",
    });
    expect((await readRecord(bus, "fake_artist_agent"))?.state).toBe(PluginState.READY);
    await registry.stop();
  });
});
