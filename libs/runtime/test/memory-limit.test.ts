import { describe, expect, it } from "vitest";
import initWabt from "wabt";
import { MemoryLimitError, limitMemory } from "@tonearm/runtime";

const wabt = await initWabt();
const wat = (text: string): Uint8Array => {
  const mod = wabt.parseWat("test.wat", text);
  try {
    return mod.toBinary({}).buffer;
  } finally {
    mod.destroy();
  }
};

const growModule = (memory: string): Uint8Array =>
  wat(`(module ${memory} (func (export "grow") (param i32) (result i32) local.get 0 memory.grow) (func (export "pages") (result i32) memory.size))`);

function instantiate(bytes: Uint8Array): { grow: (n: number) => number; pages: () => number } {
  return new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>)).exports as never;
}

describe("limitMemory", () => {
  it("gives a memory without maximum the ceiling, so memory.grow past it fails", () => {
    const original = growModule(`(memory (export "memory") 2)`);
    expect(instantiate(original).grow(100)).toBe(2); // unlimited before the rewrite

    const limited = limitMemory(original, 10);
    expect(limited).toMatchObject({ minPages: 2, maxPages: 10 });
    const inst = instantiate(limited.bytes);
    expect(inst.grow(8)).toBe(2);
    expect(inst.grow(1)).toBe(-1);
    expect(inst.pages()).toBe(10);
  });

  it("keeps a declared maximum below the ceiling", () => {
    const limited = limitMemory(growModule(`(memory (export "memory") 1 3)`), 10);
    expect(limited.maxPages).toBe(3);
    expect(instantiate(limited.bytes).grow(3)).toBe(-1);
  });

  it("lowers a declared maximum above the ceiling", () => {
    const limited = limitMemory(growModule(`(memory (export "memory") 1 1000)`), 4);
    expect(limited.maxPages).toBe(4);
    expect(instantiate(limited.bytes).grow(4)).toBe(-1);
  });

  it("refuses a module whose minimum exceeds the ceiling", () => {
    expect(() => limitMemory(growModule(`(memory (export "memory") 40000)`), 4096)).toThrow(
      new MemoryLimitError("memory minimum of 40000 pages (2500 MiB) exceeds the limit of 4096 pages (256 MiB)"),
    );
  });

  it("leaves a module without memory unchanged", () => {
    const bytes = wat(`(module (func (export "f")))`);
    expect(limitMemory(bytes, 10).bytes).toEqual(bytes);
  });

  it("keeps every other section byte for byte", () => {
    const original = growModule(`(memory (export "memory") 2)`);
    const limited = limitMemory(original, 300).bytes; // 300 pages needs a two-byte LEB128
    expect(WebAssembly.Module.exports(new WebAssembly.Module(limited as Uint8Array<ArrayBuffer>)).map((e) => e.name)).toEqual([
      "memory",
      "grow",
      "pages",
    ]);
    expect(limited.length).toBe(original.length + 2); // flags 0x00 → 0x01 plus a two-byte maximum
  });

  it("rejects bytes that are not a module", () => {
    expect(() => limitMemory(new TextEncoder().encode("not wasm at all"), 10)).toThrow(MemoryLimitError);
  });
});
