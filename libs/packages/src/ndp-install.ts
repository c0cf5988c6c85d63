/**
 * Installing and updating a package in a plugins folder without ever leaving a half-written
 * plugin behind:
 *
 *   1. extract into a hidden staging folder beside the target (discovery skips hidden entries),
 *      folders 0700 and files 0600 as Navidrome leaves them;
 *   2. check what was written: the manifest loads and plugin.wasm is a valid WebAssembly module;
 *   3. update: move the current version aside to a hidden backup; then rename staging → target;
 *   4. run the caller's check of the version in place (compile it, or have a cluster verify it);
 *   5. on success drop the backup; on failure remove the new version and put the backup back.
 *
 * The target folder is the sanitised manifest name (see `pluginFolderName`).
 */
import { randomBytes } from "node:crypto";
import { lstat, mkdir, mkdtemp, readFile, rename, rm, unlink, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { loadManifest, type PluginManifest } from "@tonearm/manifest";
import { describeFsError } from "@tonearm/manifest/internal";
import { PackageError, PackageFailure } from "./errors.js";
import { pluginFolderName } from "./folder-name.js";
import { MANIFEST_ENTRY, WASM_ENTRY, type PluginPackage } from "./ndp-read.js";

export const PLUGIN_DIR_MODE = 0o700;
export const PLUGIN_FILE_MODE = 0o600;

export type InstallMode = "install" | "update";

export interface InstalledPlugin {
  /** The plugin's id: its folder's name. */
  readonly id: string;
  /** Absolute path of the plugin's folder. */
  readonly path: string;
  readonly manifest: PluginManifest;
}

export interface InstallOptions {
  /** `install` refuses an existing plugin, `update` a missing one. */
  readonly mode: InstallMode;
  /**
   * Checks the new version once it is in place; a rejection (with the reason as message) undoes
   * the install or update. Absent: the manifest and WebAssembly checks of step 2 are the only ones.
   */
  readonly verify?: (plugin: InstalledPlugin) => Promise<void>;
  /** Told each step, for progress output. */
  readonly onStep?: (step: string) => void;
}

/**
 * Installs or updates `pkg` in `folder` as described above.
 * @throws PackageError `already_installed` / `plugin_not_found` (Navidrome's checks), `invalid_name`,
 * `invalid_manifest` / `invalid_wasm` (what was extracted does not load; nothing changed), or
 * `rejected` (the verify hook failed; the previous state is back).
 */
export async function installPackage(folder: string, pkg: PluginPackage, options: InstallOptions): Promise<InstalledPlugin> {
  const root = resolve(folder);
  const id = pluginFolderName(pkg.manifest.name);
  const target = join(root, id);
  const step = options.onStep ?? (() => undefined);
  const existing = await entryExists(target);
  if (options.mode === "install" && existing) {
    throw new PackageError(PackageFailure.AlreadyInstalled, `Plugin already installed: ${id} (path: ${target}); use \`plugin update\``);
  }
  if (options.mode === "update" && !existing) {
    throw new PackageError(PackageFailure.PluginNotFound, `Plugin not found: ${id} (path: ${target}); use \`plugin install\``);
  }

  await mkdir(root, { recursive: true, mode: PLUGIN_DIR_MODE });
  step(`extracting ${id}`);
  const staging = await mkdtemp(join(root, `.${id}.staging-`));
  let manifest: PluginManifest;
  try {
    await extract(pkg, staging);
    step(`checking ${id}`);
    manifest = await checkPluginFolder(staging);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }

  const backup = existing ? join(root, `.${id}.bak.${timestamp()}-${randomBytes(2).toString("hex")}`) : undefined;
  try {
    if (backup !== undefined) await rename(target, backup);
    try {
      await rename(staging, target);
    } catch (err) {
      if (backup !== undefined) await rename(backup, target);
      throw err;
    }
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }

  const installed: InstalledPlugin = { id, path: target, manifest };
  if (options.verify !== undefined) {
    step(`verifying ${id}`);
    try {
      await options.verify(installed);
    } catch (err) {
      await rm(target, { recursive: true, force: true });
      if (backup !== undefined) await rename(backup, target);
      const undone = backup === undefined ? "nothing was installed" : "the previous version was restored";
      const reason = err instanceof Error ? err.message : String(err);
      throw new PackageError(PackageFailure.Rejected, `plugin '${id}' v${manifest.version} did not load, ${undone}: ${reason}`, { cause: err });
    }
  }
  if (backup !== undefined) await removeEntry(backup);
  return installed;
}

/**
 * What step 2 checks, on any plugin folder: `manifest.json` loads and `plugin.wasm` is a valid
 * WebAssembly module. Returns the manifest.
 * @throws PackageError `invalid_manifest` or `invalid_wasm`
 */
export async function checkPluginFolder(dir: string): Promise<PluginManifest> {
  let manifest: PluginManifest;
  try {
    manifest = await loadManifest(dir);
  } catch (err) {
    throw new PackageError(PackageFailure.InvalidManifest, `failed to load manifest: ${(err as Error).message}`, { cause: err });
  }
  const wasmPath = join(dir, WASM_ENTRY);
  let wasm: Uint8Array<ArrayBuffer>;
  try {
    wasm = new Uint8Array(await readFile(wasmPath));
  } catch (err) {
    throw new PackageError(PackageFailure.InvalidWasm, `no plugin.wasm found: ${describeFsError(err, wasmPath)}`, { cause: err });
  }
  if (!WebAssembly.validate(wasm)) {
    throw new PackageError(PackageFailure.InvalidWasm, "plugin.wasm is not a valid WebAssembly module");
  }
  return manifest;
}

async function extract(pkg: PluginPackage, dir: string): Promise<void> {
  // Paths were checked when the package was read; this guards against a package built by hand.
  const files: [string, Uint8Array][] = [[MANIFEST_ENTRY, new TextEncoder().encode(pkg.manifestJson)], [WASM_ENTRY, pkg.wasm], ...pkg.docs];
  for (const [name, content] of files) {
    const path = resolve(dir, name);
    if (!path.startsWith(`${dir}/`)) throw new PackageError(PackageFailure.IllegalPath, `illegal file path in plugin package: ${name}`);
    await mkdir(dirname(path), { recursive: true, mode: PLUGIN_DIR_MODE });
    await writeFile(path, content, { mode: PLUGIN_FILE_MODE, flag: "wx" });
  }
}

async function entryExists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}

/** Removes a folder, or only the link when it is a symlink. */
export async function removeEntry(path: string): Promise<void> {
  const info = await lstat(path);
  if (info.isSymbolicLink()) await unlink(path);
  else await rm(path, { recursive: true, force: true });
}

/** Navidrome's backup suffix: local time as YYYYMMDDHHMMSS. */
function timestamp(now = new Date()): string {
  const two = (n: number): string => String(n).padStart(2, "0");
  return `${now.getFullYear()}${two(now.getMonth() + 1)}${two(now.getDate())}${two(now.getHours())}${two(now.getMinutes())}${two(now.getSeconds())}`;
}
