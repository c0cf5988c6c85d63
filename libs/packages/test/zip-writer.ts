// A raw ZIP writer for tests: unlike a real archiver it writes any entry name, file type and
// declared size, so hostile packages (Zip Slip, symlinks, lying headers) can be built in a test.
import { crc32, deflateRawSync } from "node:zlib";

export interface RawEntry {
  readonly name: string;
  readonly data?: string | Uint8Array;
  /** @default "deflate" */
  readonly method?: "store" | "deflate";
  /** Unix mode (type and permission bits), e.g. 0o120777 for a symlink. @default 0o100644 */
  readonly unixMode?: number;
  /** The uncompressed size written in the headers, to lie about it. @default the real size */
  readonly declaredSize?: number;
  /** General purpose flags, e.g. 1 for "encrypted". UTF-8 (0x800) is always set. */
  readonly flags?: number;
}

const UNIX_HOST = 3;
const DOS_DATE_1980_01_01 = 0x21;

export function zipArchive(entries: readonly RawEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, "utf8");
    const raw = Buffer.from(entry.data ?? "");
    const method = entry.method === "store" ? 0 : 8;
    const body = method === 8 ? deflateRawSync(raw) : raw;
    const crc = crc32(raw);
    const size = entry.declaredSize ?? raw.length;
    const flags = 0x800 | (entry.flags ?? 0);

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(DOS_DATE_1980_01_01, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, body);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((UNIX_HOST << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(DOS_DATE_1980_01_01, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((entry.unixMode ?? 0o100644) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** A manifest as Navidrome's tests write them. */
export function manifestJson(name: string, overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    name,
    author: "Test Author",
    version: "1.0.0",
    description: "Plugin for testing",
    website: "https://test.navidrome.org",
    capabilities: ["MetadataAgent", "Scrobbler"],
    permissions: {},
    ...overrides,
  });
}

/** The smallest valid WebAssembly module: magic and version. */
export const EMPTY_MODULE = Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00);

/** A valid package of `name` with extra entries appended. */
export function validPackage(name: string, extra: readonly RawEntry[] = [], overrides: Record<string, unknown> = {}): Buffer {
  return zipArchive([{ name: "manifest.json", data: manifestJson(name, overrides) }, { name: "plugin.wasm", data: EMPTY_MODULE }, ...extra]);
}
