/**
 * A worker: executes plugin calls, orchestrates metadata agents and verifies new plugin versions
 * for the registry (handlers.ts), in one queue group so any number of workers share the load.
 * Plugins load lazily from the object store and stay warm (plugin-versions.ts); which version may
 * serve a call follows the published records (call-gate.ts). Host services run in this process.
 * Every few seconds it publishes its call statistics for the status page (stats-publisher.ts).
 *
 *   created ─start()─▶ starting ─▶ running ─drain()─▶ draining ─▶ stopped
 *                          └─ failure ───────────────────────────▶ stopped
 */
import {
  storageNames,
  subjects,
  watchPluginCatalog,
  workerVerifySubject,
  type Bus,
  type PluginCatalog,
  type Subscription,
} from "@tonearm/bus";
import { createPluginHost, type HostDrivers, type HostSettings, type PluginDirectory } from "@tonearm/host";
import { Runtime, type RuntimeOptions } from "@tonearm/runtime";
import { randomUUID } from "node:crypto";
import { createPluginSecrets, defaultConfig, type PluginSecrets, type ScrobbleSettings } from "@tonearm/config";
import { createLogger, createMetrics, pluginLogger, type Logger, type Metrics } from "@tonearm/telemetry";
import { CallGate } from "./call-gate.js";
import { agentsHandler, callHandler, verifyHandler, type HandlerContext, type RequestKind } from "./handlers.js";
import { PluginCalls } from "./plugin-calls.js";
import { PluginVersions, sameVersion } from "./plugin-versions.js";
import { ScrobbleFanout } from "./scrobbles/fanout.js";
import { localScrobblerCall } from "./scrobbles/local-call.js";
import { startStatsPublisher, type StatsPublisher } from "./stats-publisher.js";

/** The queue group workers share unless told otherwise. */
export const DEFAULT_WORKER_QUEUE = "workers";

/** Ack wait of scrobble consumers beyond the call deadline. */
const SCROBBLE_ACK_MARGIN_MS = 5_000;


export interface WorkerOptions {
  readonly bus: Bus;
  /** Must be the bus's namespace. */
  readonly namespace: string;
  /** Limits and sizes of the runtime; the host services are wired by the worker. */
  readonly runtimeOptions?: Omit<RuntimeOptions, "host">;
  readonly hostSettings: HostSettings;
  /** Cache, schedules and WebSocket gateway of the mode (in-memory, or Redis and the gateway service). */
  readonly hostDrivers: HostDrivers;
  /** Navidrome's `Agents`: the plugin ids `agents.<Method>` asks, in order. */
  readonly agents: readonly string[];
  /**
   * Opens the sealed settings of plugin records; the same cluster key as the registry's.
   * @default a key of this process alone (embedded mode)
   */
  readonly secrets?: PluginSecrets;
  /** @default a logger named "worker" on stdout */
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  /** @default "workers" */
  readonly queue?: string;
  /** Delivery of scrobbles to Scrobbler plugins. @default the configuration's defaults */
  readonly scrobbles?: ScrobbleSettings;
  /** Names this worker in leases and logs. @default a random id */
  readonly workerId?: string;
  /** How often call statistics are published for the status page (stats-publisher.ts). @default 2000 */
  readonly statsIntervalMs?: number;
}

export type WorkerState = "created" | "starting" | "running" | "draining" | "stopped";

export interface WorkerStats {
  readonly state: WorkerState;
  /** Requests this worker answered, successes and errors alike. */
  readonly served: Readonly<Record<RequestKind, number>>;
  /** The plugin versions loaded here, with the calls running on and waiting for each. */
  readonly plugins: Readonly<Record<string, { readonly sha256: string; readonly active: number; readonly waiting: number }>>;
  /** The runtime's worker threads. */
  readonly threads: { readonly total: number; readonly busy: number; readonly queued: number; readonly replaced: number };
}

export interface Worker extends AsyncDisposable {
  readonly state: WorkerState;
  /** Reads the plugin records, starts the runtime and subscribes; resolves once serving. */
  start(): Promise<void>;
  /** Stops taking requests, lets those in flight finish, then closes the runtime. Idempotent. */
  drain(): Promise<void>;
  stats(): WorkerStats;
}

export function createWorker(options: WorkerOptions): Worker {
  return new BusWorker(options);
}

