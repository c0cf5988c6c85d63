// What the registry's tests share: a worker stand-in that answers verification and OnInit the way
// the worker service does, readers of what the registry published, and latches that fail a test
// instead of hanging it.
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { CallError } from "@tonearm/abi";
import {
  BusError,
  CallHeader,
  createMemoryBus,
  encodeCallError,
  encodeToken,
  storageNames,
  subjects,
  type Bus,
  type BusMessage,
  type KeyValue,
  type Subscription,
} from "@tonearm/bus";
import { api, bus as busProto } from "@tonearm/proto";
import { createLogger } from "@tonearm/telemetry";
import { fixturePaths } from "@tonearm/test-harness";
import { createRegistry, type Registry, type RegistryOptions } from "../src/registry.js";
import { verifySubject } from "../src/verify.js";

export const { PluginState, PluginEvent_Kind: EventKind } = busProto;
export type PluginRecord = busProto.PluginRecord;
export type PluginEvent = busProto.PluginEvent;

export const quiet = createLogger({ level: "silent" });
const quietBus = { info: () => {}, warn: () => {}, error: () => {} };

export function memoryBus(namespace = "t"): Bus {
  return createMemoryBus({ namespace, logger: quietBus });
}

/** A registry with short timeouts for tests; `options` override them. */
export function testRegistry(bus: Bus, folder: string, options: Partial<RegistryOptions> = {}): Registry {
  return createRegistry({
    bus,
    namespace: bus.namespace,
    folder,
    pluginConfig: {},
    autoReload: false,
    debounceMs: 50,
    leaseTtlMs: 600,
    verifyTimeoutMs: 1_000,
    initTimeoutMs: 1_000,
    retryInitialMs: 50,
    logger: quiet,
    ...options,
  });
}

// ── the fixture folder and copies of it ──────────────────────────────────────────────────────────

export const FIXTURES = fixturePaths.folder("plugins");
export const FIXTURE_IDS = [
  "fake_album_agent",
  "fake_artist_agent",
  "fake_init_service",
  "fake_scrobbler",
  "host_probe",
  "multi_plugin",
  "recording_scrobbler",
  "unauthorized_plugin",
];
/** Fixtures whose manifest lists LifecycleManagement. */
export const WITH_ON_INIT = ["fake_init_service", "multi_plugin"];

const folders: string[] = [];

/** A fresh plugins folder holding copies of the named fixtures; removed by `removeTempFolders`. */
export async function tempFolder(...fixtures: string[]): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), "tonearm-registry-"));
  folders.push(folder);
  for (const name of fixtures) await copyFixture(name, folder);
  return folder;
}

export async function copyFixture(name: string, folder: string, as = name): Promise<void> {
  await cp(fixturePaths.plugin("plugins", name), join(folder, as), { recursive: true });
}

export async function removeTempFolders(): Promise<void> {
  await Promise.all(folders.splice(0).map((folder) => rm(folder, { recursive: true, force: true })));
}

// ── a worker stand-in ───────────────────────────────────────────────────────────────────────────

export interface InitCall {
  readonly plugin: string;
  readonly config: Record<string, string>;
  readonly caller: string | undefined;
}

export interface FakeWorkerBehaviour {
  /** The failure verifying this record answers with; none: the plugin loads. */
  verify?: (record: PluginRecord) => CallError | undefined;
  /** What OnInit answers: an `InitResponse.error` text, or a call error. Default: success. */
  onInit?: (call: InitCall) => { error: string } | CallError | undefined;
}

/**
 * Answers `worker.verify` (checking the artifact is in the object store under its sha256, as a
 * worker loading it would) and `call.<plugin>.LifecycleManagement.OnInit`, and records both.
 */
export class FakeWorker {
  readonly verified: PluginRecord[] = [];
  readonly inits: InitCall[] = [];
  readonly #subscriptions: Subscription[];

