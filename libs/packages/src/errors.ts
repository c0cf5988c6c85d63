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

const isDiscoveryError = Symbol.for("tonearm.DiscoveryError");

/** A folder entry that is not a loadable plugin. `message` is Navidrome's text for the same case. */
export class DiscoveryError extends Error {
  readonly code: DiscoveryFailure;

  constructor(code: DiscoveryFailure, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DiscoveryError";
    this.code = code;
    Object.defineProperty(this, isDiscoveryError, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): value is DiscoveryError {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[isDiscoveryError] === true;
  }
}
