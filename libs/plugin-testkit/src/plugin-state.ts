/**
 * What a plugin under test leaves in its host services, seen from the test: its cache entries and
 * the schedules it set (recorded, never fired on their own; a test fires them).
 */
import type { JsonValue } from "@bufbuild/protobuf";
import { createMemoryCacheStore, type CacheStore, type CacheValue, type ScheduleEntry, type ScheduleStore } from "@tonearm/host";

/** The plugin's cache: the same store its `cache` host calls use, scoped to the plugin. */
export interface PluginCache {
  /** The live value (of any type), or undefined. Reading slides the entry's TTL, as a plugin's read does. */
  get(key: string): Promise<CacheValue | undefined>;
  /** Stores a value as the plugin would; `ttlMs` ≤ 0 or absent means 24 h. */
  set(key: string, value: CacheValue, ttlMs?: number): Promise<void>;
  remove(key: string): Promise<void>;
  /** Keys written since the start (or the last `clear`) and not removed since; some may have expired. */
  keys(): string[];
  /** Removes every key written so far. */
  clear(): Promise<void>;
}

/** A memory cache store that remembers which keys each plugin wrote. */
export class RecordingCacheStore implements CacheStore {
  readonly #store = createMemoryCacheStore();
  readonly #written = new Map<string, Set<string>>();

  #keysOf(pluginId: string): Set<string> {
    let keys = this.#written.get(pluginId);
    if (!keys) this.#written.set(pluginId, (keys = new Set()));
    return keys;
  }

  async set(pluginId: string, key: string, value: CacheValue, ttlMs: number): Promise<void> {
    await this.#store.set(pluginId, key, value, ttlMs);
    this.#keysOf(pluginId).add(key);
  }

  get(pluginId: string, key: string): Promise<CacheValue | undefined> {
    return this.#store.get(pluginId, key);
  }

  has(pluginId: string, key: string): Promise<boolean> {
    return this.#store.has(pluginId, key);
  }

  async remove(pluginId: string, key: string): Promise<void> {
    await this.#store.remove(pluginId, key);
    this.#keysOf(pluginId).delete(key);
  }

  usage(pluginId: string): ReturnType<CacheStore["usage"]> {
    return this.#store.usage(pluginId);
  }

  close(): Promise<void> {
    return this.#store.close();
  }

  view(pluginId: string): PluginCache {
    return {
      get: (key) => this.get(pluginId, key),
      set: (key, value, ttlMs = 0) => this.set(pluginId, key, value, ttlMs),
      remove: (key) => this.remove(pluginId, key),
      keys: () => [...this.#keysOf(pluginId)],
      clear: async () => {
        for (const key of [...this.#keysOf(pluginId)]) await this.remove(pluginId, key);
      },
    };
  }
}

/** The schedules the plugin set through its `scheduler` host calls; nothing fires unless a test says so. */
export interface RecordedSchedules {
  /** Current schedules, in the order they were set. */
  list(): Promise<ScheduleEntry[]>;
  /** One schedule by id, or undefined. */
  get(scheduleId: string): Promise<ScheduleEntry | undefined>;
  /**
   * Fires a schedule as the scheduler service does: a one-time schedule is removed first, then the
   * plugin's `SchedulerCallback/OnSchedulerCallback` is called with its id, payload and kind.
   * Resolves with the callback's response; rejects when there is no such schedule.
   */
  fire(scheduleId: string): Promise<JsonValue>;
  /** Removes a schedule; false when there was none. */
  cancel(scheduleId: string): Promise<boolean>;
}

export function recordedSchedules(
  store: ScheduleStore,
  pluginId: string,
  callback: (request: JsonValue) => Promise<JsonValue>,
): RecordedSchedules {
  const get = async (scheduleId: string) => (await store.list(pluginId)).find((s) => s.scheduleId === scheduleId);
  return {
    list: () => store.list(pluginId),
    get,
    async fire(scheduleId) {
      const entry = await get(scheduleId);
      if (!entry) throw new Error(`plugin ${pluginId} has no schedule "${scheduleId}"`);
      if (entry.kind === "once") await store.cancel(pluginId, scheduleId);
      return callback({
        scheduleId: entry.scheduleId,
        payload: Buffer.from(entry.payload).toString("base64"),
        isRecurring: entry.kind === "recurring",
      });
    },
    cancel: (scheduleId) => store.cancel(pluginId, scheduleId),
  };
}
