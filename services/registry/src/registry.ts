/**
 * The registry: discovers the plugins of a folder, publishes their records and artifacts, has a
 * worker verify each new version, runs OnInit, and follows the folder as it changes. One registry
 * of a namespace is active at a time (a lease in KV); the others wait to take over.
 *
 * Per plugin, as the active registry sees it:
 *
 *   not in the folder any more ─────────────────────────────────────────────▶ REMOVED (tombstone)
 *   broken folder entry ─────────────────────────────────────────────────────▶ FAILED (discovery text)
 *   new or changed wasm / manifest ─▶ LOADING ─ verify ─ OnInit (if listed) ─▶ READY
 *                                        │         └──────────┴─ failure ────▶ FAILED (the failure's text)
 *                                        └─ no worker answers: stays LOADING, asked again with backoff
 *   Plugins.Enabled = false ─────────────────────────────────────────────────▶ DISABLED (nothing published)
 *
 * Every change is a new record version in KV and a PluginEvent (see records.ts).
 */
import { createHash, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { CallError } from "@tonearm/abi";
import {
  BusError,
  createLease,
  decodeCallReply,
  encodeToken,
  storageNames,
  subjects,
  type Bus,
  type KeyValue,
  type Lease,
  type ObjectStore,
  type Subscription,
} from "@tonearm/bus";
import { MANIFEST_FILE, ManifestReadError, parseManifest } from "@tonearm/manifest";
import { describeFsError } from "@tonearm/manifest/internal";
import { discoverPlugins, type BrokenPlugin, type DiscoveredPlugin, type LoadedPlugin } from "@tonearm/packages";
import { bus as busProto } from "@tonearm/proto";
import type { PluginSecrets } from "@tonearm/config";
import { createLogger, type Logger } from "@tonearm/telemetry";
import { watchFolder, type FolderWatch } from "./folder-watch.js";
import { InitOutcomes, lifecycleBucket, runOnInit } from "./lifecycle.js";
import { eventKind, keepsArtifact, publishedPluginConfig, sameContent, stateName, type RecordContent } from "./records.js";
import { packageRequestHandlers } from "./package-requests.js";
import { notFoundText, serveRegistryRequests } from "./requests.js";
import { KeyedSerial } from "./serial.js";
import { verifyPlugin } from "./verify.js";

const { PluginState, PluginRecordSchema, PluginEventSchema } = busProto;
type PluginRecord = busProto.PluginRecord;

/** The key of the registry's lease in `storageNames(ns).leasesBucket`. */
export const REGISTRY_LEASE_KEY = "registry";

export const DEFAULT_LEASE_TTL_MS = 10_000;
/** Navidrome waits up to a minute for a plugin to compile. */
export const DEFAULT_VERIFY_TIMEOUT_MS = 60_000;
export const DEFAULT_INIT_TIMEOUT_MS = 30_000;
export const DEFAULT_RETRY_INITIAL_MS = 500;
const RETRY_MAX_MS = 30_000;
/** Extra wait for a forwarded refresh beyond the time one plugin may take to verify and init. */
const FORWARD_GRACE_MS = 5_000;

export interface RegistryOptions {
  readonly bus: Bus;
  /** Must be the bus's namespace. */
  readonly namespace: string;
  /** The plugins folder. */
  readonly folder: string;
  /** `[PluginConfig.<id>]`: what each plugin's OnInit and config host service receive. */
  readonly pluginConfig: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Seals the values of secret settings before records carry them; without it, all go as given. */
  readonly secrets?: PluginSecrets;
  /** Navidrome's Plugins.Enabled: when false, every plugin is recorded DISABLED. @default true */
  readonly enabled?: boolean;
  /** Follow changes of the folder. */
  readonly autoReload: boolean;
  /** Quiet time after the last change before the folder is rescanned. */
  readonly debounceMs: number;
  /** @default 10000 */
  readonly leaseTtlMs?: number;
  /** @default a logger named "registry" on stdout */
  readonly logger?: Logger;
  /** How long a worker may take to verify one plugin. @default 60000 */
  readonly verifyTimeoutMs?: number;
  /** How long OnInit may take. @default 30000 */
  readonly initTimeoutMs?: number;
  /** First wait before asking again when no worker answered; doubles up to 30 s. @default 500 */
  readonly retryInitialMs?: number;
  /** This registry's name in the lease. @default `<hostname>-<pid>-<random>` */
  readonly instanceId?: string;
}

export interface Registry {
  /** Opens the buckets and contends for the lease; when it gets it, resolves after the first scan. */
  start(): Promise<void>;
  /**
   * Rescans the folder (only `id` if given) and resolves with the records it touched, after each
   * one's verification and OnInit. A standby forwards the request to the active registry.
   * Throws `CallError` `not_found` for an id neither in the folder nor on record.
   */
  refresh(id?: string): Promise<PluginRecord[]>;
  /** Stops watching and answering, waits for work in progress, and hands the lease on. Idempotent. */
  stop(): Promise<void>;
  /** Whether this registry holds the lease and serves. */
  readonly active: boolean;
}

export function createRegistry(options: RegistryOptions): Registry {
  return new ActiveStandbyRegistry(options);
}

type Lifecycle = "new" | "running" | "stopping" | "stopped";

interface Stores {
  readonly records: KeyValue;
  readonly artifacts: ObjectStore;
  readonly initOutcomes: InitOutcomes;
}

type Artifact =
  | { readonly ok: true; readonly wasm: Uint8Array; readonly sha256: string; readonly manifestJson: string }
  | { readonly ok: false; readonly error: string };

class ActiveStandbyRegistry implements Registry {
  readonly #bus: Bus;
  readonly #namespace: string;
  readonly #folder: string;
  readonly #pluginConfig: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly #enabled: boolean;
  readonly #autoReload: boolean;
  readonly #debounceMs: number;
  readonly #leaseTtlMs: number;
  readonly #verifyTimeoutMs: number;
  readonly #initTimeoutMs: number;
  readonly #retryInitialMs: number;
  readonly #instanceId: string;
  readonly #logger: Logger;

  #lifecycle: Lifecycle = "new";
  #stopping: Promise<void> | undefined;
  #stores: Stores | undefined;
  #lease: Lease | undefined;
  /** Bumped on every activation and deactivation; work of an older generation writes nothing. */
  #generation = 0;
  #activeGeneration: number | undefined;
  #activation: Promise<void> | undefined;
  #deactivation: Promise<void> | undefined;
  /** The records as last written, loaded from KV on activation. */
  #records = new Map<string, PluginRecord>();
  /** Artifacts whose last user changed or went away during the current scan. */
  #releasedArtifacts = new Set<string>();
  #subscriptions: Subscription[] = [];
  #watch: FolderWatch | undefined;
  readonly #retries = new Map<string, { timer: NodeJS.Timeout; attempt: number }>();
  readonly #pluginWork = new KeyedSerial();
  /** Scans (and the loading of records before the first one) run one at a time. */
  readonly #scans = new KeyedSerial();
  #queuedFullScan: { generation: number; scan: Promise<PluginRecord[]> } | undefined;

  constructor(options: RegistryOptions) {
    if (options.namespace !== options.bus.namespace) {
      throw new Error(`the registry's namespace "${options.namespace}" differs from its bus's "${options.bus.namespace}"`);
    }
    if (!(options.debounceMs >= 0)) throw new RangeError(`debounceMs must be 0 or more, got ${options.debounceMs}`);
    this.#bus = options.bus;
    this.#namespace = options.namespace;
    this.#folder = options.folder;
    this.#pluginConfig = publishedPluginConfig(options.pluginConfig, options.secrets);
    this.#enabled = options.enabled ?? true;
    this.#autoReload = options.autoReload;
    this.#debounceMs = options.debounceMs;
    this.#leaseTtlMs = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
    this.#verifyTimeoutMs = options.verifyTimeoutMs ?? DEFAULT_VERIFY_TIMEOUT_MS;
    this.#initTimeoutMs = options.initTimeoutMs ?? DEFAULT_INIT_TIMEOUT_MS;
    this.#retryInitialMs = options.retryInitialMs ?? DEFAULT_RETRY_INITIAL_MS;
    this.#instanceId = options.instanceId ?? `${hostname()}-${process.pid}-${randomBytes(4).toString("hex")}`;
    this.#logger = (options.logger ?? createLogger({ name: "registry" })).child({ registry: this.#instanceId });
  }

  get active(): boolean {
    return this.#activeGeneration !== undefined && this.#lease?.held === true;
  }

  async start(): Promise<void> {
    if (this.#lifecycle !== "new") throw new Error(`a registry starts once; this one is ${this.#lifecycle}`);
    this.#lifecycle = "running";
    const names = storageNames(this.#namespace);
    const [records, artifacts, outcomes, leases] = await Promise.all([
      this.#bus.kv(names.pluginsBucket),
      this.#bus.objects(names.artifactsStore),
      this.#bus.kv(lifecycleBucket(this.#namespace)),
      this.#bus.kv(names.leasesBucket),
    ]);
    this.#stores = { records, artifacts, initOutcomes: new InitOutcomes(outcomes) };
    this.#lease = createLease({
      kv: leases,
      key: REGISTRY_LEASE_KEY,
      holder: this.#instanceId,
      ttlMs: this.#leaseTtlMs,
      logger: this.#logger,
      onAcquired: () => this.#onAcquired(),
      onLost: () => this.#onLost(),
    });
    await this.#lease.start();
    await this.#activation;
  }

  async refresh(id?: string): Promise<PluginRecord[]> {
    if (this.#lifecycle !== "running") throw new Error(`the registry is ${this.#lifecycle}, not running`);
    const generation = this.#activeGeneration;
    if (generation !== undefined && this.active) {
      return id === undefined ? this.#requestFullScan(generation) : this.#scans.run("scan", () => this.#scan(id, generation));
    }
    return this.#forwardRefresh(id);
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    if (this.#lifecycle === "new") {
      this.#lifecycle = "stopped";
      return;
    }
    this.#lifecycle = "stopping";
    await this.#deactivate();
    await Promise.all([this.#activation, this.#deactivation]);
    // Released last, so a successor never works alongside this registry's last writes.
    await this.#lease?.stop();
    this.#lifecycle = "stopped";
  }

  // ── activation ────────────────────────────────────────────────────────────────────────────────

  #onAcquired(): void {
    if (this.#lifecycle !== "running") return;
    const generation = ++this.#generation;
    this.#activeGeneration = generation;
    this.#activation = this.#activate(generation).catch((err: unknown) =>
      this.#logger.error({ err }, "activation of the registry failed"),
    );
  }

  #onLost(): void {
    this.#deactivation = this.#deactivate();
  }

  #current(generation: number): boolean {
    return generation === this.#activeGeneration && this.#lease?.held === true;
  }

  async #activate(generation: number): Promise<void> {
    this.#logger.info({ folder: this.#folder, enabled: this.#enabled }, "registry active");
    await this.#scans.run("scan", () => this.#loadRecords(generation));
    if (!this.#current(generation)) return;
    this.#subscriptions = serveRegistryRequests(
      this.#bus,
      this.#namespace,
      {
        list: () => [...this.#records.values()].filter((record) => record.state !== PluginState.REMOVED),
        get: (id) => {
          const record = this.#records.get(id);
          return record?.state === PluginState.REMOVED ? undefined : record;
        },
        refresh: (id) => this.refresh(id),
        ...packageRequestHandlers({
          bus: this.#bus,
          namespace: this.#namespace,
          folder: this.#folder,
          refresh: (id) => this.refresh(id),
          logger: this.#logger,
        }),
      },
      this.#logger,
    );
    if (this.#autoReload && this.#enabled) {
      this.#watch = watchFolder(this.#folder, {
        debounceMs: this.#debounceMs,
        logger: this.#logger,
        onChange: () => {
          this.#requestFullScan(generation).catch((err: unknown) =>
            this.#logger.error({ err }, "rescan after a folder change failed"),
          );
        },
      });
    }
    await this.#bus.flush();
    try {
      await this.#requestFullScan(generation);
    } catch (err) {
      this.#logger.error({ err }, "first scan of the plugins folder failed");
    }
  }

  async #deactivate(): Promise<void> {
    if (this.#activeGeneration === undefined) return;
    this.#activeGeneration = undefined;
    this.#generation++;
    for (const subscription of this.#subscriptions) subscription.unsubscribe();
    this.#subscriptions = [];
    this.#watch?.close();
    this.#watch = undefined;
    for (const { timer } of this.#retries.values()) clearTimeout(timer);
    this.#retries.clear();
    this.#logger.info({}, "registry on standby");
    // Work in flight finishes (bounded by the verify and OnInit timeouts) without writing records.
    await Promise.all([this.#scans.idle(), this.#pluginWork.idle()]);
  }

  /** Reads every record from KV; retried until it works or this generation ends. */
  async #loadRecords(generation: number): Promise<void> {
    const { records } = this.#stores!;
    for (let attempt = 1; this.#current(generation); attempt++) {
      try {
        const loaded = new Map<string, PluginRecord>();
        for await (const key of records.keys()) {
          const entry = await records.get(key);
          if (entry === undefined) continue;
          try {
            const record = fromBinary(PluginRecordSchema, entry.value);
            loaded.set(record.id, record);
          } catch (err) {
            this.#logger.warn({ err, key }, "skipping an unreadable plugin record");
          }
        }
        this.#records = loaded;
        return;
      } catch (err) {
        const waitMs = this.#backoff(attempt);
        this.#logger.error({ err, retryInMs: waitMs }, "cannot read the plugin records");
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
  }

  // ── scanning ──────────────────────────────────────────────────────────────────────────────────

  /** A full scan, shared by every request made before it starts. */
  #requestFullScan(generation: number): Promise<PluginRecord[]> {
    const queued = this.#queuedFullScan;
    if (queued?.generation === generation) return queued.scan;
    const scan = this.#scans.run("scan", () => {
      if (this.#queuedFullScan?.scan === scan) this.#queuedFullScan = undefined;
      return this.#scan(undefined, generation);
    });
    this.#queuedFullScan = { generation, scan };
    return scan;
  }

  async #scan(onlyId: string | undefined, generation: number): Promise<PluginRecord[]> {
    if (!this.#current(generation)) return [];
    const found = await discoverPlugins(this.#folder);
    const unreadable = found.find((plugin): plugin is BrokenPlugin => plugin.id === "" && !plugin.ok);
    if (unreadable !== undefined) {
      // Records are kept: a folder that cannot be listed for a moment must not unload every plugin.
      throw new CallError("unavailable", unreadable.error.message);
    }
    const byId = new Map(found.map((plugin) => [plugin.id, plugin]));
    let ids: string[];
    if (onlyId === undefined) {
      const recorded = [...this.#records.values()].filter((r) => r.state !== PluginState.REMOVED).map((r) => r.id);
      ids = [...new Set([...byId.keys(), ...recorded])];
    } else {
      const record = this.#records.get(onlyId);
      if (!byId.has(onlyId) && (record === undefined || record.state === PluginState.REMOVED)) {
        throw new CallError("not_found", notFoundText(onlyId));
      }
      ids = [onlyId];
    }
    const touched = await Promise.all(
      ids.map((id) => this.#pluginWork.run(id, () => this.#reconcileLogged(id, byId.get(id), generation))),
    );
    await this.#collectArtifacts(generation);
    if (onlyId === undefined) this.#watch?.trackPluginDirs(found.filter((plugin) => plugin.ok).map((plugin) => plugin.path));
    return touched.filter((record): record is PluginRecord => record !== undefined);
  }

  async #reconcileLogged(id: string, found: DiscoveredPlugin | undefined, generation: number): Promise<PluginRecord | undefined> {
    try {
      return await this.#reconcile(id, found, generation);
    } catch (err) {
      this.#logger.error({ err, plugin: id }, "could not update the plugin's record");
      return this.#records.get(id);
    }
  }

  /** Brings one plugin's record in line with what the folder holds now. */
  async #reconcile(id: string, found: DiscoveredPlugin | undefined, generation: number): Promise<PluginRecord | undefined> {
    const previous = this.#records.get(id);
    if (found === undefined) {
      if (previous === undefined || previous.state === PluginState.REMOVED) return previous;
      const removed = await this.#write(id, { ...contentOf(previous), state: PluginState.REMOVED, error: "" }, generation);
      if (removed !== undefined) await this.#stores!.initOutcomes.forget(id);
      return removed;
    }
    const config = this.#pluginConfig[id] ?? {};
    if (!this.#enabled) {
      const manifestJson = found.ok ? await readManifestText(found).catch(() => "") : "";
      return this.#write(id, { manifestJson, sha256: "", state: PluginState.DISABLED, error: "", config }, generation);
    }
    if (!found.ok) {
      return this.#write(id, failed(found.error.message, config), generation);
    }
    const artifact = await readArtifact(found);
    if (!artifact.ok) return this.#write(id, failed(artifact.error, config), generation);
    await this.#publishArtifact(artifact.sha256, artifact.wasm);

    const unchanged =
      previous !== undefined &&
      previous.sha256 === artifact.sha256 &&
      previous.manifestJson === artifact.manifestJson &&
      keepsArtifact(previous);
    if (!unchanged) {
      const content = { manifestJson: artifact.manifestJson, sha256: artifact.sha256, state: PluginState.LOADING, error: "", config };
      const loading = await this.#write(id, content, generation);
      return loading === undefined ? undefined : this.#advance(id, generation);
    }
    // Same artifact and manifest: at most the configuration changed. A LOADING record (left by a
    // registry that stopped or lost the lease meanwhile) goes on where it was.
    const updated = await this.#write(id, { ...contentOf(previous), config }, generation);
    return updated?.state === PluginState.LOADING ? this.#advance(id, generation) : updated;
  }

  /** Verification, then OnInit, of a LOADING record. */
  async #advance(id: string, generation: number): Promise<PluginRecord | undefined> {
    const record = this.#records.get(id);
    if (record?.state !== PluginState.LOADING || !this.#current(generation)) return record;
    const verdict = await verifyPlugin(this.#bus, this.#namespace, record, this.#verifyTimeoutMs);
    if (verdict.kind === "retry") {
      this.#scheduleRetry(record, generation, verdict.message);
      return record;
    }
    if (verdict.kind === "failed") {
      this.#logger.warn({ plugin: id, error: verdict.message }, "plugin failed verification");
      return this.#write(id, { ...contentOf(record), state: PluginState.FAILED, error: verdict.message }, generation);
    }
    let capabilities: readonly string[];
    try {
      capabilities = parseManifest(record.manifestJson).capabilities;
    } catch (err) {
      const error = `failed to load manifest: ${err instanceof Error ? err.message : String(err)}`;
      return this.#write(id, { ...contentOf(record), state: PluginState.FAILED, error }, generation);
    }
    if (capabilities.includes("LifecycleManagement")) {
      const outcomes = this.#stores!.initOutcomes;
      let outcome = await outcomes.get(id, record.sha256);
      if (outcome === undefined) {
        if (!this.#current(generation)) return record;
        const result = await runOnInit(this.#bus, this.#namespace, id, record.config, this.#initTimeoutMs);
        if (result.ok === "retry") {
          this.#scheduleRetry(record, generation, result.message);
          return record;
        }
        // Kept even if the lease was lost meanwhile: OnInit ran, and must not run again for this version.
        await outcomes.put(id, record.sha256, result);
        outcome = result;
      }
      if (!outcome.ok) {
        this.#logger.warn({ plugin: id, error: outcome.error }, "plugin OnInit failed");
        return this.#write(id, { ...contentOf(record), state: PluginState.FAILED, error: outcome.error }, generation);
      }
    }
    return this.#write(id, { ...contentOf(record), state: PluginState.READY, error: "" }, generation);
  }

  #scheduleRetry(record: PluginRecord, generation: number, reason: string): void {
    const { id, sha256 } = record;
    const previous = this.#retries.get(id);
    clearTimeout(previous?.timer);
    const attempt = (previous?.attempt ?? 0) + 1;
    const waitMs = this.#backoff(attempt);
    const fields = { plugin: id, reason, retryInMs: waitMs };
    if (attempt === 1) this.#logger.warn(fields, "plugin waits for a worker");
    else this.#logger.debug(fields, "plugin still waits for a worker");
    const timer = setTimeout(() => {
      this.#pluginWork
        .run(id, async () => {
          const current = this.#records.get(id);
          if (!this.#current(generation) || current?.state !== PluginState.LOADING || current.sha256 !== sha256) return;
          await this.#advance(id, generation);
        })
        .catch((err: unknown) => this.#logger.error({ err, plugin: id }, "retrying the plugin's load failed"));
    }, waitMs);
    this.#retries.set(id, { timer, attempt });
  }

  #backoff(attempt: number): number {
    return Math.min(this.#retryInitialMs * 2 ** (attempt - 1), RETRY_MAX_MS);
  }

  // ── records and artifacts ─────────────────────────────────────────────────────────────────────

  /**
   * Writes the record if its content changed, announces it, and returns it; returns the record
   * unchanged when nothing changed, and undefined when this registry is no longer active.
   */
  async #write(id: string, content: RecordContent, generation: number): Promise<PluginRecord | undefined> {
    const previous = this.#records.get(id);
    if (previous !== undefined && sameContent(previous, content)) return previous;
    if (!this.#current(generation)) return undefined;
    const record = create(PluginRecordSchema, {
      id,
      manifestJson: content.manifestJson,
      sha256: content.sha256,
      state: content.state,
      error: content.error,
      config: { ...content.config },
      version: (previous?.version ?? 0n) + 1n,
      updatedAtMs: BigInt(Date.now()),
    });
    await this.#stores!.records.put(encodeToken(id), toBinary(PluginRecordSchema, record));
    this.#records.set(id, record);
    if (previous !== undefined && keepsArtifact(previous) && !(keepsArtifact(record) && record.sha256 === previous.sha256)) {
      this.#releasedArtifacts.add(previous.sha256);
    }
    if (record.state !== PluginState.LOADING) this.#cancelRetry(id);
    const event = create(PluginEventSchema, { kind: eventKind(previous, record), record });
    this.#bus.publish(subjects(this.#namespace).pluginEvents(id), toBinary(PluginEventSchema, event));
    this.#logger.info(
      { plugin: id, state: stateName(record.state), sha256: record.sha256, version: record.version.toString(), error: record.error || undefined },
      "plugin record changed",
    );
    return record;
  }

  #cancelRetry(id: string): void {
    clearTimeout(this.#retries.get(id)?.timer);
    this.#retries.delete(id);
  }

  async #publishArtifact(sha256: string, wasm: Uint8Array): Promise<void> {
    const { artifacts } = this.#stores!;
    const stored = await artifacts.info(sha256);
    if (stored?.sha256 === sha256) return;
    await artifacts.put(sha256, wasm);
  }

  /** Deletes the artifacts released during a scan that no record needs any more. */
  async #collectArtifacts(generation: number): Promise<void> {
    const released = [...this.#releasedArtifacts];
    this.#releasedArtifacts.clear();
    const needed = new Set([...this.#records.values()].filter(keepsArtifact).map((record) => record.sha256));
    for (const sha256 of released) {
      if (needed.has(sha256) || !this.#current(generation)) continue;
      try {
        await this.#stores!.artifacts.delete(sha256);
      } catch (err) {
        this.#logger.warn({ err, sha256 }, "could not delete an unused plugin artifact");
      }
    }
  }

  async #forwardRefresh(id: string | undefined): Promise<PluginRecord[]> {
    const { RefreshRequestSchema, RefreshResponseSchema } = busProto;
    const request = toBinary(RefreshRequestSchema, create(RefreshRequestSchema, { id: id ?? "" }));
    const timeoutMs = this.#verifyTimeoutMs + this.#initTimeoutMs + FORWARD_GRACE_MS;
    let reply;
    try {
      reply = await this.#bus.request(subjects(this.#namespace).registryRefresh, request, { timeoutMs });
    } catch (err) {
      if (BusError.is(err, "no_responders") || BusError.is(err, "timeout")) {
        throw new CallError("unavailable", `no active registry answered the refresh: ${err.message}`, { cause: err });
      }
      throw err;
    }
    return fromBinary(RefreshResponseSchema, decodeCallReply(reply)).plugins;
  }
}

function contentOf(record: PluginRecord): RecordContent {
  const { manifestJson, sha256, state, error, config } = record;
  return { manifestJson, sha256, state, error, config };
}

function failed(error: string, config: Readonly<Record<string, string>>): RecordContent {
  return { manifestJson: "", sha256: "", state: PluginState.FAILED, error, config };
}

function readManifestText(plugin: LoadedPlugin): Promise<string> {
  return readFile(join(plugin.path, MANIFEST_FILE), "utf8");
}

/**
 * Reads what discovery found, as the record will hold it. The files may have changed since
 * discovery looked; such failures get discovery's texts.
 */
async function readArtifact(plugin: LoadedPlugin): Promise<Artifact> {
  let wasm: Uint8Array;
  try {
    const file = await readFile(plugin.wasmPath);
    // A plain Uint8Array view: stores copy what they get, and readers expect no Buffer.
    wasm = new Uint8Array(file.buffer, file.byteOffset, file.byteLength);
  } catch (err) {
    return { ok: false, error: `no plugin.wasm found: ${describeFsError(err, plugin.wasmPath)}` };
  }
  let manifestJson: string;
  try {
    manifestJson = await readManifestText(plugin);
  } catch (err) {
    const file = join(plugin.path, MANIFEST_FILE);
    return { ok: false, error: `failed to load manifest: ${new ManifestReadError(file, describeFsError(err, file)).message}` };
  }
  try {
    parseManifest(manifestJson);
  } catch (err) {
    return { ok: false, error: `failed to load manifest: ${err instanceof Error ? err.message : String(err)}` };
  }
  return { ok: true, wasm, sha256: createHash("sha256").update(wasm).digest("hex"), manifestJson };
}
