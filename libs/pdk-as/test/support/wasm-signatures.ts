// Function signatures of a module's imports and exports, read through wabt's text output (Node 20
// has no type reflection on WebAssembly.Module).
import wabtInit from "wabt";

export interface ModuleSignatures {
  /** `"module.name"` → `"(i32 i32) -> (i64)"`, functions only. */
  readonly imports: ReadonlyMap<string, string>;
  /** Export name → signature for functions, `"memory"` for memories. */
  readonly exports: ReadonlyMap<string, string>;
}

export async function readSignatures(bytes: Uint8Array): Promise<ModuleSignatures> {
  const wabt = await wabtInit();
  const module = wabt.readWasm(bytes, { readDebugNames: false });
  let text: string;
  try {
    text = module.toText({});
  } finally {
    module.destroy();
  }

  const types: string[] = [];
  for (const m of text.matchAll(/^\s*\(type \(;(\d+);\) \(func(.*)\)\)$/gm)) {
    const body = m[2] ?? "";
    const params = /\(param ([^)]*)\)/.exec(body)?.[1] ?? "";
    const results = /\(result ([^)]*)\)/.exec(body)?.[1] ?? "";
    types[Number(m[1])] = `(${params}) -> (${results})`;
  }
  const funcs: string[] = []; // function index space: imports first, then definitions
  const imports = new Map<string, string>();
  for (const m of text.matchAll(/^\s*\(import "([^"]+)" "([^"]+)" \(func \(;(\d+);\) \(type (\d+)\)\)\)$/gm)) {
    const sig = types[Number(m[4])] ?? "?";
    funcs[Number(m[3])] = sig;
    imports.set(`${m[1]}.${m[2]}`, sig);
  }
  for (const m of text.matchAll(/^\s*\(func \(;(\d+);\) \(type (\d+)\)/gm)) funcs[Number(m[1])] = types[Number(m[2])] ?? "?";
  const exports = new Map<string, string>();
  for (const m of text.matchAll(/^\s*\(export "([^"]+)" \((func|memory) (\d+)\)\)$/gm)) {
    exports.set(m[1] as string, m[2] === "memory" ? "memory" : (funcs[Number(m[3])] ?? "?"));
  }
  return { imports, exports };
}
