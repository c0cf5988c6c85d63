// Following the folder: changed wasm or manifest reloads the plugin, a plugin that leaves gets a
// tombstone, and artifacts nobody uses any more are deleted.
import { createHash } from "node:crypto";
import { copyFile, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Bus } from "@tonearm/bus";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  EventKind,
  EventLog,
  FIXTURES,
  FakeWorker,
  PluginState,
  copyFixture,
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
  bus = memoryBus("reload");
});
afterEach(async () => {
  await bus.close();
  await removeTempFolders();
});

const fileSha256 = async (path: string): Promise<string> => createHash("sha256").update(await readFile(path)).digest("hex");

describe("with autoReload", () => {
  it("reloads a plugin whose plugin.wasm is swapped: new sha256, LOADING then READY, old artifact deleted", async () => {
    const worker = await FakeWorker.start(bus);
    const folder = await tempFolder("fake_artist_agent");
    const registry = testRegistry(bus, folder, { autoReload: true, debounceMs: 50 });
    await registry.start();
    const before = await readRecord(bus, "fake_artist_agent");
    const events = await EventLog.start(bus);

    // Replaced the way a deploy does it: written beside, then renamed over the old file.
    await copyFile(join(FIXTURES, "fake_album_agent", "plugin.wasm"), join(folder, "fake_artist_agent", "plugin.wasm.new"));
    await rename(join(folder, "fake_artist_agent", "plugin.wasm.new"), join(folder, "fake_artist_agent", "plugin.wasm"));
    const newSha = await fileSha256(join(FIXTURES, "fake_album_agent", "plugin.wasm"));
    const loaded = await events.waitFor((e) => e.kind === EventKind.LOADED && e.record?.sha256 === newSha, "LOADED with the new sha256");

    expect(events.of("fake_artist_agent").map((e) => [e.kind, e.record?.state, e.record?.sha256])).toEqual([
      [EventKind.UPDATED, PluginState.LOADING, newSha],
      [EventKind.LOADED, PluginState.READY, newSha],
    ]);
    expect(loaded.record?.version).toBe((before?.version ?? 0n) + 2n);
    expect(await readRecord(bus, "fake_artist_agent")).toMatchObject({ state: PluginState.READY, sha256: newSha });
    expect(await readArtifact(bus, newSha)).toBeDefined();
    // Unused artifacts are deleted once the scan that released them ends.
    await eventually(async () => (await readArtifact(bus, before?.sha256 ?? "")) === undefined, "old artifact deleted");
    expect(worker.verified.filter((r) => r.id === "fake_artist_agent").map((r) => r.sha256)).toEqual([before?.sha256, newSha]);
    await registry.stop();
  });

  it("reloads a plugin whose manifest changes, keeping its artifact", async () => {
    await FakeWorker.start(bus);
    const folder = await tempFolder("fake_scrobbler");
    const registry = testRegistry(bus, folder, { autoReload: true, debounceMs: 50 });
    await registry.start();
    const before = await readRecord(bus, "fake_scrobbler");
    const events = await EventLog.start(bus);

    const manifestPath = join(folder, "fake_scrobbler", "manifest.json");
    const manifest = JSON.parse(await readFile(manifestPath, "utf8")) as Record<string, unknown>;
    const changed = JSON.stringify({ ...manifest, version: "2.0.0" }, null, 2);
    await writeFile(`${manifestPath}.new`, changed);
    await rename(`${manifestPath}.new`, manifestPath);
    await events.waitFor((e) => e.kind === EventKind.LOADED, "LOADED after the manifest changed");

    expect(await readRecord(bus, "fake_scrobbler")).toMatchObject({ state: PluginState.READY, manifestJson: changed, sha256: before?.sha256 });
    expect(events.of("fake_scrobbler").map((e) => e.record?.state)).toEqual([PluginState.LOADING, PluginState.READY]);
    expect(await readArtifact(bus, before?.sha256 ?? "")).toBeDefined();
    await registry.stop();
  });

  it("publishes a plugin copied into the folder, and a tombstone for one deleted from it", async () => {
    await FakeWorker.start(bus);
    const folder = await tempFolder("fake_scrobbler");
    const registry = testRegistry(bus, folder, { autoReload: true, debounceMs: 50 });
    await registry.start();
    const scrobbler = await readRecord(bus, "fake_scrobbler");
    const events = await EventLog.start(bus);

    await copyFixture("fake_album_agent", folder);
    await events.waitFor((e) => e.record?.id === "fake_album_agent" && e.kind === EventKind.LOADED, "fake_album_agent LOADED");

    await rm(join(folder, "fake_scrobbler"), { recursive: true });
    const removed = await events.waitFor((e) => e.kind === EventKind.REMOVED, "REMOVED");
    expect(removed.record).toMatchObject({ id: "fake_scrobbler", state: PluginState.REMOVED, sha256: scrobbler?.sha256 });
    expect(removed.record?.version).toBe((scrobbler?.version ?? 0n) + 1n);
    expect(await readRecord(bus, "fake_scrobbler")).toMatchObject({ state: PluginState.REMOVED });
    await eventually(async () => (await readArtifact(bus, scrobbler?.sha256 ?? "")) === undefined, "artifact deleted");
    await registry.stop();
  });
});

describe("without autoReload", () => {
  it("sees changes only when refreshed", async () => {
    await FakeWorker.start(bus);
    const folder = await tempFolder("fake_scrobbler");
    const registry = testRegistry(bus, folder, { autoReload: false });
    await registry.start();
    const before = await readRecord(bus, "fake_scrobbler");
    await copyFile(join(FIXTURES, "fake_artist_agent", "plugin.wasm"), join(folder, "fake_scrobbler", "plugin.wasm"));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await readRecord(bus, "fake_scrobbler")).toEqual(before);

    const [refreshed] = await registry.refresh("fake_scrobbler");
    expect(refreshed).toMatchObject({ state: PluginState.READY, sha256: await fileSha256(join(FIXTURES, "fake_artist_agent", "plugin.wasm")) });
    await registry.stop();
  });
});

describe("artifacts shared by several plugins", () => {
  it("are kept until the last plugin using them is gone", async () => {
    await FakeWorker.start(bus);
    const folder = await tempFolder("fake_scrobbler");
    await copyFixture("fake_scrobbler", folder, "scrobbler_copy");
    const registry = testRegistry(bus, folder);
    await registry.start();
    const sha256 = (await readRecord(bus, "fake_scrobbler"))?.sha256 ?? "";
    expect((await readRecord(bus, "scrobbler_copy"))?.sha256).toBe(sha256);

    await rm(join(folder, "fake_scrobbler"), { recursive: true });
    await registry.refresh();
    expect((await readRecord(bus, "fake_scrobbler"))?.state).toBe(PluginState.REMOVED);
    expect(await readArtifact(bus, sha256)).toBeDefined();

    await rm(join(folder, "scrobbler_copy"), { recursive: true });
    await registry.refresh();
    expect(await readArtifact(bus, sha256)).toBeUndefined();
    await registry.stop();
  });
});
