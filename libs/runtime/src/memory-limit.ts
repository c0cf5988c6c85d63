/**
 * Rewrites a module's memory limits before it is compiled, so that `memory.grow` past the ceiling
 * fails inside the guest (Go aborts with an out-of-memory trap) instead of growing the process.
 * Only the memory section is touched; every other byte of the module is kept as is.
 */
export const WASM_PAGE_SIZE = 65_536;

const SECTION_MEMORY = 5;
const LIMITS_MIN = 0x00;
const LIMITS_MIN_MAX = 0x01;

export class MemoryLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MemoryLimitError";
  }
}

interface Cursor {
  pos: number;
}

function readU32(bytes: Uint8Array, cur: Cursor): number {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (cur.pos >= bytes.length) throw new MemoryLimitError("malformed module: truncated LEB128");
    const byte = bytes[cur.pos++]!;
    result += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) break;
    shift += 7;
    if (shift > 35) throw new MemoryLimitError("malformed module: LEB128 too long");
  }
  if (result > 0xffff_ffff) throw new MemoryLimitError("malformed module: LEB128 exceeds 32 bits");
  return result;
}

function writeU32(value: number, out: number[]): void {
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
}

export interface MemoryLimitResult {
  /** The module bytes to compile (the input itself when nothing had to change). */
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** The memory minimum the module declares, in pages (undefined without a memory section). */
  readonly minPages?: number;
  /** The maximum now in effect, in pages. */
  readonly maxPages?: number;
}

/**
 * Caps every memory the module defines at `limitPages`. A module whose minimum already exceeds the
 * ceiling is refused, as is memory64 or shared memory, which plugins of this ABI never use.
 */
export function limitMemory(module: Uint8Array, limitPages: number): MemoryLimitResult {
  if (module.length < 8 || module[0] !== 0 || module[1] !== 0x61 || module[2] !== 0x73 || module[3] !== 0x6d) {
    throw new MemoryLimitError("not a WebAssembly module (bad magic number)");
  }
  const cur: Cursor = { pos: 8 };
  while (cur.pos < module.length) {
    const sectionStart = cur.pos;
    const id = module[cur.pos++]!;
    const size = readU32(module, cur);
    const contentStart = cur.pos;
    const contentEnd = contentStart + size;
    if (contentEnd > module.length) throw new MemoryLimitError("malformed module: section exceeds module size");
    if (id !== SECTION_MEMORY) {
      cur.pos = contentEnd;
      continue;
    }
    const body: number[] = [];
    const count = readU32(module, cur);
    writeU32(count, body);
    let minPages: number | undefined;
    let maxPages: number | undefined;
    for (let i = 0; i < count; i++) {
      const flags = module[cur.pos++];
      if (flags !== LIMITS_MIN && flags !== LIMITS_MIN_MAX) {
        throw new MemoryLimitError(`unsupported memory limits flags 0x${(flags ?? 0).toString(16)} (shared or 64-bit memory)`);
      }
      const min = readU32(module, cur);
      const declaredMax = flags === LIMITS_MIN_MAX ? readU32(module, cur) : undefined;
      if (min > limitPages) {
        throw new MemoryLimitError(
          `memory minimum of ${min} pages (${mib(min)}) exceeds the limit of ${limitPages} pages (${mib(limitPages)})`,
        );
      }
      const max = Math.min(declaredMax ?? limitPages, limitPages);
      body.push(LIMITS_MIN_MAX);
      writeU32(min, body);
      writeU32(max, body);
      minPages ??= min;
      maxPages ??= max;
    }
    if (cur.pos !== contentEnd) throw new MemoryLimitError("malformed module: memory section size mismatch");
    const header: number[] = [SECTION_MEMORY];
    writeU32(body.length, header);
    const out = new Uint8Array(sectionStart + header.length + body.length + (module.length - contentEnd));
    out.set(module.subarray(0, sectionStart), 0);
    out.set(header, sectionStart);
    out.set(body, sectionStart + header.length);
    out.set(module.subarray(contentEnd), sectionStart + header.length + body.length);
    return { bytes: out, minPages: minPages ?? 0, maxPages: maxPages ?? limitPages };
  }
  return { bytes: module.buffer instanceof ArrayBuffer ? (module as Uint8Array<ArrayBuffer>) : new Uint8Array(module) };
}

function mib(pages: number): string {
  return `${(pages * WASM_PAGE_SIZE) / (1024 * 1024)} MiB`;
}
