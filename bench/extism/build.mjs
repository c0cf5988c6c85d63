// Compiles bench/extism/plugin.ts with AssemblyScript and @extism/as-pdk into
// bench/.build/extism/plugin.wasm; returns the file's path.
import { execFile } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const here = fileURLToPath(new URL(".", import.meta.url));
const outFile = fileURLToPath(new URL("../.build/extism/plugin.wasm", import.meta.url));
const ascBin = createRequire(import.meta.url).resolve("assemblyscript/bin/asc.js");

export async function buildExtismPlugin() {
  await mkdir(fileURLToPath(new URL("../.build/extism/", import.meta.url)), { recursive: true });
  // A process of its own: asc keeps compiler state between calls in one process, and the fixture
  // builds before this one link the WASI shim, which this plugin must not get.
  const args = [ascBin, "plugin.ts", "--baseDir", here, "--outFile", outFile, "--optimize", "--runtime", "stub", "--use", "abort=plugin/_abort", "--exportRuntime"];
  try {
    await promisify(execFile)(process.execPath, args, { cwd: here });
  } catch (err) {
    throw new Error(`extism plugin did not build: ${err.message}\n${err.stderr ?? ""}`);
  }
  return outFile;
}
