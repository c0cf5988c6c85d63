/**
 * The worker service: executes plugin calls for any caller on the bus (queue group), orchestrates
 * Navidrome's metadata agents, and verifies new plugin versions for the registry.
 */
export {
  DEFAULT_WORKER_QUEUE,
  createWorker,
  type Worker,
  type WorkerOptions,
  type WorkerState,
  type WorkerStats,
} from "./worker.js";
export { startWorker } from "./main.js";
export { REGISTRY_CALLER } from "./call-gate.js";
export { AGENT_HEADER, AGENT_METHODS, UNKNOWN_ALBUM, UNKNOWN_ARTIST_ID, VARIOUS_ARTISTS_ID } from "./agents.js";
/** The plugin catalog lives in @tonearm/bus; re-exported for roles started next to a worker. */
export { watchPluginCatalog, type PluginCatalog } from "@tonearm/bus";
export { replayDeadScrobbles, type ReplayOptions, type ReplayReport } from "./scrobbles/replay.js";
