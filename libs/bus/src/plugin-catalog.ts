/**
 * The plugin records the registry publishes, followed live: what workers, schedulers and gateways
 * consult before touching a plugin.
 *
 *   KV bucket  storageNames(ns).pluginsBucket (tonearm_<ns>_plugins)
 *   key        encodeToken(pluginId)
 *   value      tonearm.bus.v1.PluginRecord (protobuf); REMOVED records stay as tombstones
 *
 * Workers also answer the registry's verification requests:
 *
 *   Subject  tonearm.<ns>.worker.verify (request-reply, workers' queue group)
 *   Request  data: the PluginRecord to verify (protobuf), its wasm already in the object store
 *            under `record.sha256`; headers: call-protocol Tonearm-Deadline and Tonearm-Caller
 *   Reply    success: empty data; failure: a call-protocol error (`encodeCallError`), `load_error`
 *            with the runtime's text when the module does not compile or link
 */
import { create, fromBinary } from "@bufbuild/protobuf";
import { bus as busProto } from "@tonearm/proto";
import { BusError } from "./errors.js";
import { stderrLogger } from "./logger.js";
import { decodeToken, encodeToken, storageNames, subjects } from "./subjects.js";
import type { BusLogger, Bus, KvChange, KvWatch } from "./types.js";

export type PluginRecord = busProto.PluginRecord;
export const PluginState = busProto.PluginState;
export type PluginState = busProto.PluginState;

/** The capabilities a record's manifest lists; none when its manifest cannot be read. */
export function recordCapabilities(record: Pick<PluginRecord, "manifestJson">): readonly string[] {
  try {
    const manifest = JSON.parse(record.manifestJson) as { capabilities?: unknown };
    return Array.isArray(manifest.capabilities) ? manifest.capabilities.filter((c): c is string => typeof c === "string") : [];
  } catch {
    return [];
  }
}

export interface WorkerSubjects {
  /** Where the registry asks any worker to load a published plugin before anyone may call it. */
  readonly verify: string;
}

export function workerSubjects(namespace: string): WorkerSubjects {
  return Object.freeze({ verify: `${subjects(namespace).prefix}.worker.verify` });
}

/** The subject workers answer verification requests on: `tonearm.<ns>.worker.verify`. */
export function workerVerifySubject(namespace: string): string {
  return workerSubjects(namespace).verify;
}

export type PluginCatalogListener = (record: PluginRecord) => void;

export interface PluginCatalog {
  /** The latest record of a plugin, REMOVED tombstones included; undefined when none is stored. */
  get(id: string): PluginRecord | undefined;
  /** Every record held, in no particular order. */
  all(): PluginRecord[];
  /**
   * Resolves once every record stored when the watch began is held; rejects when the bucket
   * cannot be watched or the catalog is closed first.
   */
  readonly ready: Promise<void>;
  /**
   * Calls `listener` with each record as it changes (a deleted key arrives as a REMOVED record
   * holding only the id). Returns the function that stops it.
   */
  onChange(listener: PluginCatalogListener): () => void;
  /** Stops watching; idempotent. */
  close(): void;
}

export interface PluginCatalogOptions {
  /** Where undecodable records and watch failures go. @default warnings and errors on stderr */
  readonly logger?: BusLogger;
  /** First pause before watching again after the watch failed; doubles up to 10 s. @default 250 */
  readonly retryInitialMs?: number;
}

const RETRY_MAX_MS = 10_000;

/** Follows the plugins bucket of `namespace`; see `PluginCatalog`. */
export function watchPluginCatalog(bus: Bus, namespace: string, options: PluginCatalogOptions = {}): PluginCatalog {
  return new WatchedCatalog(bus, storageNames(namespace).pluginsBucket, options);
}

interface Held {
  readonly record: PluginRecord;
  readonly revision: number;
}

/**
 * One round of watching: the watch is opened first, then the bucket is listed, so the round is
 * complete once the watch has delivered every listed key at (or past) its listed revision.
 */
interface Round {
  readonly watch: KvWatch;
  /** Listed keys not yet delivered, with their listed revisions; undefined while still listing. */
  pending: Map<string, number> | undefined;
  /** Keys delivered during this round: what a rewatch keeps. */
  readonly seen: Set<string>;
  complete: boolean;
}

class WatchedCatalog implements PluginCatalog {
  readonly ready: Promise<void>;
  readonly #bus: Bus;
  readonly #bucket: string;
  readonly #logger: BusLogger;
  readonly #retryInitialMs: number;
  readonly #held = new Map<string, Held>();
  readonly #listeners = new Set<PluginCatalogListener>();
  #round: Round | undefined;
  #closed = false;
  #markReady!: () => void;
  #failReady!: (err: Error) => void;
  #retryTimer: NodeJS.Timeout | undefined;
  #wakeRetry: (() => void) | undefined;

  constructor(bus: Bus, bucket: string, options: PluginCatalogOptions) {
    this.#bus = bus;
    this.#bucket = bucket;
    this.#logger = options.logger ?? stderrLogger;
    this.#retryInitialMs = options.retryInitialMs ?? 250;
    this.ready = new Promise<void>((resolve, reject) => {
      this.#markReady = resolve;
      this.#failReady = reject;
    });
    // Whoever never awaits `ready` must not see an unhandled rejection.
    this.ready.catch(() => undefined);
    void this.#follow();
  }

