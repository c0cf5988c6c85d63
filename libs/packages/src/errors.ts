import { TonearmError } from "@tonearm/abi";

/** Why discovery could not use a folder entry (or the folder itself). */
export const DiscoveryFailure = {
  /** The plugins folder could not be listed; reported as one result with id `""`. */
  UnreadableFolder: "unreadable_folder",
  /** `lstat` of the entry failed. */
  StatFailed: "stat_failed",
  /** The symlink could not be read. */
  SymlinkUnreadable: "symlink_unreadable",
  /** The symlink's target does not exist or cannot be reached. */
  SymlinkBroken: "symlink_broken",
  /** The symlink points at something other than a directory. */
  SymlinkNotDirectory: "symlink_not_directory",
  /** No `plugin.wasm` in the plugin directory. */
  MissingWasm: "missing_wasm",
  /** `manifest.json` is missing, unreadable or invalid. */
  InvalidManifest: "invalid_manifest",
  /** The manifest lists no capabilities (`"capabilities": null`). */
  NoCapabilities: "no_capabilities",
} as const;
export type DiscoveryFailure = (typeof DiscoveryFailure)[keyof typeof DiscoveryFailure];

/** A folder entry that is not a loadable plugin. `message` is Navidrome's text for the same case. */
export class DiscoveryError extends TonearmError {
  readonly code: DiscoveryFailure;

  constructor(code: DiscoveryFailure, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** Why a `.ndp` package, or a change to the plugins folder, was refused. */
export const PackageFailure = {
  /** The package file does not exist. */
  NotFound: "package_not_found",
  /** The file does not have the `.ndp` extension. */
  NotAPackage: "not_a_package",
  /** Not a readable ZIP archive, or an entry could not be read. */
  Unreadable: "unreadable",
  /** An entry's path holds `..`, is absolute, or holds a NUL (Zip Slip). */
  IllegalPath: "illegal_path",
  /** An entry is a symbolic link, device or anything else but a file or a directory. */
  IllegalEntryType: "illegal_entry_type",
  /** An entry is encrypted or compressed with a method other than stored or deflate. */
  UnsupportedEntry: "unsupported_entry",
  /** Two entries would be written to the same file. */
  DuplicateEntry: "duplicate_entry",
  /** An entry, or the whole package, is bigger than the limit; or it has too many entries. */
  TooLarge: "too_large",
  MissingManifest: "missing_manifest",
  MissingWasm: "missing_wasm",
  InvalidManifest: "invalid_manifest",
  /** `plugin.wasm` is not a valid WebAssembly module. */
  InvalidWasm: "invalid_wasm",
  /** The manifest's name (or a plugin id) cannot name a folder of the plugins folder. */
  InvalidName: "invalid_name",
  /** `install` of a plugin whose folder exists. */
  AlreadyInstalled: "already_installed",
  /** `update`, `remove` or `refresh` of a plugin whose folder does not exist. */
  PluginNotFound: "plugin_not_found",
  /** The plugin's folder entry is neither a directory nor a symlink to one. */
  NotAPluginDirectory: "not_a_plugin_directory",
  /** The installed version failed its check; the previous state was restored. */
  Rejected: "rejected",
  /** `dev` was pointed at something that is not a plugin source folder. */
  InvalidSource: "invalid_source",
  /** `dev` found its link already in place. */
  AlreadyLinked: "already_linked",
  /** The operator declined to replace an existing entry. */
  Canceled: "canceled",
} as const;
export type PackageFailure = (typeof PackageFailure)[keyof typeof PackageFailure];

/** A refused package or plugins-folder change. `message` is Navidrome's text where it has one. */
export class PackageError extends TonearmError {
  readonly code: PackageFailure;

  constructor(code: PackageFailure, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
