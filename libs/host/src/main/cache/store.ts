/**
 * The storage port behind the `cache` host service (ABI.md §10): typed values per plugin, a TTL
 * that slides on every read, and an optional per-plugin quota. Drivers: `createMemoryCacheStore`
 * (embedded mode) and `createRedisCacheStore` (cluster mode); both pass one contract suite.
 */
import { TonearmError } from "@tonearm/abi";

/** A cached value keeps the type it was written with; a read of another type misses. */
export type CacheValue =
  | { readonly type: "string"; readonly value: string }
  | { readonly type: "int"; readonly value: bigint }
  | { readonly type: "float"; readonly value: number }
  | { readonly type: "bytes"; readonly value: Uint8Array };

export type CacheValueType = CacheValue["type"];

/** What one plugin currently holds; expired entries never count. */
export interface CacheUsage {
  readonly entries: number;
  /** Sum of {@link entrySize} over the plugin's live entries. */
  readonly bytes: number;
}

/** Per-plugin limits; a write that would cross one is refused with {@link CacheQuotaExceededError}. */
export interface CacheQuota {
  /** Live entries one plugin may hold. @default unlimited */
  readonly maxEntries?: number;
  /** Bytes (keys plus values, see {@link entrySize}) one plugin may hold. @default unlimited */
  readonly maxBytes?: number;
}

/**
 * Every operation is scoped by the calling plugin's id, which the host supplies; keys are opaque
 * strings, so no key a plugin chooses reaches another plugin's entries.
 */
export interface CacheStore {
  /**
   * Stores `value` for `ttlMs` (≤ 0 or not finite → 24 h), replacing any value of any type.
   * Rejects with {@link CacheQuotaExceededError} when the plugin's quota would be exceeded; the
   * previous value then stays.
   */
  set(pluginId: string, key: string, value: CacheValue, ttlMs: number): Promise<void>;
  /** The live value, whatever its type; a hit restarts the entry's TTL (sliding expiry). */
  get(pluginId: string, key: string): Promise<CacheValue | undefined>;
  /** Whether a live value of any type exists; like Navidrome's `Has`, a hit restarts the TTL too. */
  has(pluginId: string, key: string): Promise<boolean>;
  /** Deletes the entry if present. */
  remove(pluginId: string, key: string): Promise<void>;
  usage(pluginId: string): Promise<CacheUsage>;
  /** Stops background work; later calls reject. Idempotent. A Redis client passed in stays open. */
  close(): Promise<void>;
}

export const DEFAULT_TTL_MS = 24 * 60 * 60 * 1000;
/** Longer TTLs are cut to this; it keeps expiry timestamps exact in doubles and in Redis. */
export const MAX_TTL_MS = 100 * 365 * DEFAULT_TTL_MS;

/** Navidrome's rule (`ttl_seconds ≤ 0` → 24 h) plus a ceiling; whole milliseconds, at least 1. */
export function effectiveTtlMs(ttlMs: number): number {
  if (!(ttlMs > 0)) return DEFAULT_TTL_MS;
  return Math.max(1, Math.floor(Math.min(ttlMs, MAX_TTL_MS)));
}

/** Bytes a value occupies in the store: UTF-8 for strings, 8 for numbers. */
export function valueSize(value: CacheValue): number {
  switch (value.type) {
    case "string":
      return Buffer.byteLength(value.value, "utf8");
    case "int":
    case "float":
      return 8;
    case "bytes":
      return value.value.byteLength;
  }
}

/** What an entry costs against `maxBytes`: its key's UTF-8 length plus its value's size. */
export function entrySize(key: string, value: CacheValue): number {
  return Buffer.byteLength(key, "utf8") + valueSize(value);
}

function checkLimit(name: string, limit: number | undefined): number | undefined {
  if (limit === undefined) return undefined;
  if (!Number.isSafeInteger(limit) || limit <= 0) throw new RangeError(`cache ${name} must be a positive integer, got ${limit}`);
  return limit;
}

/** Validated quota; `undefined` fields mean no limit. */
export function compileQuota(quota: CacheQuota): CacheQuota {
  return { maxEntries: checkLimit("maxEntries", quota.maxEntries), maxBytes: checkLimit("maxBytes", quota.maxBytes) };
}

/** A write refused because the plugin would hold more than its quota allows. */
export class CacheQuotaExceededError extends TonearmError {
  readonly pluginId: string;
  readonly limit: "entries" | "bytes";
  readonly max: number;

  constructor(pluginId: string, limit: "entries" | "bytes", max: number) {
    super(`cache quota exceeded for plugin ${pluginId}: ${max} ${limit}`);
    this.pluginId = pluginId;
    this.limit = limit;
    this.max = max;
  }
}

/** Thrown by every operation of a store after `close()`. */
export function closedStoreError(): Error {
  return new Error("cache store is closed");
}
