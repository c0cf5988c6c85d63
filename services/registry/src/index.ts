/**
 * The registry service: publishes the plugins of a folder as records (KV) and artifacts (object
 * store), has workers verify them, runs OnInit once per version, and follows the folder. One
 * registry per namespace is active at a time.
 */
export {
  DEFAULT_INIT_TIMEOUT_MS,
  DEFAULT_LEASE_TTL_MS,
  DEFAULT_RETRY_INITIAL_MS,
  DEFAULT_VERIFY_TIMEOUT_MS,
  REGISTRY_LEASE_KEY,
  createRegistry,
  type Registry,
  type RegistryOptions,
} from "./registry.js";
export { startRegistry, type StartRegistryOptions } from "./main.js";
export { REGISTRY_CALLER, verifySubject } from "./verify.js";
export { initOutcomeKey, lifecycleBucket } from "./lifecycle.js";
export { packageUploadStore } from "./package-requests.js";
export { DEFAULT_REFRESH_SECONDS, startStatusPage, type StatusPage, type StatusPageOptions } from "./status.js";
export { CallStatistics, DEFAULT_WINDOW_MS, followWorkerStats, quantileMs, type CallStatisticsOptions } from "./status-calls.js";
export { MAX_ROWS, type ScrobbleStatusSource } from "./status-sources.js";
export type * from "./status-model.js";
export { STATUS_VERSION } from "./status-model.js";
