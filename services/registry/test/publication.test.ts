// What the registry publishes for a plugins folder: records, artifacts and events, on the memory bus.
import { createHash } from "node:crypto";
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CallError } from "@tonearm/abi";
import type { Bus } from "@tonearm/bus";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  EventKind,
  EventLog,
  FIXTURES,
  FIXTURE_IDS,
  FakeWorker,
  PluginState,
  WITH_ON_INIT,
  eventually,
  memoryBus,
  readArtifact,
  readRecord,
  removeTempFolders,
  tempFolder,
  testRegistry,
} from "./support.js";

let bus: Bus;
beforeEach(() => {
  bus = memoryBus("pub");
});
afterEach(async () => {
  await bus.close();
  await removeTempFolders();
});

const sha256 = (data: Uint8Array): string => createHash("sha256").update(data).digest("hex");

describe("publication of the fixture folder", () => {
  it("writes a READY record and stores the wasm by its sha256 for every fixture plugin", async () => {
    const worker = await FakeWorker.start(bus);
    const events = await EventLog.start(bus);
    const registry = testRegistry(bus, FIXTURES, { pluginConfig: { multi_plugin: { apikey: "k1" } } });
    await registry.start();
    expect(registry.active).toBe(true);

    for (const id of FIXTURE_IDS) {
      const record = await readRecord(bus, id);
      const wasm = new Uint8Array(await readFile(join(FIXTURES, id, "plugin.wasm")));
      expect(record, id).toMatchObject({ id, state: PluginState.READY, error: "", sha256: sha256(wasm) });
      expect(record?.manifestJson).toBe(await readFile(join(FIXTURES, id, "manifest.json"), "utf8"));
      expect(await readArtifact(bus, sha256(wasm))).toEqual(wasm);
      // LOADING first, then READY: two versions, each announced.
      expect(record?.version).toBe(2n);
      expect(events.of(id).map((e) => [e.kind, e.record?.state])).toEqual([
        [EventKind.UPDATED, PluginState.LOADING],
        [EventKind.LOADED, PluginState.READY],
      ]);
    }
    expect((await readRecord(bus, "multi_plugin"))?.config).toEqual({ apikey: "k1" });
    expect(worker.verified.map((r) => r.id).sort()).toEqual(FIXTURE_IDS);
    expect(worker.verified.every((r) => r.state === PluginState.LOADING)).toBe(true);
    // OnInit only for the plugins that list LifecycleManagement, with their configuration.
    expect(worker.inits.map((call) => call.plugin).sort()).toEqual(WITH_ON_INIT);
    expect(worker.initsOf("multi_plugin")).toEqual([{ plugin: "multi_plugin", config: { apikey: "k1" }, caller: "registry" }]);
    expect(worker.initsOf("fake_init_service")[0]?.config).toEqual({});
    await registry.stop();
  });

  it("records broken folder entries FAILED with Navidrome's discovery text, next to working ones", async () => {
    await FakeWorker.start(bus);
    const folder = await tempFolder("fake_artist_agent");
    await mkdir(join(folder, "bad_manifest"));
    await writeFile(join(folder, "bad_manifest", "plugin.wasm"), "not wasm, never compiled by discovery");
    await writeFile(join(folder, "bad_manifest", "manifest.json"), '{ "invalid": "json" }');
    await mkdir(join(folder, "no_wasm"));
    await copyFile(join(FIXTURES, "fake_artist_agent", "manifest.json"), join(folder, "no_wasm", "manifest.json"));
    const registry = testRegistry(bus, folder);
    await registry.start();

    expect(await readRecord(bus, "fake_artist_agent")).toMatchObject({ state: PluginState.READY });
    const badManifest = await readRecord(bus, "bad_manifest");
    expect(badManifest).toMatchObject({ state: PluginState.FAILED, sha256: "", manifestJson: "" });
    expect(badManifest?.error).toBe("failed to load manifest: invalid manifest: field author in PluginManifest: required");
    expect(await readRecord(bus, "no_wasm")).toMatchObject({
      state: PluginState.FAILED,
      error: `no plugin.wasm found: stat ${join(folder, "no_wasm", "plugin.wasm")}: no such file or directory`,
    });
    await registry.stop();
  });

  it("records a plugin the worker cannot load FAILED with the worker's text", async () => {
    const text = 'failed to instantiate: "get" is not exported in module "env"';
    await FakeWorker.start(bus, {
      verify: (record) => (record.id === "unauthorized_plugin" ? new CallError("load_error", text) : undefined),
    });
    const events = await EventLog.start(bus);
    const registry = testRegistry(bus, await tempFolder("unauthorized_plugin", "fake_scrobbler"));
    await registry.start();

    expect(await readRecord(bus, "unauthorized_plugin")).toMatchObject({ state: PluginState.FAILED, error: text });
    expect(await readRecord(bus, "fake_scrobbler")).toMatchObject({ state: PluginState.READY });
    expect(events.of("unauthorized_plugin").at(-1)?.kind).toBe(EventKind.FAILED);
    await registry.stop();
  });

  it("keeps a plugin LOADING while no worker answers, and loads it once one starts", async () => {
    const events = await EventLog.start(bus);
    const registry = testRegistry(bus, await tempFolder("fake_init_service"));
    await registry.start();
    expect(await readRecord(bus, "fake_init_service")).toMatchObject({ state: PluginState.LOADING, error: "" });

    const worker = await FakeWorker.start(bus);
    await events.waitFor((e) => e.record?.state === PluginState.READY, "READY after the worker started");
    expect(worker.initsOf("fake_init_service")).toHaveLength(1);
    await registry.stop();
  });

  it("records every plugin DISABLED, publishing nothing, when plugins are not enabled", async () => {
    const worker = await FakeWorker.start(bus);
    const folder = await tempFolder("fake_artist_agent", "multi_plugin");
    const registry = testRegistry(bus, folder, { enabled: false });
    await registry.start();

    for (const id of ["fake_artist_agent", "multi_plugin"]) {
      const record = await readRecord(bus, id);
      expect(record, id).toMatchObject({ state: PluginState.DISABLED, sha256: "", error: "" });
      expect(record?.manifestJson).toBe(await readFile(join(folder, id, "manifest.json"), "utf8"));
    }
    const wasm = new Uint8Array(await readFile(join(folder, "fake_artist_agent", "plugin.wasm")));
    expect(await readArtifact(bus, sha256(wasm))).toBeUndefined();
    expect(worker.verified).toEqual([]);
    expect(worker.inits).toEqual([]);
    await registry.stop();
  });

  it("turns READY plugins DISABLED and drops their artifacts when restarted with plugins disabled", async () => {
    await FakeWorker.start(bus);
    const folder = await tempFolder("fake_scrobbler");
    const first = testRegistry(bus, folder);
    await first.start();
    const ready = await readRecord(bus, "fake_scrobbler");
    expect(ready?.state).toBe(PluginState.READY);
    await first.stop();

    const disabled = testRegistry(bus, folder, { enabled: false });
    await disabled.start();
    await eventually(async () => (await readRecord(bus, "fake_scrobbler"))?.state === PluginState.DISABLED, "DISABLED");
    expect(await readArtifact(bus, ready?.sha256 ?? "")).toBeUndefined();
    await disabled.stop();
  });

  it("leaves records alone when the folder cannot be read", async () => {
    await FakeWorker.start(bus);
    const folder = await tempFolder("fake_scrobbler");
    const registry = testRegistry(bus, folder);
    await registry.start();
    const before = await readRecord(bus, "fake_scrobbler");
    await rm(folder, { recursive: true });

    await expect(registry.refresh()).rejects.toThrow(/failed to read plugins directory/);
    expect(await readRecord(bus, "fake_scrobbler")).toEqual(before);
    await registry.stop();
  });
});
