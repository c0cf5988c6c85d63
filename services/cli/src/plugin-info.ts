/**
 * `tonearm plugin info <id | file.ndp>`: a plugin's details in the layout of `navidrome plugin
 * info` (ABI.md §6), with "Package Information" for a package file and "File Permissions" for an
 * installed plugin.
 */
import { createHash } from "node:crypto";
import { lstat, readdir, readFile, readlink, stat } from "node:fs/promises";
import type { Stats } from "node:fs";
import { dirname, extname, join, resolve } from "node:path";
import { MANIFEST_FILE, describePermissions, loadManifest, type PluginManifest } from "@tonearm/manifest";
import { PACKAGE_EXTENSION, PackageError, PackageFailure, pluginEntryPath, readPackageFile } from "@tonearm/packages";

/** The text `info` prints for `target`, a package file (by its extension) or a plugin id. */
export async function pluginInfoText(folder: string, target: string): Promise<string> {
  if (extname(target) === PACKAGE_EXTENSION) {
    const pkg = await readPackageFile(target);
    return details(pkg.manifest) + (await packageInformation(target));
  }
  const dir = pluginEntryPath(resolve(folder), target);
  try {
    await stat(dir);
  } catch (err) {
    throw new PackageError(PackageFailure.PluginNotFound, `plugin not found: ${target} (path: ${dir})`, { cause: err });
  }
  return details(await loadManifest(dir)) + (await filePermissions(dir));
}

function details(manifest: PluginManifest): string {
  const lines = [
    "",
    "Plugin Information:",
    `  Name:        ${manifest.name}`,
    `  Author:      ${manifest.author}`,
    `  Version:     ${manifest.version}`,
    `  Description: ${manifest.description}`,
    `  Capabilities:    ${manifest.capabilities.join(", ")}`,
    "  Required Permissions:",
  ];
  for (const permission of describePermissions(manifest)) {
    lines.push(`    ${permission.key}:`, ...permission.lines.map((line) => `      ${line}`), "");
  }
  return lines.map((line) => `${line}\n`).join("");
}

async function packageInformation(file: string): Promise<string> {
  const info = await stat(file);
  const sha256 = createHash("sha256").update(await readFile(file)).digest("hex");
  return [
    "Package Information:",
    `  File:        ${file}`,
    `  Size:        ${info.size} bytes (${(info.size / 1024).toFixed(2)} KB)`,
    `  SHA-256:     ${sha256}`,
    `  Modified:    ${rfc3339(info.mtime)}`,
  ]
    .map((line) => `${line}\n`)
    .join("");
}

async function filePermissions(dir: string): Promise<string> {
  const entry = await lstat(dir);
  const lines = ["File Permissions:", `  Plugin Directory: ${dir} (${goFileMode(entry)})`];
  if (entry.isSymbolicLink()) {
    const target = resolve(dirname(dir), await readlink(dir));
    lines.push(`  Symlink Target:   ${target} (${goFileMode(await stat(target))})`);
  }
  const manifest = await stat(join(dir, MANIFEST_FILE)).catch(() => undefined);
  lines.push(`  Manifest File:    ${manifest ? goFileMode(manifest) : ""}`);
  // The first *.wasm in name order, as Navidrome looks for it.
  const wasm = (await readdir(dir)).sort().find((name) => extname(name) === ".wasm");
  const wasmStats = wasm === undefined ? undefined : await stat(join(dir, wasm)).catch(() => undefined);
  if (wasmStats) lines.push(`  WASM File:        ${goFileMode(wasmStats)}`);
  return lines.map((line) => `${line}\n`).join("");
}

/** A mode as Go's `fs.FileMode.String()` prints it: `drwx------`, `Lrwxrwxrwx`, `-rw-------`. */
export function goFileMode(stats: Stats): string {
  let type = "";
  if (stats.isDirectory()) type += "d";
  if (stats.isSymbolicLink()) type += "L";
  if (stats.isBlockDevice() || stats.isCharacterDevice()) type += "D";
  if (stats.isFIFO()) type += "p";
  if (stats.isSocket()) type += "S";
  if (stats.mode & 0o4000) type += "u";
  if (stats.mode & 0o2000) type += "g";
  if (stats.isCharacterDevice()) type += "c";
  if (stats.mode & 0o1000) type += "t";
  const rwx = "rwxrwxrwx";
  let permissions = "";
  for (let bit = 0; bit < 9; bit++) permissions += stats.mode & (1 << (8 - bit)) ? rwx[bit] : "-";
  return `${type || "-"}${permissions}`;
}

/** Go's `time.RFC3339` in local time: `2025-11-25T10:40:00+01:00`, or `Z` at UTC. */
export function rfc3339(date: Date): string {
  const two = (n: number): string => String(n).padStart(2, "0");
  const offset = -date.getTimezoneOffset();
  const zone = offset === 0 ? "Z" : `${offset > 0 ? "+" : "-"}${two(Math.floor(Math.abs(offset) / 60))}:${two(Math.abs(offset) % 60)}`;
  return (
    `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}` +
    `T${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}${zone}`
  );
}
