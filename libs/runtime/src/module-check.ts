/**
 * Link-time checks done before a module is ever instantiated, with the error texts of Navidrome's
 * wazero host (V8's own LinkError names import indexes, not what a plugin author needs to read).
 */
import { WASI_FUNCTIONS } from "./wasi.js";

export function checkImports(module: WebAssembly.Module, linkedEnv: ReadonlySet<string>): string | undefined {
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.module === "env") {
      if (imp.kind !== "function" || !linkedEnv.has(imp.name)) return `"${imp.name}" is not exported in module "env"`;
    } else if (imp.module === "wasi_snapshot_preview1") {
      if (imp.kind !== "function" || !WASI_FUNCTIONS.has(imp.name)) {
        return `"${imp.name}" is not exported in module "wasi_snapshot_preview1"`;
      }
    } else {
      return `module[${imp.module}] not instantiated`;
    }
  }
  return undefined;
}