interface Serving {
  readonly catalog: PluginCatalog;
  readonly runtime: Runtime;
  readonly versions: PluginVersions;
  readonly subscriptions: Subscription[];
  /** Unregisters the runtime gauges' source. */
  readonly removeGauges: () => void;
  readonly unwatch: () => void;
  readonly scrobbles: ScrobbleFanout;
  readonly stats: StatsPublisher;
}

class BusWorker implements Worker {
  readonly #options: WorkerOptions;
  readonly #logger: Logger;
  readonly #served: Record<RequestKind, number> = { call: 0, agents: 0, verify: 0 };
  readonly #pluginLoggers = new Map<string, Logger>();
  #state: WorkerState = "created";
  #starting: Promise<void> | undefined;
  #draining: Promise<void> | undefined;
  #serving: Serving | undefined;
  /** Parts already started, so a failed start can undo them. */
  #catalog: PluginCatalog | undefined;
  #runtime: Runtime | undefined;

  constructor(options: WorkerOptions) {
    this.#options = options;
    this.#logger = options.logger ?? createLogger({ name: "worker" });
  }

  get state(): WorkerState {
    return this.#state;
  }

  start(): Promise<void> {
    if (this.#state !== "created") return Promise.reject(new Error(`a worker starts once; this one is ${this.#state}`));
    this.#state = "starting";
    this.#starting = this.#start().then(
      () => {
        this.#state = "running";
      },
      async (err: unknown) => {
        await this.#stop();
        throw err;
      },
    );
    return this.#starting;
  }