  private constructor(bus: Bus, behaviour: FakeWorkerBehaviour) {
    const names = subjects(bus.namespace);
    const artifacts = bus.objects(storageNames(bus.namespace).artifactsStore);
    const reply = (message: BusMessage, answer: Uint8Array | CallError): void => {
      if (answer instanceof CallError) {
        const wire = encodeCallError(answer);
        bus.respond(message, wire.data, { headers: wire.headers });
      } else {
        bus.respond(message, answer);
      }
    };
    this.#subscriptions = [
      bus.subscribe(verifySubject(bus.namespace), { queue: "workers" }, async (message) => {
        const record = fromBinary(busProto.PluginRecordSchema, message.data);
        this.verified.push(record);
        const info = await (await artifacts).info(record.sha256);
        if (info?.sha256 !== record.sha256) {
          reply(message, new CallError("load_error", `artifact ${record.sha256} of ${record.id} is not in the object store`));
          return;
        }
        reply(message, behaviour.verify?.(record) ?? new Uint8Array(0));
      }),
      bus.subscribe(`${names.prefix}.call.*.LifecycleManagement.OnInit`, { queue: "workers" }, (message) => {
        const target = names.parseCall(message.subject);
        const request = fromBinary(api.InitRequestSchema, message.data);
        const call: InitCall = { plugin: target?.plugin ?? "?", config: { ...request.config }, caller: message.headers[CallHeader.Caller] };
        this.inits.push(call);
        const answer = behaviour.onInit?.(call);
        if (answer instanceof CallError) reply(message, answer);
        else reply(message, toBinary(api.InitResponseSchema, create(api.InitResponseSchema, { error: answer?.error ?? "" })));
      }),
    ];
  }

  static async start(bus: Bus, behaviour: FakeWorkerBehaviour = {}): Promise<FakeWorker> {
    const worker = new FakeWorker(bus, behaviour);
    await bus.flush();
    return worker;
  }

  initsOf(plugin: string): InitCall[] {
    return this.inits.filter((call) => call.plugin === plugin);
  }

  stop(): void {
    for (const subscription of this.#subscriptions) subscription.unsubscribe();
  }
}

// ── reading what the registry published ─────────────────────────────────────────────────────────

export async function recordsBucket(bus: Bus): Promise<KeyValue> {
  return bus.kv(storageNames(bus.namespace).pluginsBucket);
}

export async function readRecord(bus: Bus, id: string): Promise<PluginRecord | undefined> {
  const entry = await (await recordsBucket(bus)).get(encodeToken(id));
  return entry === undefined ? undefined : fromBinary(busProto.PluginRecordSchema, entry.value);
}

/** The stored bytes as a plain Uint8Array (the NATS adapter hands out Buffers). */
export async function readArtifact(bus: Bus, sha256: string): Promise<Uint8Array | undefined> {
  const data = await (await bus.objects(storageNames(bus.namespace).artifactsStore)).get(sha256);
  return data === undefined ? undefined : new Uint8Array(data);
}

/** Every plugin event of the namespace, in arrival order. */
export class EventLog {
  readonly events: PluginEvent[] = [];
  readonly #subscription: Subscription;
  #waiters: (() => void)[] = [];

  private constructor(bus: Bus) {
    this.#subscription = bus.subscribe(subjects(bus.namespace).allPluginEvents, {}, (message) => {
      this.events.push(fromBinary(busProto.PluginEventSchema, message.data));
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  static async start(bus: Bus): Promise<EventLog> {
    const log = new EventLog(bus);
    await bus.flush();
    return log;
  }

  of(plugin: string): PluginEvent[] {
    return this.events.filter((event) => event.record?.id === plugin);
  }

  /** Waits for an event matching `match`, seen before or after the call. */
  async waitFor(match: (event: PluginEvent) => boolean, what: string, limitMs = 5_000): Promise<PluginEvent> {
    const deadline = Date.now() + limitMs;
    for (;;) {
      const found = this.events.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no event ${what} within ${limitMs} ms; got ${this.describe()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  describe(): string {
    return this.events.map((e) => `${e.record?.id}:${EventKind[e.kind]}/${PluginState[e.record?.state ?? 0]}`).join(", ") || "none";
  }

  stop(): void {
    this.#subscription.unsubscribe();
  }
}

/** Polls `check` until it holds; for state with no event to wait on (the lease). */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, limitMs = 5_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not so within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A view of `bus` whose KV operations fail as if the server were unreachable while `cut` is set. */
export function partitionable(bus: Bus): { bus: Bus; cut: (on: boolean) => void } {
  let cut = false;
  const failing = (kv: KeyValue): KeyValue =>
    new Proxy(kv, {
      get(target, property) {
        const value: unknown = Reflect.get(target, property, target);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          if (cut) return Promise.reject(new BusError("disconnected", "partitioned from the server (test)"));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  const view = new Proxy(bus, {
    get(target, property) {
      if (property === "kv") return async (...args: Parameters<Bus["kv"]>) => failing(await target.kv(...args));
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { bus: view, cut: (on) => (cut = on) };
}
