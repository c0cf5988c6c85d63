/**
 * Plugin folders and packages: discovery of the plugins folder (ABI.md §4.2, discovery_test).
 */
export {
  WASM_FILE,
  discoverPlugins,
  type BrokenPlugin,
  type DiscoveredPlugin,
  type LoadedPlugin,
} from "./discovery.js";
export { DiscoveryError, DiscoveryFailure } from "./errors.js";
