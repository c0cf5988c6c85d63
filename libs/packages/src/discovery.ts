import { lstat, readdir, readlink, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { loadManifest, type PluginManifest } from "@tonearm/manifest";
import { describeFsError } from "@tonearm/manifest/internal";
import { DiscoveryError, DiscoveryFailure } from "./errors.js";

export const WASM_FILE = "plugin.wasm";

interface DiscoveredBase {
  /** The entry's name in the plugins folder: the plugin's identity, whatever the manifest's name. */
  readonly id: string;
  /** Absolute plugin directory: a symlink's target once resolved, else the entry itself. */
  readonly path: string;
  /** The entry is a symlink (a development plugin). */
  readonly isSymlink: boolean;
}

export interface LoadedPlugin extends DiscoveredBase {
  readonly ok: true;
  readonly manifest: PluginManifest;
  readonly wasmPath: string;
}

export interface BrokenPlugin extends DiscoveredBase {
  readonly ok: false;
  readonly error: DiscoveryError;
}

export type DiscoveredPlugin = LoadedPlugin | BrokenPlugin;

/**
 * Lists the plugins of a folder as Navidrome's discovery does (ABI.md §4.2): every entry that is a
 * directory, or a symlink to one, and whose name does not start with `.` is a plugin with that name
 * as id. Each gets one result, loaded or broken with the reason; regular files are skipped.
 * Checks per entry, first failure wins: lstat, symlink target, `plugin.wasm` present (never
 * compiled here), manifest valid, at least one capability. A folder that cannot be listed gives a
 * single broken result with id `""`. Never throws; results are sorted by id (byte order).
 */
export async function discoverPlugins(folder: string): Promise<DiscoveredPlugin[]> {
  const root = resolve(folder);
  let names: string[];
  try {
    names = await readdir(root);
  } catch (error) {
    const message = `failed to read plugins directory ${root}: ${describeFsError(error, root)}`;
    return [broken("", root, false, DiscoveryFailure.UnreadableFolder, message, error)];
  }
  const found = await Promise.all(names.filter((name) => !name.startsWith(".")).map((name) => inspect(root, name)));
  return found
    .filter((plugin): plugin is DiscoveredPlugin => plugin !== undefined)
    .sort((a, b) => Buffer.compare(Buffer.from(a.id), Buffer.from(b.id)));
}

async function inspect(root: string, id: string): Promise<DiscoveredPlugin | undefined> {
  const entry = join(root, id);
  let isSymlink: boolean;
  try {
    const info = await lstat(entry);
    isSymlink = info.isSymbolicLink();
    if (!isSymlink && !info.isDirectory()) return undefined;
  } catch (error) {
    const message = `failed to stat entry ${entry}: ${describeFsError(error, entry)}`;
    return broken(id, entry, false, DiscoveryFailure.StatFailed, message, error);
  }

  let dir = entry;
  if (isSymlink) {
    try {
      // Relative targets are relative to the folder holding the link.
      dir = resolve(dirname(entry), await readlink(entry));
    } catch (error) {
      const message = `failed to resolve symlink ${entry}: ${describeFsError(error, entry)}`;
      return broken(id, entry, true, DiscoveryFailure.SymlinkUnreadable, message, error);
    }
    try {
      if (!(await stat(dir)).isDirectory()) {
        const message = `symlink target is not a directory: ${dir}`;
        return broken(id, dir, true, DiscoveryFailure.SymlinkNotDirectory, message);
      }
    } catch (error) {
      const message = `failed to stat symlink target ${dir}: ${describeFsError(error, dir)}`;
      return broken(id, dir, true, DiscoveryFailure.SymlinkBroken, message, error);
    }
  }

  const wasmPath = join(dir, WASM_FILE);
  try {
    await stat(wasmPath);
  } catch (error) {
    const message = `no plugin.wasm found: ${describeFsError(error, wasmPath)}`;
    return broken(id, dir, isSymlink, DiscoveryFailure.MissingWasm, message, error);
  }

  let manifest: PluginManifest;
  try {
    manifest = await loadManifest(dir);
  } catch (error) {
    const message = `failed to load manifest: ${error instanceof Error ? error.message : String(error)}`;
    return broken(id, dir, isSymlink, DiscoveryFailure.InvalidManifest, message, error);
  }
  // Reachable only with `"capabilities": null`, which the loader accepts as Navidrome's does.
  if (manifest.capabilities.length === 0) {
    return broken(id, dir, isSymlink, DiscoveryFailure.NoCapabilities, "no capabilities found in manifest");
  }
  return { ok: true, id, path: dir, isSymlink, manifest, wasmPath };
}

function broken(
  id: string,
  path: string,
  isSymlink: boolean,
  code: DiscoveryFailure,
  message: string,
  cause?: unknown,
): BrokenPlugin {
  const error = new DiscoveryError(code, message, cause === undefined ? undefined : { cause });
  return { ok: false, id, path, isSymlink, error };
}
