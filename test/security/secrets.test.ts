// Secret plugin settings end to end, on the real NATS: the registry publishes them sealed (KV
// bytes, events, OnInit requests, everything on the wire), workers open them for the plugin (its
// OnInit and get_plugin_config see the clear values), and neither logs nor metrics ever show them.
import { mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { connectNatsBus, createMemoryBus, encodeToken, PluginState, storageNames, callPlugin, type Bus, type BusMessage } from "@tonearm/bus";
import { ConfigError, parseConfig, pluginSecretsFor, type TonearmConfig } from "@tonearm/config";
import { createLocalWebSocketGateway, createMemoryCacheStore, createMemoryScheduleStore, hostSettings } from "@tonearm/host";
import { bus as busProto } from "@tonearm/proto";
import { fromBinary } from "@bufbuild/protobuf";
import { startRegistry, type Registry } from "@tonearm/registry";
import { createLogger, createMetrics, startMetricsServer, type Logger } from "@tonearm/telemetry";
import { fixturePaths, natsUrl, testNamespace } from "@tonearm/test-harness";
import { createWorker, type Worker } from "@tonearm/worker";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

const API_KEY = `hp-apikey-${randomBytes(6).toString("hex")}`;
const USERS = `admin:tok-${randomBytes(6).toString("hex")}`;
const SCROBBLER_TOKEN = `fs-token-${randomBytes(6).toString("hex")}`;
const SECRETS = [API_KEY, USERS, SCROBBLER_TOKEN, "go_error"];
const quietBus = { info: () => {}, warn: () => {}, error: () => {} };

/** Everything written to a logger, as the text lines it wrote. */
function capturingLogger(): { logger: Logger; text: () => string } {
  const lines: string[] = [];
  return { logger: createLogger({ level: "trace", destination: { write: (line: string) => void lines.push(line) } }), text: () => lines.join("") };
}

/** A plugins folder linking the fixtures the suite needs. */
async function pluginsFolder(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), "tonearm-secrets-"));
  for (const id of ["host_probe", "fake_init_service", "fake_scrobbler", "fake_artist_agent"]) await symlink(fixturePaths.plugin("plugins", id), join(folder, id));
  return folder;
}

function configText(folder: string, mode: "cluster" | "embedded", namespace: string, servers: string): string {
  return `
mode = "${mode}"
namespace = "${namespace}"
[Plugins]
Folder = "${folder}"
AutoReload = false
SecretKeys = ["host_probe.users", "fake_init_service.returnerror"]
[nats]
servers = ["${servers}"]
[log]
level = "trace"
[PluginConfig.host_probe]
ApiKey = "${API_KEY}"
Users = "${USERS}"
Region = "eu"
[PluginConfig.fake_scrobbler]
Token = "${SCROBBLER_TOKEN}"
`;
}

/**
 * The configuration of `configText`, plus fake_init_service's `returnError` setting: that fixture
 * reads it in camel case, which TOML keys (lower-cased as in Navidrome) cannot give.
 */
function parseWithInitSetting(text: string, env: NodeJS.ProcessEnv): TonearmConfig {
  const parsed = parseConfig(text, { env });
  return { ...parsed, pluginConfig: { ...parsed.pluginConfig, fake_init_service: { returnError: "go_error" } } };
}

function startWorker(bus: Bus, config: TonearmConfig, logger: Logger, metrics = createMetrics()): Promise<Worker> {
  const worker = createWorker({
    bus,
    namespace: config.namespace,
    runtimeOptions: { threads: { min: 1, max: 4 } },
    hostSettings: hostSettings(config),
    hostDrivers: { cache: createMemoryCacheStore(), schedules: createMemoryScheduleStore(), websocket: createLocalWebSocketGateway({ onEvent: () => {} }) },
    agents: [],
    secrets: pluginSecretsFor(config),
    logger,
    metrics,
  });
  return worker.start().then(() => worker);
}

async function recordBytes(bus: Bus, id: string): Promise<Uint8Array> {
  const entry = await (await bus.kv(storageNames(bus.namespace).pluginsBucket)).get(encodeToken(id));
  if (entry === undefined) throw new Error(`no record for ${id}`);
  return entry.value;
}

const contains = (bytes: Uint8Array, text: string): boolean => Buffer.from(bytes).includes(Buffer.from(text, "utf8"));
const biography = async (bus: Bus, op: string): Promise<unknown> =>
  callPlugin(bus, bus.namespace, { plugin: "host_probe", capability: "MetadataAgent", method: "GetArtistBiography", json: { name: op }, timeoutMs: 10_000 });

