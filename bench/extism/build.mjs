// Compiles bench/extism/plugin.ts with AssemblyScript and @extism/as-pdk into
// bench/.build/extism/plugin.wasm; returns the file's path.
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const outFile = fileURLToPath(new URL("../.build/extism/plugin.wasm", import.meta.url));

export async function buildExtismPlugin() {
  await mkdir(fileURLToPath(new URL("../.build/extism/", import.meta.url)), { recursive: true });
  const asc = await import("assemblyscript/asc");
  let stderr = "";
  const result = await asc.main(
    ["plugin.ts", "--baseDir", here, "--outFile", outFile, "--optimize", "--runtime", "stub", "--use", "abort=plugin/_abort", "--exportRuntime"],
    { stderr: { write: (s) => ((stderr += s), true) }, stdout: { write: () => true } },
  );
  if (result.error) throw new Error(`extism plugin did not build: ${result.error.message}\n${stderr}`);
  return outFile;
}
