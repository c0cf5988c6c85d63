/**
 * Plugin folders and packages: discovery of the plugins folder (ABI.md §4.2, discovery_test), and
 * `.ndp` packages read, written and installed safely (ABI.md §6), removal and development links.
 */
export {
  WASM_FILE,
  discoverPlugins,
  type BrokenPlugin,
  type DiscoveredPlugin,
  type LoadedPlugin,
} from "./discovery.js";
export { DiscoveryError, DiscoveryFailure, PackageError, PackageFailure } from "./errors.js";
export { pluginEntryPath, pluginFolderName } from "./folder-name.js";
export {
  DEFAULT_PACKAGE_LIMITS,
  MANIFEST_ENTRY,
  PACKAGE_EXTENSION,
  WASM_ENTRY,
  readPackage,
  readPackageFile,
  type PackageLimits,
  type PluginPackage,
} from "./ndp-read.js";
export {
  PLUGIN_DIR_MODE,
  PLUGIN_FILE_MODE,
  checkPluginFolder,
  installPackage,
  type InstallMode,
  type InstallOptions,
  type InstalledPlugin,
} from "./ndp-install.js";
export { packPluginFolder, type PackedPlugin } from "./ndp-write.js";
export { linkDevPlugin, removePlugin, type DevLink, type DevLinkOptions, type RemovedPlugin } from "./plugin-entries.js";
