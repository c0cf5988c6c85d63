/**
 * Reading `.ndp` plugin packages: ZIP archives holding `manifest.json`, `plugin.wasm` and any
 * documentation (ABI.md §6). Navidrome's `LoadPackage` rules decide which entry is which (the
 * lower-cased full name is exactly `manifest.json` / `plugin.wasm`); on top of them every entry is
 * checked before anything is written anywhere: no `..`, absolute path or NUL in its name (Zip
 * Slip), nothing but files and directories (no symlinks), no encryption, no two entries landing on
 * the same file, and sizes within limits (Navidrome silently truncates instead, ABI.md §14.5).
 */
import { stat } from "node:fs/promises";
import { extname, posix } from "node:path";
import { fromBufferPromise, getFileNameLowLevel, openPromise, type Entry, type ZipFile } from "yauzl";
import { ManifestError, parseManifest, type PluginManifest } from "@tonearm/manifest";
import { PackageError, PackageFailure } from "./errors.js";

export const PACKAGE_EXTENSION = ".ndp";
export const MANIFEST_ENTRY = "manifest.json";
export const WASM_ENTRY = "plugin.wasm";

export interface PackageLimits {
  /** Largest uncompressed entry. @default 10 MiB, Navidrome's limit */
  readonly maxEntryBytes?: number;
  /** Largest sum of uncompressed entries. @default 64 MiB */
  readonly maxTotalBytes?: number;
  /** Most entries, directories included. @default 1000 */
  readonly maxEntries?: number;
}

export const DEFAULT_PACKAGE_LIMITS: Required<PackageLimits> = Object.freeze({
  maxEntryBytes: 10 * 1024 * 1024,
  maxTotalBytes: 64 * 1024 * 1024,
  maxEntries: 1000,
});

/** A package whose every entry passed the checks, read into memory. */
export interface PluginPackage {
  readonly manifest: PluginManifest;
  /** `manifest.json` as written in the package. */
  readonly manifestJson: string;
  readonly wasm: Uint8Array;
  /** Every other file, by its normalised path inside the package. */
  readonly docs: ReadonlyMap<string, Uint8Array>;
}

/**
 * Reads a package file as `navidrome plugin info|install|update` do: the file must exist and end
 * in `.ndp`, then every entry is checked and read.
 * @throws PackageError with Navidrome's texts, e.g. `plugin package not found: x.ndp` or
 * `failed to load plugin package: illegal file path in plugin package: ../x`
 */
export async function readPackageFile(path: string, limits: PackageLimits = {}): Promise<PluginPackage> {
  try {
    await stat(path);
  } catch (err) {
    throw new PackageError(PackageFailure.NotFound, `plugin package not found: ${path}`, { cause: err });
  }
  if (extname(path) !== PACKAGE_EXTENSION) {
    throw new PackageError(PackageFailure.NotAPackage, `not a valid plugin package: ${path} (expected ${PACKAGE_EXTENSION} extension)`);
  }
  return readZip(() => openPromise(path, ZIP_OPTIONS), limits);
}

/** Reads a package from its bytes (e.g. uploaded to a registry), with the same checks. */
export function readPackage(bytes: Uint8Array, limits: PackageLimits = {}): Promise<PluginPackage> {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return readZip(() => fromBufferPromise(buffer, ZIP_OPTIONS), limits);
}

// Names are decoded here, not by yauzl, so that unsafe ones get Navidrome's error text; entry sizes
// are checked against what was actually inflated.
const ZIP_OPTIONS = { lazyEntries: true, decodeStrings: false, validateEntrySizes: true, autoClose: false } as const;

const UNIX_HOST = 3;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const FILE_TYPES: Readonly<Record<number, string>> = {
  0o120000: "symbolic link",
  0o140000: "socket",
  0o060000: "block device",
  0o020000: "character device",
  0o010000: "named pipe",
};
const STORED = 0;
const DEFLATED = 8;

