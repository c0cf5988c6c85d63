/**
 * Changes to the plugins folder other than packages: removing a plugin and linking a development
 * folder, as `navidrome plugin remove|dev` do (ABI.md §6).
 */
import { lstat, mkdir, readlink, stat, symlink } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { MANIFEST_FILE, loadManifest } from "@tonearm/manifest";
import { describeFsError } from "@tonearm/manifest/internal";
import { PackageError, PackageFailure } from "./errors.js";
import { pluginEntryPath, pluginFolderName } from "./folder-name.js";
import { removeEntry } from "./ndp-install.js";

export interface RemovedPlugin {
  readonly id: string;
  readonly path: string;
  /** Only the link went; the development folder it pointed at is kept. */
  readonly symlink: boolean;
}

/**
 * Removes plugin `id`: a symlink (a development plugin) loses only the link, a folder goes whole.
 * Unlike Navidrome, a dangling symlink can be removed too.
 * @throws PackageError `invalid_name`, `plugin_not_found` (`plugin not found: <id> (path: <p>)`) or
 * `not_a_plugin_directory`
 */
export async function removePlugin(folder: string, id: string): Promise<RemovedPlugin> {
  const path = pluginEntryPath(resolve(folder), id);
  let info;
  try {
    info = await lstat(path);
  } catch (err) {
    throw new PackageError(PackageFailure.PluginNotFound, `plugin not found: ${id} (path: ${path})`, { cause: err });
  }
  if (!info.isSymbolicLink() && !info.isDirectory()) {
    throw new PackageError(PackageFailure.NotAPluginDirectory, `not a valid plugin directory: ${path}`);
  }
  await removeEntry(path);
  return { id, path, symlink: info.isSymbolicLink() };
}

export interface DevLinkOptions {
  /** Asked when the link's path is taken by something else; false cancels. */
  readonly confirmReplace: (target: string) => Promise<boolean>;
}

export interface DevLink {
  readonly id: string;
  /** The link, inside the plugins folder. */
  readonly target: string;
  /** The development folder, absolute. */
  readonly source: string;
}

/**
 * Links a development folder into the plugins folder under its manifest's name (else the folder's
 * own name), sanitised. The folder needs `manifest.json`, not yet `plugin.wasm`.
 * @throws PackageError `invalid_source` (`source folder not found: …`, `source path is not a
 * directory: …`, `source folder missing manifest.json: …`), `invalid_manifest`, `already_linked`
 * (`symlink already exists`) or `canceled` (`operation canceled`)
 */
export async function linkDevPlugin(folder: string, source: string, options: DevLinkOptions): Promise<DevLink> {
  const sourcePath = resolve(source);
  let info;
  try {
    info = await stat(sourcePath);
  } catch (err) {
    throw new PackageError(PackageFailure.InvalidSource, `source folder not found: ${sourcePath} (${describeFsError(err, sourcePath)})`, { cause: err });
  }
  if (!info.isDirectory()) throw new PackageError(PackageFailure.InvalidSource, `source path is not a directory: ${sourcePath}`);
  try {
    await stat(join(sourcePath, MANIFEST_FILE));
  } catch (err) {
    throw new PackageError(PackageFailure.InvalidSource, `source folder missing manifest.json: ${sourcePath}`, { cause: err });
  }
  let name: string;
  try {
    name = (await loadManifest(sourcePath)).name;
  } catch (err) {
    throw new PackageError(PackageFailure.InvalidManifest, `failed to load manifest: ${(err as Error).message}`, { cause: err });
  }
  const id = pluginFolderName(name || basename(sourcePath));
  const root = resolve(folder);
  const target = join(root, id);
  if (await linkOrEntry(target)) {
    const existing = await readlink(target).catch(() => undefined);
    if (existing === sourcePath) throw new PackageError(PackageFailure.AlreadyLinked, "symlink already exists");
    if (!(await options.confirmReplace(target))) throw new PackageError(PackageFailure.Canceled, "operation canceled");
    await removeEntry(target);
  }
  await mkdir(root, { recursive: true, mode: 0o755 });
  await symlink(sourcePath, target);
  return { id, target, source: sourcePath };
}

async function linkOrEntry(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}