describe("secret plugin settings in a cluster on NATS", () => {
  const namespace = testNamespace("sec");
  const clusterKey = randomBytes(32).toString("base64");
  const logs = capturingLogger();
  const metrics = createMetrics();
  const wire: BusMessage[] = [];
  let folder: string;
  let config: TonearmConfig;
  let registryBus: Bus;
  let workerBus: Bus;
  let tapBus: Bus;
  let worker: Worker;
  let registry: Registry;

  beforeAll(async () => {
    const servers = await natsUrl();
    folder = await pluginsFolder();
    config = parseWithInitSetting(configText(folder, "cluster", namespace, servers), { TONEARM_SECURITY_CLUSTERKEY: clusterKey });
    // A wiretap on every subject of the server, as an eavesdropper with NATS access would see it.
    tapBus = await connectNatsBus({ servers, name: "wiretap", namespace, logger: quietBus });
    tapBus.subscribe(">", {}, (message) => void wire.push(message));
    await tapBus.flush();
    workerBus = await connectNatsBus({ servers, name: "worker", namespace, logger: quietBus });
    registryBus = await connectNatsBus({ servers, name: "registry", namespace, logger: quietBus });
    worker = await startWorker(workerBus, config, logs.logger, metrics);
    registry = await startRegistry({ bus: registryBus, config, logger: logs.logger });
  }, 60_000);

  afterAll(async () => {
    await registry?.stop();
    await worker?.drain();
    await Promise.all([registryBus?.close(), workerBus?.close(), tapBus?.close()]);
    await rm(folder, { recursive: true, force: true });
  });

  it("publishes records with the secret values sealed and the others in clear", async () => {
    const bytes = await recordBytes(registryBus, "host_probe");
    for (const secret of SECRETS) expect(contains(bytes, secret), secret).toBe(false);
    const record = fromBinary(busProto.PluginRecordSchema, bytes);
    expect(record.state).toBe(PluginState.READY);
    expect(record.config.region).toBe("eu");
    expect(record.config.apikey).toMatch(/^tonearm-sealed:v1:[0-9a-f]{8}:/);
    expect(record.config.users).toMatch(/^tonearm-sealed:v1:/);
  });

  it("hands OnInit the clear value: fake_init_service, told by its secret setting to fail, fails", async () => {
    const record = fromBinary(busProto.PluginRecordSchema, await recordBytes(registryBus, "fake_init_service"));
    expect(record.config.returnError).toMatch(/^tonearm-sealed:v1:/);
    expect(record).toMatchObject({ state: PluginState.FAILED, error: "initialization failed with Go error" });
  });

  it("sends nothing in clear over NATS: KV writes, events, verification and OnInit requests", async () => {
    await tapBus.flush();
    // Subjects, KV buckets and reply inboxes of this namespace; other suites share the server.
    const ours = wire.filter((m) => m.subject.includes(namespace));
    const kvWrites = ours.filter((m) => m.subject.startsWith(`$KV.${storageNames(namespace).pluginsBucket}.`));
    expect(kvWrites.some((m) => contains(m.data, "tonearm-sealed:v1:"))).toBe(true);
    expect(ours.some((m) => m.subject.endsWith(".LifecycleManagement.OnInit") && contains(m.data, "tonearm-sealed:v1:"))).toBe(true);
    for (const message of ours) {
      const text = Buffer.concat([Buffer.from(message.subject), Buffer.from(message.data), Buffer.from(JSON.stringify(message.headers))]);
      for (const secret of SECRETS) expect(contains(text, secret), `${secret} on ${message.subject}`).toBe(false);
    }
  });

  it("gives the plugin its settings in clear through get_plugin_config", async () => {
    expect(await biography(workerBus, "config")).toEqual({ biography: `apikey=${API_KEY};region=eu;users=${USERS}` });
  });

  it("keeps secrets out of every log line, even when a plugin writes one to stderr", async () => {
    // fake_scrobbler logs the user name it is asked about; here that is its own token.
    expect(
      await callPlugin(workerBus, namespace, { plugin: "fake_scrobbler", capability: "Scrobbler", method: "IsAuthorized", json: { username: SCROBBLER_TOKEN }, timeoutMs: 10_000 }),
    ).toEqual({ authorized: true });
    await expect.poll(() => logs.text()).toContain("IsAuthorized user=[redacted]");
    const text = logs.text();
    expect(text).toContain("plugin record changed");
    for (const secret of SECRETS) expect(text, secret).not.toContain(secret);
  });

  it("keeps secrets out of the metrics", async () => {
    const server = await startMetricsServer(metrics, 0, { host: "127.0.0.1" });
    try {
      const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      expect(text).toContain('tonearm_plugin_calls_total{plugin="host_probe"');
      for (const secret of SECRETS) expect(text, secret).not.toContain(secret);
    } finally {
      await server.close();
    }
  });
});

