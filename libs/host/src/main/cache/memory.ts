/**
 * In-process cache store for embedded mode. Entries expire lazily when touched; a periodic sweep
 * (an `unref`'d timer, so it never holds the process open) frees the ones nobody reads again.
 */
import {
  CacheQuotaExceededError,
  closedStoreError,
  compileQuota,
  effectiveTtlMs,
  entrySize,
  type CacheQuota,
  type CacheStore,
  type CacheUsage,
  type CacheValue,
} from "./store.js";

export interface MemoryCacheStoreOptions extends CacheQuota {
  /** Clock in milliseconds; tests pass a controllable one. @default Date.now */
  readonly now?: () => number;
  /** How often expired entries are dropped from memory. @default 60_000 */
  readonly sweepIntervalMs?: number;
}

export interface MemoryCacheStore extends CacheStore {
  /** Entries held in memory, including expired ones the sweep has not dropped yet. */
  readonly heldEntries: number;
  /** Drops every expired entry now (what the periodic sweep does). */
  sweep(): void;
}

interface Entry {
  readonly value: CacheValue;
  readonly ttlMs: number;
  readonly size: number;
  expiresAt: number;
}

interface PluginEntries {
  readonly entries: Map<string, Entry>;
  bytes: number;
}

// Values are copied in and out so neither the caller nor a reader can mutate what is stored.
function copyValue(value: CacheValue): CacheValue {
  return value.type === "bytes" ? { type: "bytes", value: new Uint8Array(value.value) } : value;
}

export function createMemoryCacheStore(options: MemoryCacheStoreOptions = {}): MemoryCacheStore {
  const { maxEntries, maxBytes } = compileQuota(options);
  const now = options.now ?? Date.now;
  const plugins = new Map<string, PluginEntries>();
  let closed = false;

  function drop(pluginId: string, plugin: PluginEntries, key: string, entry: Entry): void {
    plugin.entries.delete(key);
    plugin.bytes -= entry.size;
    if (plugin.entries.size === 0) plugins.delete(pluginId);
  }

  function dropExpired(pluginId: string, plugin: PluginEntries, at: number): void {
    for (const [key, entry] of plugin.entries) if (entry.expiresAt <= at) drop(pluginId, plugin, key, entry);
  }

  /** The live entry, after dropping it if it has expired. */
  function live(pluginId: string, key: string, at: number): Entry | undefined {
    const plugin = plugins.get(pluginId);
    const entry = plugin?.entries.get(key);
    if (!plugin || !entry) return undefined;
    if (entry.expiresAt > at) return entry;
    drop(pluginId, plugin, key, entry);
    return undefined;
  }

  function touch(pluginId: string, key: string): Entry | undefined {
    const at = now();
    const entry = live(pluginId, key, at);
    if (entry) entry.expiresAt = at + entry.ttlMs;
    return entry;
  }

  function set(pluginId: string, key: string, value: CacheValue, ttlMs: number): void {
    const at = now();
    const plugin = plugins.get(pluginId) ?? { entries: new Map<string, Entry>(), bytes: 0 };
    const size = entrySize(key, value);
    const exceeded = (): CacheQuotaExceededError | undefined => {
      const previous = plugin.entries.get(key);
      const entries = plugin.entries.size + (previous ? 0 : 1);
      const bytes = plugin.bytes - (previous?.size ?? 0) + size;
      if (maxEntries !== undefined && entries > maxEntries) return new CacheQuotaExceededError(pluginId, "entries", maxEntries);
      if (maxBytes !== undefined && bytes > maxBytes) return new CacheQuotaExceededError(pluginId, "bytes", maxBytes);
      return undefined;
    };
    // Expired entries no longer count; only pay for dropping them when the quota is at stake.
    if (exceeded()) dropExpired(pluginId, plugin, at);
    const refusal = exceeded();
    if (refusal) throw refusal;

    const previous = plugin.entries.get(key);
    if (previous) drop(pluginId, plugin, key, previous);
    const ttl = effectiveTtlMs(ttlMs);
    plugin.entries.set(key, { value: copyValue(value), ttlMs: ttl, size, expiresAt: at + ttl });
    plugin.bytes += size;
    plugins.set(pluginId, plugin);
  }

  function remove(pluginId: string, key: string): void {
    const plugin = plugins.get(pluginId);
    const entry = plugin?.entries.get(key);
    if (plugin && entry) drop(pluginId, plugin, key, entry);
  }

  function usage(pluginId: string): CacheUsage {
    const plugin = plugins.get(pluginId);
    if (!plugin) return { entries: 0, bytes: 0 };
    dropExpired(pluginId, plugin, now());
    return { entries: plugin.entries.size, bytes: plugin.bytes };
  }

  function sweep(): void {
    const at = now();
    for (const [pluginId, plugin] of plugins) dropExpired(pluginId, plugin, at);
  }

  const sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
  if (!(sweepIntervalMs > 0)) throw new RangeError(`cache sweepIntervalMs must be positive, got ${sweepIntervalMs}`);
  const timer = setInterval(sweep, sweepIntervalMs);
  timer.unref();

  // Both drivers fail the same way: a rejected promise, never a synchronous throw.
  function run<T>(operation: () => T): Promise<T> {
    return new Promise<T>((resolve) => {
      if (closed) throw closedStoreError();
      resolve(operation());
    });
  }

  return {
    get heldEntries() {
      let count = 0;
      for (const plugin of plugins.values()) count += plugin.entries.size;
      return count;
    },
    sweep,
    set: (pluginId, key, value, ttlMs) => run(() => set(pluginId, key, value, ttlMs)),
    get: (pluginId, key) =>
      run(() => {
        const entry = touch(pluginId, key);
        return entry && copyValue(entry.value);
      }),
    has: (pluginId, key) => run(() => touch(pluginId, key) !== undefined),
    remove: (pluginId, key) => run(() => remove(pluginId, key)),
    usage: (pluginId) => run(() => usage(pluginId)),
    close() {
      closed = true;
      clearInterval(timer);
      plugins.clear();
      return Promise.resolve();
    },
  };
}
