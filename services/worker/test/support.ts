// Publishes plugin records and artifacts the way the registry does, without the registry.
import { create, toBinary } from "@bufbuild/protobuf";
import { encodeToken, PluginState, storageNames, type Bus } from "@tonearm/bus";
import { createMemoryCacheStore, createMemoryScheduleStore, createLocalWebSocketGateway, type HostDrivers, type HostSettings } from "@tonearm/host";
import { bus as busProto } from "@tonearm/proto";
import { readFixture, type FixtureSet } from "@tonearm/test-harness";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { fixturePaths } from "@tonearm/test-harness";

export async function publish(
  bus: Bus,
  ns: string,
  set: FixtureSet,
  name: string,
  fields: Partial<{ id: string; state: busProto.PluginState; error: string; config: Record<string, string> }> = {},
): Promise<busProto.PluginRecord> {
  const fixture = await readFixture(set, name);
  const sha256 = createHash("sha256").update(fixture.wasm).digest("hex");
  const names = storageNames(ns);
  await (await bus.objects(names.artifactsStore)).put(sha256, fixture.wasm);
  const record = create(busProto.PluginRecordSchema, {
    id: fields.id ?? name,
    manifestJson: await readFile(`${fixturePaths.plugin(set, name)}/manifest.json`, "utf8"),
    sha256,
    state: fields.state ?? PluginState.READY,
    error: fields.error ?? "",
    config: fields.config ?? {},
    version: 1n,
    updatedAtMs: BigInt(Date.now()),
  });
  await (await bus.kv(names.pluginsBucket)).put(encodeToken(record.id), toBinary(busProto.PluginRecordSchema, record));
  return record;
}

export const hostSettings: HostSettings = {
  http: { timeoutMs: 5_000, maxResponseBytes: 1024 * 1024 },
  artwork: { secret: "s", shareUrl: "", baseUrl: "" },
  subsonic: {},
};

export function hostDrivers(): HostDrivers {
  return { cache: createMemoryCacheStore(), schedules: createMemoryScheduleStore(), websocket: createLocalWebSocketGateway({ onEvent: () => {} }) };
}