describe("cluster keys that do not match", () => {
  let bus: Bus;
  let folder: string;
  const running: { stop(): Promise<void> }[] = [];

  beforeAll(async () => {
    folder = await pluginsFolder();
  });
  afterEach(async () => {
    for (const r of running.splice(0).reverse()) await r.stop();
    await bus?.close();
  });
  afterAll(() => rm(folder, { recursive: true, force: true }));

  it("fail the plugin's load with a text naming both keys, and keep serving the others", async () => {
    const namespace = testNamespace("seck");
    const servers = await natsUrl();
    bus = await connectNatsBus({ servers, name: "mismatch", namespace, logger: quietBus });
    const text = configText(folder, "cluster", namespace, servers);
    const registryConfig = parseWithInitSetting(text, { TONEARM_SECURITY_CLUSTERKEY: randomBytes(32).toString("base64") });
    const workerConfig = parseWithInitSetting(text, { TONEARM_SECURITY_CLUSTERKEY: randomBytes(32).toString("base64") });
    const quiet = createLogger({ level: "silent" });
    const worker = await startWorker(bus, workerConfig, quiet);
    running.push({ stop: () => worker.drain() });
    const registry = await startRegistry({ bus, config: registryConfig, logger: quiet });
    running.push(registry);
    const record = fromBinary(busProto.PluginRecordSchema, await recordBytes(bus, "host_probe"));
    expect(record.state).toBe(PluginState.FAILED);
    expect(record.error).toMatch(/^the setting (apikey|users) of plugin host_probe is sealed with cluster key [0-9a-f]{8}, but this process has cluster key [0-9a-f]{8}: give every Tonearm process of the cluster the same \[security\] clusterKey$/);
    // A plugin without secret settings loads all the same.
    expect(fromBinary(busProto.PluginRecordSchema, await recordBytes(bus, "fake_artist_agent")).state).toBe(PluginState.READY);
  }, 60_000);

  it("cluster mode without any cluster key refuses to start the registry, before publishing anything", async () => {
    const namespace = testNamespace("secn");
    const servers = await natsUrl();
    bus = await connectNatsBus({ servers, name: "nokey", namespace, logger: quietBus });
    const config = parseWithInitSetting(configText(folder, "cluster", namespace, servers), {});
    await expect(startRegistry({ bus, config, logger: createLogger({ level: "silent" }) })).rejects.toThrow(ConfigError);
    await expect(startRegistry({ bus, config, logger: createLogger({ level: "silent" }) })).rejects.toThrow(
      /security\.clusterKey: required in cluster mode, because plugin settings PluginConfig\.host_probe\.apikey, PluginConfig\.host_probe\.users, PluginConfig\.fake_scrobbler\.token, PluginConfig\.fake_init_service\.returnError are secret/,
    );
    expect(await (await bus.kv(storageNames(namespace).pluginsBucket)).get(encodeToken("host_probe"))).toBeUndefined();
  });
});

describe("secret plugin settings in embedded mode", () => {
  it("need no key: sealed in the in-memory records, clear for the plugin", async () => {
    const folder = await pluginsFolder();
    const namespace = testNamespace("sece");
    const config = parseWithInitSetting(configText(folder, "embedded", namespace, "nats://unused:4222"), {});
    const bus = createMemoryBus({ namespace, logger: quietBus });
    const quiet = createLogger({ level: "silent" });
    const worker = await startWorker(bus, config, quiet);
    const registry = await startRegistry({ bus, config, logger: quiet });
    try {
      const bytes = await recordBytes(bus, "host_probe");
      for (const secret of SECRETS) expect(contains(bytes, secret), secret).toBe(false);
      expect(await biography(bus, "config")).toEqual({ biography: `apikey=${API_KEY};region=eu;users=${USERS}` });
    } finally {
      await registry.stop();
      await worker.drain();
      await bus.close();
      await rm(folder, { recursive: true, force: true });
    }
  }, 60_000);
});