async function readZip(open: () => Promise<ZipFile>, limits: PackageLimits): Promise<PluginPackage> {
  const { maxEntryBytes, maxTotalBytes, maxEntries } = { ...DEFAULT_PACKAGE_LIMITS, ...limits };
  let zip: ZipFile;
  try {
    zip = await open();
  } catch (err) {
    throw loadFailure(PackageFailure.Unreadable, `error opening .ndp file: ${describe(err)}`, err);
  }
  try {
    if (zip.entryCount > maxEntries) {
      throw loadFailure(PackageFailure.TooLarge, `plugin package has ${zip.entryCount} entries, more than the limit of ${maxEntries}`);
    }
    let manifest: Uint8Array | undefined;
    let wasm: Uint8Array | undefined;
    const docs = new Map<string, Uint8Array>();
    const seen = new Set<string>();
    let total = 0;
    for await (const entry of entries(zip)) {
      const name = entryName(entry);
      if (isDirectory(entry, name)) continue;
      checkEntry(entry, name);
      if (entry.uncompressedSize > maxEntryBytes) {
        throw loadFailure(PackageFailure.TooLarge, `error extracting file: size exceeds limit (${maxEntryBytes} bytes) for ${name}`);
      }
      total += entry.uncompressedSize;
      if (total > maxTotalBytes) {
        throw loadFailure(PackageFailure.TooLarge, `plugin package is larger than the limit of ${maxTotalBytes} bytes uncompressed`);
      }
      const role = name.toLowerCase();
      const key = role === MANIFEST_ENTRY || role === WASM_ENTRY ? role : posix.normalize(name);
      // Case-insensitive, so that no two entries overwrite each other on any file system.
      if (seen.has(key.toLowerCase())) throw loadFailure(PackageFailure.DuplicateEntry, `duplicate file in plugin package: ${name}`);
      seen.add(key.toLowerCase());
      const content = await readEntry(zip, entry, name, maxEntryBytes);
      if (key === MANIFEST_ENTRY) manifest = content;
      else if (key === WASM_ENTRY) wasm = content;
      else docs.set(key, content);
    }
    if (manifest === undefined) throw loadFailure(PackageFailure.MissingManifest, "plugin package missing required manifest.json");
    if (wasm === undefined) throw loadFailure(PackageFailure.MissingWasm, "plugin package missing required plugin.wasm");
    const manifestJson = new TextDecoder().decode(manifest);
    let parsed: PluginManifest;
    try {
      parsed = parseManifest(manifestJson);
    } catch (err) {
      if (!(err instanceof ManifestError)) throw err;
      throw loadFailure(PackageFailure.InvalidManifest, err.message, err);
    }
    return { manifest: parsed, manifestJson, wasm, docs };
  } finally {
    zip.close();
  }
}

async function* entries(zip: ZipFile): AsyncGenerator<Entry> {
  try {
    yield* zip.eachEntry();
  } catch (err) {
    if (err instanceof PackageError) throw err;
    throw loadFailure(PackageFailure.Unreadable, `error reading plugin package: ${describe(err)}`, err);
  }
}

function entryName(entry: Entry): string {
  // Honours the UTF-8 flag and Info-ZIP's Unicode path field; backslashes become slashes, so
  // `..\x` is caught below as `../x`.
  return getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, false);
}

function unixMode(entry: Entry): number | undefined {
  return entry.versionMadeBy >> 8 === UNIX_HOST ? (entry.externalFileAttributes >>> 16) & 0xffff : undefined;
}

function isDirectory(entry: Entry, name: string): boolean {
  const mode = unixMode(entry);
  return name.endsWith("/") || (mode !== undefined && (mode & S_IFMT) === S_IFDIR);
}

function checkEntry(entry: Entry, name: string): void {
  // Navidrome's rule: `..` anywhere in the name, even inside a file name, or an absolute path.
  if (name === "" || name.includes("..") || name.includes("\0") || name.startsWith("/") || /^[A-Za-z]:/.test(name)) {
    throw loadFailure(PackageFailure.IllegalPath, `illegal file path in plugin package: ${name}`);
  }
  const mode = unixMode(entry);
  const type = mode === undefined ? 0 : mode & S_IFMT;
  if (type !== 0 && type !== S_IFREG) {
    const kind = FILE_TYPES[type] ?? `file type 0o${type.toString(8)}`;
    throw loadFailure(PackageFailure.IllegalEntryType, `illegal file type in plugin package: ${name} (${kind})`);
  }
  if (entry.isEncrypted()) throw loadFailure(PackageFailure.UnsupportedEntry, `encrypted file in plugin package: ${name}`);
  if (entry.compressionMethod !== STORED && entry.compressionMethod !== DEFLATED) {
    throw loadFailure(
      PackageFailure.UnsupportedEntry,
      `unsupported compression method ${entry.compressionMethod} in plugin package: ${name}`,
    );
  }
}

async function readEntry(zip: ZipFile, entry: Entry, name: string, maxBytes: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    const stream = await zip.openReadStreamPromise(entry);
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      // yauzl already stops at the declared size; this holds even if it did not.
      if (size > maxBytes) {
        stream.destroy();
        throw loadFailure(PackageFailure.TooLarge, `error extracting file: size exceeds limit (${maxBytes} bytes) for ${name}`);
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof PackageError) throw err;
    throw loadFailure(PackageFailure.Unreadable, `error reading file in plugin package: ${name}: ${describe(err)}`, err);
  }
  const joined = Buffer.concat(chunks, size);
  return new Uint8Array(joined.buffer, joined.byteOffset, joined.byteLength);
}

function loadFailure(code: PackageFailure, detail: string, cause?: unknown): PackageError {
  return new PackageError(code, `failed to load plugin package: ${detail}`, cause === undefined ? undefined : { cause });
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
