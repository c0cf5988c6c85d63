/**
 * Writing `.ndp` packages from a plugin folder: a ZIP of `manifest.json` and `plugin.wasm` at the
 * archive root, plus the folder's top-level README / LICENSE / CHANGELOG files, as Navidrome
 * documents the format. The folder is checked first, so a package this writes installs.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { ZipFile } from "yazl";
import type { PluginManifest } from "@tonearm/manifest";
import { PackageError, PackageFailure } from "./errors.js";
import { checkPluginFolder } from "./ndp-install.js";
import { DEFAULT_PACKAGE_LIMITS, MANIFEST_ENTRY, WASM_ENTRY } from "./ndp-read.js";

const DOC_FILE = /^(README|LICENSE|CHANGELOG)(\.[A-Za-z0-9]+)?$/i;
const REGULAR_FILE_MODE = 0o100644;

export interface PackedPlugin {
  readonly manifest: PluginManifest;
  /** The archive. */
  readonly bytes: Uint8Array;
  /** Entry names, in archive order. */
  readonly entries: readonly string[];
}

/**
 * Packs a plugin folder.
 * @throws PackageError `invalid_manifest` / `invalid_wasm` for a folder that would not load, or
 * `too_large` for a file over the package entry limit.
 */
export async function packPluginFolder(dir: string): Promise<PackedPlugin> {
  const manifest = await checkPluginFolder(dir);
  const docs = (await readdir(dir, { withFileTypes: true }))
    .filter((entry) => entry.isFile() && DOC_FILE.test(entry.name))
    .map((entry) => entry.name)
    .sort();
  const entries = [MANIFEST_ENTRY, WASM_ENTRY, ...docs];
  const zip = new ZipFile();
  for (const name of entries) {
    const content = await readFile(join(dir, name));
    if (content.length > DEFAULT_PACKAGE_LIMITS.maxEntryBytes) {
      throw new PackageError(
        PackageFailure.TooLarge,
        `${name} is ${content.length} bytes, more than the ${DEFAULT_PACKAGE_LIMITS.maxEntryBytes}-byte limit of a package entry`,
      );
    }
    zip.addBuffer(content, name, { mode: REGULAR_FILE_MODE });
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream as AsyncIterable<Buffer>) chunks.push(chunk);
  const bytes = Buffer.concat(chunks);
  return { manifest, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), entries };
}
