/**
 * Host services offered to plugins through their `env` imports (ABI.md §8–§11). Functions that need
 * no I/O run inside the runtime's threads; the rest run on the event loop.
 */
export { createHost, type HostDependencies, type MainContext, type MainFunctions, type PluginDirectory } from "./host.js";
export type { ThreadHostData } from "./thread-host.js";
export { asyncHandler, syncHandler, type AsyncByteHandler, type ByteHandler } from "./define.js";
export { localTimeZone, rfc3339 } from "./thread/time.js";
