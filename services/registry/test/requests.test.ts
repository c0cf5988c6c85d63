// registry.list / registry.get / registry.refresh, as a client sees them on the bus.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { CallError } from "@tonearm/abi";
import { CallContentType, CallHeader, decodeCallReply, subjects, type Bus } from "@tonearm/bus";
import { bus as busProto } from "@tonearm/proto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Registry } from "../src/registry.js";
import { FakeWorker, PluginState, copyFixture, memoryBus, removeTempFolders, tempFolder, testRegistry } from "./support.js";

const {
  GetPluginRequestSchema,
  ListPluginsRequestSchema,
  ListPluginsResponseSchema,
  PluginRecordSchema,
  RefreshRequestSchema,
  RefreshResponseSchema,
} = busProto;

let bus: Bus;
let folder: string;
let registry: Registry;
beforeEach(async () => {
  bus = memoryBus("req");
  await FakeWorker.start(bus);
  folder = await tempFolder("fake_artist_agent", "fake_scrobbler");
  registry = testRegistry(bus, folder);
  await registry.start();
});
afterEach(async () => {
  await registry.stop();
  await bus.close();
  await removeTempFolders();
});

async function ask(subject: string, data: Uint8Array, headers: Record<string, string> = {}): Promise<Uint8Array> {
  const reply = await bus.request(subject, data, { timeoutMs: 5_000, headers });
  return decodeCallReply(reply);
}

const names = () => subjects(bus.namespace);

describe("registry.list", () => {
  it("answers every record but tombstones", async () => {
    await rm(join(folder, "fake_scrobbler"), { recursive: true });
    await registry.refresh();
    const reply = await ask(names().registryList, toBinary(ListPluginsRequestSchema, create(ListPluginsRequestSchema)));
    const { plugins } = fromBinary(ListPluginsResponseSchema, reply);
    expect(plugins.map((p) => [p.id, p.state])).toEqual([["fake_artist_agent", PluginState.READY]]);
  });

  it("answers in the protobuf JSON mapping when asked in JSON", async () => {
    const reply = await ask(names().registryList, new TextEncoder().encode("{}"), { [CallHeader.ContentType]: CallContentType.Json });
    const json = JSON.parse(new TextDecoder().decode(reply)) as { plugins: { id: string; state: string }[] };
    expect(json.plugins.map((p) => [p.id, p.state]).sort()).toEqual([
      ["fake_artist_agent", "PLUGIN_STATE_READY"],
      ["fake_scrobbler", "PLUGIN_STATE_READY"],
    ]);
  });
});

describe("registry.get", () => {
  it("answers the plugin's record", async () => {
    const reply = await ask(names().registryGet, toBinary(GetPluginRequestSchema, create(GetPluginRequestSchema, { id: "fake_scrobbler" })));
    expect(fromBinary(PluginRecordSchema, reply)).toMatchObject({ id: "fake_scrobbler", state: PluginState.READY });
  });

  it("answers not_found with Navidrome's text for an unknown or removed plugin", async () => {
    const get = (id: string) => ask(names().registryGet, toBinary(GetPluginRequestSchema, create(GetPluginRequestSchema, { id })));
    await expect(get("nope")).rejects.toMatchObject({ code: "not_found", message: "plugin not found: nope" });
    await rm(join(folder, "fake_scrobbler"), { recursive: true });
    await registry.refresh();
    await expect(get("fake_scrobbler")).rejects.toMatchObject({ code: "not_found" });
  });

  it("answers bad_request for a request that is not a GetPluginRequest", async () => {
    const garbage = Uint8Array.of(0x0a, 0xff, 0xff, 0xff);
    await expect(ask(names().registryGet, garbage)).rejects.toSatisfy(
      (err: unknown) => err instanceof CallError && err.code === "bad_request" && /GetPluginRequest/.test(err.message),
    );
  });
});

describe("registry.refresh", () => {
  it("rescans and answers the records the refresh touched", async () => {
    await copyFixture("fake_album_agent", folder);
    const reply = await ask(names().registryRefresh, toBinary(RefreshRequestSchema, create(RefreshRequestSchema)));
    const { plugins } = fromBinary(RefreshResponseSchema, reply);
    expect(plugins.map((p) => [p.id, p.state]).sort()).toEqual([
      ["fake_album_agent", PluginState.READY],
      ["fake_artist_agent", PluginState.READY],
      ["fake_scrobbler", PluginState.READY],
    ]);
  });

  it("refreshes one plugin when given its id, and answers not_found for an unknown one", async () => {
    await copyFixture("fake_album_agent", folder);
    const refresh = (id: string) => ask(names().registryRefresh, toBinary(RefreshRequestSchema, create(RefreshRequestSchema, { id })));
    const { plugins } = fromBinary(RefreshResponseSchema, await refresh("fake_scrobbler"));
    expect(plugins.map((p) => p.id)).toEqual(["fake_scrobbler"]);
    await expect(refresh("nope")).rejects.toMatchObject({ code: "not_found", message: "plugin not found: nope" });
  });

  it("is forwarded to the active registry when asked of a standby", async () => {
    const standby = testRegistry(bus, folder);
    await standby.start();
    expect(standby.active).toBe(false);
    await copyFixture("fake_album_agent", folder);
    const records = await standby.refresh("fake_album_agent");
    expect(records.map((r) => [r.id, r.state])).toEqual([["fake_album_agent", PluginState.READY]]);
    await standby.stop();
  });
});