  get(id: string): PluginRecord | undefined {
    return this.#held.get(id)?.record;
  }

  all(): PluginRecord[] {
    return [...this.#held.values()].map((held) => held.record);
  }

  onChange(listener: PluginCatalogListener): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#round?.watch.stop();
    clearTimeout(this.#retryTimer);
    this.#wakeRetry?.();
    this.#listeners.clear();
    this.#failReady(new BusError("closed", `the plugin catalog of ${this.#bucket} was closed before it was read`));
  }

  /** Watches until closed, watching again (with backoff) whenever a watch fails or ends. */
  async #follow(): Promise<void> {
    let pauseMs = this.#retryInitialMs;
    let everReady = false;
    while (!this.#closed) {
      try {
        await this.#watchRound(() => {
          everReady = true;
          pauseMs = this.#retryInitialMs;
          this.#markReady();
        });
        if (this.#closed) return;
        this.#logger.warn({ bucket: this.#bucket }, "plugin catalog watch ended; watching again");
      } catch (err) {
        if (this.#closed) return;
        if (BusError.is(err, "closed")) {
          // The bus is gone for good: nothing more will change.
          this.#failReady(new BusError("closed", `the bus closed before the plugin catalog ${this.#bucket} was read`, { cause: err }));
          return;
        }
        // Before the first complete read there is nothing to serve from: let the owner decide.
        if (!everReady) {
          this.#failReady(new BusError("disconnected", `cannot read the plugin catalog ${this.#bucket}: ${describe(err)}`, { cause: err }));
        }
        this.#logger.warn({ bucket: this.#bucket, err }, "plugin catalog watch failed; watching again");
      }
      await this.#pause(pauseMs);
      pauseMs = Math.min(pauseMs * 2, RETRY_MAX_MS);
    }
  }

  async #watchRound(onComplete: () => void): Promise<void> {
    const kv = await this.#bus.kv(this.#bucket);
    if (this.#closed) return;
    const round: Round = { watch: await kv.watch(), pending: undefined, seen: new Set(), complete: false };
    this.#round = round;
    if (this.#closed) {
      round.watch.stop();
      return;
    }
    const consuming = this.#consume(round, onComplete);
    try {
      const listed = new Map<string, number>();
      for await (const key of kv.keys()) {
        const entry = await kv.get(key);
        if (entry !== undefined && !round.seen.has(key)) listed.set(key, entry.revision);
      }
      // Keys delivered while listing already count; only the rest are waited for.
      for (const key of round.seen) listed.delete(key);
      round.pending = listed;
      this.#completeIfDone(round, onComplete);
    } catch (err) {
      round.watch.stop();
      await consuming.catch(() => undefined);
      throw err;
    }
    await consuming;
  }

  async #consume(round: Round, onComplete: () => void): Promise<void> {
    for await (const change of round.watch) {
      if (this.#closed) return;
      round.seen.add(change.key);
      this.#apply(change);
      const listed = round.pending?.get(change.key);
      if (listed !== undefined && change.revision >= listed) round.pending?.delete(change.key);
      this.#completeIfDone(round, onComplete);
    }
  }

  #completeIfDone(round: Round, onComplete: () => void): void {
    if (round.complete || round.pending === undefined || round.pending.size > 0) return;
    round.complete = true;
    // A key gone while no watch was running was never delivered as deleted: forget it now.
    for (const id of [...this.#held.keys()]) {
      if (!round.seen.has(encodeToken(id))) this.#forget(id);
    }
    onComplete();
  }

  #apply(change: KvChange): void {
    let id: string;
    try {
      id = decodeToken(change.key);
    } catch (err) {
      this.#logger.warn({ bucket: this.#bucket, key: change.key, err }, "ignoring a plugin record under a key that is not a plugin id");
      return;
    }
    const held = this.#held.get(id);
    // A rewatch delivers current values again: only newer revisions are changes.
    if (held !== undefined && change.revision <= held.revision) return;
    if (change.operation === "delete") {
      this.#forget(id);
      return;
    }
    let record: PluginRecord;
    try {
      record = fromBinary(busProto.PluginRecordSchema, change.value);
    } catch (err) {
      this.#logger.error({ bucket: this.#bucket, plugin: id, err }, "ignoring a plugin record that does not decode");
      return;
    }
    if (record.id !== id) {
      this.#logger.warn({ bucket: this.#bucket, plugin: id, recordId: record.id }, "plugin record id differs from its key; the key wins");
      record = { ...record, id };
    }
    this.#held.set(id, { record, revision: change.revision });
    this.#notify(record);
  }

  #forget(id: string): void {
    if (!this.#held.delete(id)) return;
    this.#notify(create(busProto.PluginRecordSchema, { id, state: PluginState.REMOVED }));
  }

  #notify(record: PluginRecord): void {
    for (const listener of this.#listeners) {
      try {
        listener(record);
      } catch (err) {
        this.#logger.error({ bucket: this.#bucket, plugin: record.id, err }, "plugin catalog listener failed");
      }
    }
  }

  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wakeRetry = resolve;
      this.#retryTimer = setTimeout(resolve, ms);
      this.#retryTimer.unref();
    });
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