  drain(): Promise<void> {
    this.#draining ??= (async () => {
      if (this.#starting !== undefined) await this.#starting.catch(() => undefined);
      await this.#stop();
    })();
    return this.#draining;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.drain();
  }

  stats(): WorkerStats {
    const serving = this.#serving;
    const runtimeStats = serving?.runtime.stats();
    const plugins: Record<string, { sha256: string; active: number; waiting: number }> = {};
    for (const { record } of serving?.versions.all() ?? []) {
      const load = runtimeStats?.plugins[record.id];
      plugins[record.id] = { sha256: record.sha256, active: load?.active ?? 0, waiting: load?.waiting ?? 0 };
    }
    return {
      state: this.#state,
      served: { ...this.#served },
      plugins,
      threads: {
        total: runtimeStats?.threads ?? 0,
        busy: runtimeStats?.busy ?? 0,
        queued: runtimeStats?.queued ?? 0,
        replaced: runtimeStats?.replaced ?? 0,
      },
    };
  }

  async #start(): Promise<void> {
    const { bus, namespace } = this.#options;
    // Calls are always counted: the statistics the status page shows come from these metrics.
    const metrics = this.#options.metrics ?? createMetrics();
    const names = subjects(namespace);
    const catalog = watchPluginCatalog(bus, namespace, { logger: this.#logger });
    this.#catalog = catalog;
    await catalog.ready;
    // Follow changes from now on, so none is missed while the rest starts.
    const gate = new CallGate(catalog);
    let versions: PluginVersions | undefined;
    let scrobbles: ScrobbleFanout | undefined;
    const unwatch = catalog.onChange((record) => {
      gate.follow(record);
      versions?.follow(record);
      scrobbles?.follow(record);
    });
    try {
      const artifacts = await bus.objects(storageNames(namespace).artifactsStore);
      const secrets = this.#options.secrets ?? createPluginSecrets();
      const directory: PluginDirectory = {
        lookup: (pluginId) => {
          const loaded = versions?.loaded(pluginId);
          return loaded && { manifest: loaded.manifest, config: loaded.config };
        },
      };
      const runtime = Runtime.create({
        ...this.#options.runtimeOptions,
        host: createPluginHost(directory, this.#options.hostSettings, this.#options.hostDrivers, (plugin, name, outcome) =>
          metrics.hostCalls.inc({ plugin, function: name, outcome }),
        ),
        onPluginLog: (pluginId, line) => this.#pluginLog(pluginId, line),
      });
      this.#runtime = runtime;
      const loadedVersions = new PluginVersions({
        runtime,
        artifacts,
        secrets,
        wanted: (record) => {
          const wantedNow = gate.preferred(record.id);
          return wantedNow !== undefined && sameVersion(wantedNow, record);
        },
        onBackgroundFailure: (record, error) =>
          this.#logger.warn(
            { plugin: record.id, sha256: record.sha256, code: error.code, err: error.message },
            "a new version of the plugin did not load; the version loaded before goes on serving",
          ),
      });
      versions = loadedVersions;
      const context: HandlerContext = {
        bus,
        names,
        calls: new PluginCalls(gate, loadedVersions, runtime, metrics, secrets),
        versions: loadedVersions,
        agents: [...this.#options.agents],
        logger: this.#logger,
        metrics,
        served: this.#served,
      };
      const callTimeoutMs = runtime.options.callTimeoutMs;
      const fanout = new ScrobbleFanout({
        bus,
        holder: this.#options.workerId ?? `worker-${randomUUID()}`,
        call: (plugin) => localScrobblerCall(context.calls, plugin, callTimeoutMs),
        canCall: (plugin) => gate.preferred(plugin) !== undefined,
        settings: this.#options.scrobbles ?? defaultConfig().scrobbles,
        // An event is redelivered only when its worker is gone, never while its call may still run.
        ackWaitMs: callTimeoutMs + SCROBBLE_ACK_MARGIN_MS,
        logger: this.#logger,
        metrics,
      });
      await fanout.start();
      scrobbles = fanout;
      for (const record of catalog.all()) fanout.follow(record);
      const queue = this.#options.queue ?? DEFAULT_WORKER_QUEUE;
      const subscriptions = [
        bus.subscribe(names.allCalls, { queue }, callHandler(context)),
        bus.subscribe(names.allAgents, { queue }, agentsHandler(context)),
        bus.subscribe(workerVerifySubject(namespace), { queue }, verifyHandler(context)),
      ];
      const removeGauges = metrics.addGaugeSource(() => this.#refreshGauges());
      const stats = await startStatsPublisher({ bus, namespace, metrics, logger: this.#logger, intervalMs: this.#options.statsIntervalMs });
      this.#serving = { catalog, runtime, versions: loadedVersions, subscriptions, removeGauges, unwatch, stats, scrobbles: fanout };
      // Resolve only once the subscriptions reached the server: a call sent next is taken.
      await bus.flush();
      this.#logger.info({ namespace, queue, agents: context.agents }, "worker serving");
    } catch (err) {
      unwatch();
      throw err;
    }
  }

  /** Stops everything that was started, each step even if an earlier one failed. */
  async #stop(): Promise<void> {
    if (this.#state === "stopped") return;
    const serving = this.#serving;
    this.#state = "draining";
    if (serving !== undefined) {
      const drained = await Promise.allSettled([
        ...serving.subscriptions.map((subscription) => subscription.drain()),
        serving.scrobbles.stop(),
      ]);
      for (const result of drained) {
        if (result.status === "rejected") this.#logger.warn({ err: describe(result.reason) }, "a subscription did not drain");
      }
      serving.removeGauges();
      serving.unwatch();
      await serving.stats.stop();
    }
    this.#catalog?.close();
    try {
      await this.#runtime?.close();
    } catch (err) {
      this.#logger.warn({ err: describe(err) }, "closing the runtime failed");
    }
    this.#state = "stopped";
    if (serving !== undefined) this.#logger.info({ served: this.#served }, "worker stopped");
  }

  #refreshGauges(): void {
    const metrics = this.#options.metrics;
    const serving = this.#serving;
    if (metrics === undefined || serving === undefined) return;
    const stats = serving.runtime.stats();
    metrics.runtimeThreads.set(stats.threads);
    metrics.runtimeThreadsBusy.set(stats.busy);
    metrics.runtimeCallsQueued.set(stats.queued);
    metrics.pluginsLoaded.set(serving.versions.all().length);
    metrics.pluginCallsInFlight.reset();
    for (const [plugin, load] of Object.entries(stats.plugins)) metrics.pluginCallsInFlight.set({ plugin }, load.active + load.waiting);
  }

  #pluginLog(pluginId: string, line: string): void {
    this.#options.runtimeOptions?.onPluginLog?.(pluginId, line);
    let logger = this.#pluginLoggers.get(pluginId);
    if (logger === undefined) {
      logger = pluginLogger(this.#logger, pluginId);
      this.#pluginLoggers.set(pluginId, logger);
    }
    logger.info({ stream: "stderr" }, line);
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
