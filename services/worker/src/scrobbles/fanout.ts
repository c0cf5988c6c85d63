/**
 * Scrobble fan-out: every Scrobbler plugin gets every event through its own durable consumers, so a
 * slow or failing plugin delays nobody else and a new plugin does not take events from another.
 *
 * Any worker may deliver a plugin's events, one at a time: a KV lease per plugin picks the worker
 * that pulls its consumers (per-user order needs a single puller), and another worker takes over
 * when it dies. Unacknowledged events then come back from the server, none lost.
 *
 * A plugin that is removed, disabled or failed stops being pulled: its consumers stay parked on the
 * server, keeping their place, until the retention period deletes them; a plugin that comes back
 * resumes where it stopped.
 *
 * A new plugin's events count from its first record (LOADING, while a worker verifies it), but
 * they are pulled only once it can take calls (`canCall`): pulled earlier, each user's first event
 * would fail with "is loading" and hold the user's later events for a retry delay.
 */
import {
  PluginState,
  createLease,
  encodeToken,
  ensureScrobbleStreams,
  isScrobbler,
  storageNames,
  subjects,
  type Bus,
  type ConsumerMessages,
  type KeyValue,
  type Lease,
  type PluginRecord,
  type StreamMessage,
} from "@tonearm/bus";
import type { ScrobbleSettings } from "@tonearm/config";
import type { Logger, Metrics } from "@tonearm/telemetry";
import type { ScrobblerCall } from "./deliver.js";
import { NowPlayingDeliveries } from "./now-playing.js";
import { SubmitDeliveries } from "./submit-deliveries.js";

export interface ScrobbleFanoutOptions {
  readonly bus: Bus;
  /** Unique per worker process: the lease holder name. */
  readonly holder: string;
  /** Runs a Scrobbler method of a plugin in this worker. */
  readonly call: (plugin: string) => ScrobblerCall;
  /** Whether calls to the plugin are served now (a READY version, or the last one during an update). */
  readonly canCall: (plugin: string) => boolean;
  readonly settings: ScrobbleSettings;
  /** Ack wait of the consumers: longer than a plugin call may take. */
  readonly ackWaitMs: number;
  /** @default 10000 */
  readonly leaseTtlMs?: number;
  readonly logger: Logger;
  readonly metrics: Metrics | undefined;
}

const DEFAULT_LEASE_TTL_MS = 10_000;

export class ScrobbleFanout {
  readonly #options: ScrobbleFanoutOptions;
  readonly #plugins = new Map<string, PluginScrobbles>();
  #leases: KeyValue | undefined;
  #stopped = false;

  constructor(options: ScrobbleFanoutOptions) {
    this.#options = options;
  }

