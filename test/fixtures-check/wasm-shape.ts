// Reads what a host checks before running a plugin from a module's bytes: function signatures of
// imports and exports, and the memory limits. Node 20 has no type reflection on WebAssembly.Module.

export interface FuncType {
  readonly params: readonly string[];
  readonly results: readonly string[];
}

export interface Limits {
  readonly min: number;
  readonly max: number | undefined;
}

export interface ImportShape {
  readonly module: string;
  readonly name: string;
  readonly kind: "function" | "table" | "memory" | "global";
  /** Functions only. */
  readonly type?: FuncType;
}

export interface ExportShape {
  readonly kind: "function" | "table" | "memory" | "global" | "tag";
  /** Functions only. */
  readonly type?: FuncType;
}

export interface ModuleShape {
  readonly imports: readonly ImportShape[];
  readonly exports: ReadonlyMap<string, ExportShape>;
  /** The first memory, imported or defined. */
  readonly memory: Limits | undefined;
}

const VALTYPES: Record<number, string> = { 0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64", 0x7b: "v128", 0x70: "funcref", 0x6f: "externref" };
const KINDS = ["function", "table", "memory", "global", "tag"] as const;
const SECTION = { type: 1, import: 2, function: 3, memory: 5, export: 7 } as const;

class Reader {
  pos = 0;
  constructor(readonly bytes: Uint8Array, readonly end = bytes.length) {}

  byte(): number {
    if (this.pos >= this.end) throw new RangeError("unexpected end of module");
    return this.bytes[this.pos++] as number;
  }

  u32(): number {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const b = this.byte();
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
    }
  }

  name(): string {
    const len = this.u32();
    const text = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + len));
    this.pos += len;
    return text;
  }

  valtype(): string {
    const b = this.byte();
    return VALTYPES[b] ?? `0x${b.toString(16)}`;
  }

  limits(): Limits {
    const flags = this.byte();
    const min = this.u32();
    return { min, max: flags & 1 ? this.u32() : undefined };
  }
}

interface Section {
  readonly id: number;
  /** Offset of the section id byte, of its contents, and one past its end. */
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

function sections(bytes: Uint8Array): Section[] {
  const magic = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  if (!magic.every((b, i) => bytes[i] === b)) throw new Error("not a WebAssembly 1.0 module");
  const r = new Reader(bytes);
  r.pos = 8;
  const found: Section[] = [];
  while (r.pos < bytes.length) {
    const start = r.pos;
    const id = r.byte();
    const size = r.u32();
    found.push({ id, start, contentStart: r.pos, end: r.pos + size });
    r.pos += size;
  }
  return found;
}

export function readShape(bytes: Uint8Array): ModuleShape {
  const types: FuncType[] = [];
  const funcTypes: FuncType[] = []; // the function index space: imports first
  const imports: ImportShape[] = [];
  const exports = new Map<string, ExportShape>();
  let memory: Limits | undefined;

  for (const s of sections(bytes)) {
    const r = new Reader(bytes, s.end);
    r.pos = s.contentStart;
    if (s.id === SECTION.type) {
      for (let n = r.u32(); n > 0; n--) {
        if (r.byte() !== 0x60) throw new Error("unsupported type form");
        const params = Array.from({ length: r.u32() }, () => r.valtype());
        const results = Array.from({ length: r.u32() }, () => r.valtype());
        types.push({ params, results });
      }
    } else if (s.id === SECTION.import) {
      for (let n = r.u32(); n > 0; n--) {
        const module = r.name();
        const name = r.name();
        const kind = r.byte();
        if (kind === 0) {
          const type = types[r.u32()];
          if (!type) throw new Error(`import ${module}.${name} has an unknown type`);
          funcTypes.push(type);
          imports.push({ module, name, kind: "function", type });
        } else if (kind === 1) {
          r.byte();
          r.limits();
          imports.push({ module, name, kind: "table" });
        } else if (kind === 2) {
          const limits = r.limits();
          memory ??= limits;
          imports.push({ module, name, kind: "memory" });
        } else if (kind === 3) {
          r.valtype();
          r.byte();
          imports.push({ module, name, kind: "global" });
        } else {
          throw new Error(`unsupported import kind ${kind}`);
        }
      }
    } else if (s.id === SECTION.function) {
      for (let n = r.u32(); n > 0; n--) {
        const type = types[r.u32()];
        if (!type) throw new Error("function with an unknown type");
        funcTypes.push(type);
      }
    } else if (s.id === SECTION.memory) {
      if (r.u32() > 0) memory ??= r.limits();
    } else if (s.id === SECTION.export) {
      for (let n = r.u32(); n > 0; n--) {
        const name = r.name();
        const kind = KINDS[r.byte()];
        const index = r.u32();
        if (!kind) throw new Error(`export ${name} has an unknown kind`);
        exports.set(name, kind === "function" ? { kind, type: funcTypes[index] } : { kind });
      }
    }
  }
  return { imports, exports, memory };
}

/** `(i32, i32) -> i64` and friends, for readable assertions. */
export function signature(type: FuncType | undefined): string {
  if (!type) return "none";
  return `(${type.params.join(", ")}) -> (${type.results.join(", ")})`;
}

/**
 * A copy of the module with its (defined, single) memory given a maximum, as a host enforcing a
 * memory ceiling does before compiling.
 */
export function withMemoryMaximum(bytes: Uint8Array, maxPages: number): Uint8Array<ArrayBuffer> {
  const s = sections(bytes).find((x) => x.id === SECTION.memory);
  if (!s) throw new Error("module defines no memory");
  const r = new Reader(bytes, s.end);
  r.pos = s.contentStart;
  if (r.u32() !== 1) throw new Error("expected exactly one memory");
  const { min } = r.limits();
  const content = [1, 0x01, ...leb(min), ...leb(maxPages)];
  const section = [SECTION.memory, ...leb(content.length), ...content];
  const out = new Uint8Array(bytes.length - (s.end - s.start) + section.length);
  out.set(bytes.subarray(0, s.start), 0);
  out.set(section, s.start);
  out.set(bytes.subarray(s.end), s.start + section.length);
  return out;
}

function leb(value: number): number[] {
  const out: number[] = [];
  do {
    let b = value & 0x7f;
    value >>>= 7;
    if (value !== 0) b |= 0x80;
    out.push(b);
  } while (value !== 0);
  return out;
}
