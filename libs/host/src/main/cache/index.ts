/** The `cache` host service: the storage port, its memory and Redis drivers, and the `env` functions. */
export {
  CacheQuotaExceededError,
  DEFAULT_TTL_MS,
  MAX_TTL_MS,
  entrySize,
  type CacheQuota,
  type CacheStore,
  type CacheUsage,
  type CacheValue,
  type CacheValueType,
} from "./store.js";
export { createMemoryCacheStore, type MemoryCacheStore, type MemoryCacheStoreOptions } from "./memory.js";
export { createRedisCacheStore, type RedisCacheStoreOptions } from "./redis.js";
export { createCacheFunctions } from "./functions.js";
