/**
 * Names inside the plugins folder. A plugin's id is its folder's name (ABI.md §6); `install` takes
 * it from the package's manifest, which Navidrome uses unsanitised as a path component (ABI.md
 * §14.5). Tonearm makes it a safe single component instead.
 */
import { join } from "node:path";
import { PackageError, PackageFailure } from "./errors.js";

/** Most file systems refuse longer names. */
const MAX_NAME_BYTES = 255;

// Separators, characters Windows forbids in names, and control characters.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[/\\:*?"<>|\u0000-\u001f\u007f]/g;

/**
 * The folder a plugin named `name` installs into: path separators, reserved and control
 * characters become `_`, surrounding spaces and leading dots go (a leading dot would hide it from
 * discovery). Everything else, spaces and non-ASCII letters included, is kept as Navidrome keeps it.
 * @throws PackageError `invalid_name` when nothing usable is left or the name is too long.
 */
export function pluginFolderName(name: string): string {
  const safe = name.replace(UNSAFE, "_").replace(/^[\s.]+/, "").trimEnd();
  if (safe === "") throw new PackageError(PackageFailure.InvalidName, `plugin name ${JSON.stringify(name)} cannot be used as a folder name`);
  if (Buffer.byteLength(safe) > MAX_NAME_BYTES) {
    throw new PackageError(PackageFailure.InvalidName, `plugin name is longer than ${MAX_NAME_BYTES} bytes: ${safe.slice(0, 40)}…`);
  }
  return safe;
}

/**
 * Checks that a plugin id given by an operator or a request names one entry of the plugins folder,
 * so `remove ../x` can never reach outside it, and returns that entry's path.
 * @throws PackageError `invalid_name`
 */
export function pluginEntryPath(folder: string, id: string): string {
  if (id === "" || id === "." || id === ".." || id.includes("/") || id.includes("\\") || id.includes("\0")) {
    throw new PackageError(PackageFailure.InvalidName, `invalid plugin id ${JSON.stringify(id)}: a plugin id is one folder name`);
  }
  return join(folder, id);
}
