/**
 * Host services offered to plugins through their `env` imports (ABI.md §8–§11). Functions that need
 * no I/O run inside the runtime's threads; the rest run on the event loop.
 */
export { createHost, type HostCallObserver, type HostDependencies, type MainContext, type MainFunctions, type PluginDirectory } from "./host.js";
export type { ThreadHostData } from "./thread-host.js";
export { asyncHandler, syncHandler, type AsyncByteHandler, type ByteHandler } from "./define.js";
export { localTimeZone, rfc3339 } from "./thread/time.js";
export {
  CacheQuotaExceededError,
  DEFAULT_TTL_MS,
  MAX_TTL_MS,
  createCacheFunctions,
  createMemoryCacheStore,
  createRedisCacheStore,
  entrySize,
  type CacheQuota,
  type CacheStore,
  type CacheUsage,
  type CacheValue,
  type CacheValueType,
  type MemoryCacheStore,
  type MemoryCacheStoreOptions,
  type RedisCacheStoreOptions,
} from "./main/cache/index.js";
export type { ArtworkSettings } from "./thread/artwork.js";
export * from "./main/scheduler/index.js";
export * from "./main/subsonic/index.js";
export * from "./main/http/index.js";
export * from "./main/websocket/index.js";
export { createPluginHost, hostSettings, type HostDrivers, type HostSettings } from "./plugin-host.js";
export { websocketCallbackCall, type CallbackCall } from "./websocket-callbacks.js";