  /** Creates the streams; then `follow` every record. */
  async start(): Promise<void> {
    await ensureScrobbleStreams(this.#options.bus, { retentionMs: this.#options.settings.retentionMs });
    this.#leases = await this.#options.bus.kv(storageNames(this.#options.bus.namespace).leasesBucket);
  }

  /** Starts delivering to a Scrobbler plugin that can take calls, parks one that cannot. */
  follow(record: PluginRecord): void {
    if (this.#stopped || this.#leases === undefined) return;
    const deliverable = isScrobbler(record) && (record.state === PluginState.READY || record.state === PluginState.LOADING);
    const running = this.#plugins.get(record.id);
    if (deliverable) {
      const plugin = running ?? new PluginScrobbles(this.#options, this.#leases, record);
      this.#plugins.set(record.id, plugin);
      if (!plugin.started && this.#options.canCall(record.id)) {
        plugin.start().catch((err: unknown) => this.#options.logger.error({ plugin: record.id, err: describe(err) }, "scrobble delivery did not start"));
      }
    } else if (running !== undefined) {
      this.#plugins.delete(record.id);
      void running.stop().then(() => this.#options.logger.info({ plugin: record.id, state: record.state }, "scrobble consumers parked"));
    }
  }

  /** Plugins whose consumers this worker pulls now. */
  pulling(): string[] {
    return [...this.#plugins.values()].filter((p) => p.pulling).map((p) => p.plugin);
  }

  /** Stops pulling, lets deliveries in flight finish, and releases the leases. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all([...this.#plugins.values()].map((plugin) => plugin.stop()));
    this.#plugins.clear();
  }
}

/** One plugin's consumers, pulled while this worker holds the plugin's lease. */
class PluginScrobbles {
  readonly plugin: string;
  readonly #options: ScrobbleFanoutOptions;
  readonly #lease: Lease;
  /** The plugin's first record seen: a new consumer starts at events published from then on. */
  readonly #firstSeenMs: number;
  #pulls: { messages: ConsumerMessages[]; loops: Promise<void>; submits: SubmitDeliveries; nowPlaying: NowPlayingDeliveries } | undefined;
  #starting: Promise<void> | undefined;
  /** The lease was started: this worker contends for the plugin's consumers. */
  started = false;

  constructor(options: ScrobbleFanoutOptions, leases: KeyValue, record: PluginRecord) {
    this.plugin = record.id;
    this.#options = options;
    this.#firstSeenMs = record.updatedAtMs > 0n ? Number(record.updatedAtMs) : Date.now();
    this.#lease = createLease({
      kv: leases,
      key: `scrobbles.${encodeToken(record.id)}`,
      holder: options.holder,
      ttlMs: options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS,
      logger: options.logger,
      onAcquired: () => {
        this.#starting = this.#pull().catch((err: unknown) => {
          options.logger.error({ plugin: this.plugin, err: describe(err) }, "could not pull the plugin's scrobbles");
        });
      },
      onLost: () => void this.#halt(),
    });
  }

  get pulling(): boolean {
    return this.#pulls !== undefined;
  }

  start(): Promise<void> {
    this.started = true;
    return this.#lease.start();
  }

  async stop(): Promise<void> {
    await this.#halt();
    await this.#lease.stop();
  }

  async #pull(): Promise<void> {
    const { bus, settings, ackWaitMs, logger, metrics } = this.#options;
    const names = storageNames(bus.namespace);
    const call = this.#options.call(this.plugin);
    const startTimeMs = settings.backfillFromMs ?? this.#firstSeenMs;
    const [submitConsumer, nowPlayingConsumer] = await Promise.all([
      bus.consumer(names.scrobbleStream, names.scrobbleConsumer(this.plugin), {
        deliverPolicy: { startTimeMs },
        ackWaitMs,
        maxAckPending: settings.maxInFlight,
        inactiveThresholdMs: settings.retentionMs,
      }),
      bus.consumer(names.nowPlayingStream, names.nowPlayingConsumer(this.plugin), {
        deliverPolicy: "new",
        ackWaitMs,
        maxAckPending: settings.maxInFlight,
        inactiveThresholdMs: settings.retentionMs,
      }),
      // Exists from the start, so its count reads 0 rather than "no consumer".
      bus.consumer(names.deadScrobbleStream, names.deadScrobbleConsumer(this.plugin), {
        filterSubject: subjects(bus.namespace).pluginDeadScrobbles(this.plugin),
        inactiveThresholdMs: settings.retentionMs,
      }),
    ]);
    if (!this.#lease.held) return;
    const submits = new SubmitDeliveries({ bus, plugin: this.plugin, call, settings, ackWaitMs, logger, metrics });
    const nowPlaying = new NowPlayingDeliveries({ bus, plugin: this.plugin, call, logger, metrics });
    const prefetch = Math.min(settings.maxInFlight, 256);
    const messages = await Promise.all([submitConsumer.consume({ prefetch }), nowPlayingConsumer.consume({ prefetch })]);
    const [submitMessages, nowPlayingMessages] = messages;
    const loops = Promise.all([this.#loop(submitMessages, (m) => submits.handle(m)), this.#loop(nowPlayingMessages, (m) => nowPlaying.handle(m))]).then(() => undefined);
    this.#pulls = { messages, loops, submits, nowPlaying };
    logger.info({ plugin: this.plugin }, "delivering scrobbles");
  }

  async #loop(messages: ConsumerMessages, handle: (message: StreamMessage) => void): Promise<void> {
    try {
      for await (const message of messages) handle(message);
    } catch (err) {
      this.#options.logger.warn({ plugin: this.plugin, err: describe(err) }, "scrobble consumer stopped");
    }
  }

  /** Stops pulling; deliveries in flight finish and are acknowledged. */
  async #halt(): Promise<void> {
    await this.#starting;
    const pulls = this.#pulls;
    this.#pulls = undefined;
    if (pulls === undefined) return;
    await Promise.all(pulls.messages.map((m) => m.stop()));
    await pulls.loops;
    await Promise.all([pulls.submits.settled(), pulls.nowPlaying.settled()]);
    pulls.submits.close();
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
