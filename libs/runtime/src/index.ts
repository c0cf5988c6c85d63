/**
 * Executes plugin calls: WebAssembly compilation with a memory ceiling, a pool of worker threads
 * with per-plugin instance pools, the synchronous host-call bridge, WASI preview1, and the limits
 * that keep a hostile plugin from taking the process down.
 */
export { Runtime, type CallOptions, type LoadedPlugin, type PluginSpec, type PluginStatus, type RuntimeStats } from "./runtime.js";
export type { CallCompleteEvent, CompiledRuntimeOptions, RuntimeHost, RuntimeOptions } from "./options.js";
export type { HostCall, HostHandler } from "./thread-pool.js";
export type { ThreadHost, ThreadHostFactory } from "./thread-protocol.js";
export { decodeJsonResponse, encodeJsonRequest, invoke, invokeJson } from "./invoke.js";
export { initializePlugin } from "./lifecycle.js";
export { limitMemory, MemoryLimitError, WASM_PAGE_SIZE } from "./memory-limit.js";
/** One instance on the calling thread, without pool or deadline: for embedding and measurement. */
export { PluginInstance, type GuestResult, type HostDispatch, type InstanceOptions } from "./instance.js";
