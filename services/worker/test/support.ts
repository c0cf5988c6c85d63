// What the worker's tests share: a publisher that writes plugin records and wasm the way the
// registry does (without the registry), workers on test settings, log capture, and latches that
// fail a test instead of hanging it.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { create, toBinary } from "@bufbuild/protobuf";
import { CallError } from "@tonearm/abi";
import {
  PluginState,
  callPlugin,
  createMemoryBus,
  encodeCallRequest,
  encodeToken,
  storageNames,
  workerVerifySubject,
  decodeCallReply,
  type Bus,
  type BusLogger,
  type KeyValue,
  type ObjectStore,
  type PluginRecord,
} from "@tonearm/bus";
import {
  createLocalWebSocketGateway,
  createMemoryCacheStore,
  createMemoryScheduleStore,
  type HostDrivers,
  type HostSettings,
} from "@tonearm/host";
import { api, bus as busProto } from "@tonearm/proto";
import { createLogger, type Logger } from "@tonearm/telemetry";
import { fixturePaths, type FixtureSet } from "@tonearm/test-harness";
import { createWorker, type Worker, type WorkerOptions } from "../src/index.js";

export { PluginState };

export const quietBusLogger: BusLogger = { info: () => {}, warn: () => {}, error: () => {} };
export const quiet = createLogger({ level: "silent" });

export function memoryBus(namespace: string): Bus {
  return createMemoryBus({ namespace, logger: quietBusLogger });
}

/** A logger whose lines are kept as parsed objects. */
export function capturingLogger(level = "debug"): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level, destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });
  return { logger, lines };
}

// ── publishing plugins the way the registry does ────────────────────────────────────────────────

export interface Artifact {
  readonly wasm: Uint8Array;
  readonly sha256: string;
  readonly manifestJson: string;
}

export async function fixtureArtifact(set: FixtureSet, name: string): Promise<Artifact> {
  const dir = fixturePaths.plugin(set, name);
  const wasm = new Uint8Array(await readFile(`${dir}/plugin.wasm`));
  return { wasm, sha256: createHash("sha256").update(wasm).digest("hex"), manifestJson: await readFile(`${dir}/manifest.json`, "utf8") };
}

export interface RecordFields {
  readonly state?: busProto.PluginState;
  readonly error?: string;
  readonly config?: Record<string, string>;
}

/** Writes plugin records (KV) and wasm (object store by sha256) into a namespace. */
export class Publisher {
  #version = 0n;

  private constructor(
    readonly records: KeyValue,
    readonly artifacts: ObjectStore,
  ) {}

  static async open(bus: Bus): Promise<Publisher> {
    const names = storageNames(bus.namespace);
    return new Publisher(await bus.kv(names.pluginsBucket), await bus.objects(names.artifactsStore));
  }

  /** Publishes fixture `name` of `set` as plugin `id` (the fixture's name unless given). */
  async fixture(set: FixtureSet, name: string, fields: RecordFields & { readonly id?: string } = {}): Promise<PluginRecord> {
    const artifact = await fixtureArtifact(set, name);
    await this.artifacts.put(artifact.sha256, artifact.wasm);
    return this.put(this.record(fields.id ?? name, artifact, fields));
  }

  record(id: string, artifact: Pick<Artifact, "sha256" | "manifestJson">, fields: RecordFields = {}): PluginRecord {
    return create(busProto.PluginRecordSchema, {
      id,
      manifestJson: artifact.manifestJson,
      sha256: artifact.sha256,
      state: fields.state ?? PluginState.READY,
      error: fields.error ?? "",
      config: fields.config ?? {},
      version: ++this.#version,
      updatedAtMs: BigInt(Date.now()),
    });
  }

  async put(record: PluginRecord): Promise<PluginRecord> {
    await this.records.put(encodeToken(record.id), toBinary(busProto.PluginRecordSchema, record));
    return record;
  }

  /** Writes a copy of `record` with other fields. */
  async update(record: PluginRecord, fields: Partial<Pick<PluginRecord, "state" | "error" | "sha256" | "manifestJson">>): Promise<PluginRecord> {
    return this.put(create(busProto.PluginRecordSchema, { ...record, ...fields, version: ++this.#version }));
  }
}

// ── workers ─────────────────────────────────────────────────────────────────────────────────────

export const hostSettings: HostSettings = {
  http: { timeoutMs: 2_000, maxResponseBytes: 1024 * 1024 },
  artwork: { secret: "worker-test-secret", shareUrl: "", baseUrl: "" },
  subsonic: {},
};

export function hostDrivers(): HostDrivers {
  return {
    cache: createMemoryCacheStore(),
    schedules: createMemoryScheduleStore(),
    websocket: createLocalWebSocketGateway({ onEvent: () => {} }),
  };
}

/** Workers started by tests, drained by `drainWorkers`. */
const started: Worker[] = [];

export async function startTestWorker(bus: Bus, options: Partial<WorkerOptions> = {}): Promise<Worker> {
  const worker = createWorker({
    bus,
    namespace: bus.namespace,
    runtimeOptions: { threads: { min: 1, max: 4 } },
    hostSettings,
    hostDrivers: hostDrivers(),
    agents: [],
    logger: quiet,
    ...options,
  });
  started.push(worker);
  await worker.start();
  return worker;
}

export async function drainWorkers(): Promise<void> {
  await Promise.all(started.splice(0).map((worker) => worker.drain()));
}

// ── calling ─────────────────────────────────────────────────────────────────────────────────────

export function mbidRequest(name: string, id = "artist-1"): Uint8Array {
  return toBinary(api.ArtistMBIDRequestSchema, create(api.ArtistMBIDRequestSchema, { id, name }));
}

/** GetArtistMBID of a plugin, as JSON. */
export function artistMbid(bus: Bus, plugin: string, name = "The Beatles", timeoutMs = 5_000): Promise<unknown> {
  return callPlugin(bus, bus.namespace, { plugin, capability: "MetadataAgent", method: "GetArtistMBID", json: { id: "artist-1", name }, timeoutMs });
}

/** The CallError a promise rejects with; fails the test if it resolves or rejects otherwise. */
export async function callError(promise: Promise<unknown>): Promise<CallError> {
  let value: unknown;
  try {
    value = await promise;
  } catch (err) {
    if (err instanceof CallError) return err;
    throw err;
  }
  throw new Error(`expected a CallError, got the answer ${JSON.stringify(value)}`);
}

/** Asks the workers to verify `record`, as the registry does; resolves when it loads. */
export async function verify(bus: Bus, record: PluginRecord, timeoutMs = 5_000): Promise<void> {
  const wire = encodeCallRequest(toBinary(busProto.PluginRecordSchema, record), { caller: "registry", deadlineMs: Date.now() + timeoutMs });
  decodeCallReply(await bus.request(workerVerifySubject(bus.namespace), wire.data, { timeoutMs: timeoutMs + 250, headers: wire.headers }));
}

/** Polls `condition` until it holds; fails after `limitMs` with `what`. */
export async function eventually(condition: () => boolean, what: string, limitMs = 5_000): Promise<void> {
  const until = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
