import { mkdir, readFile, readdir, rename, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, relative, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

export interface BuildPluginOptions {
  /** The plugin's AssemblyScript entry file (it re-exports `@tonearm/pdk-as/exports`). */
  entry: string;
  /** Where to write `plugin.wasm`; folders are created. Without it the binary is only returned. */
  outFile?: string;
  /** Also write the text format here (useful to inspect imports and exports). */
  textFile?: string;
  /**
   * Run Binaryen's optimizer (`-O3`, default shrink level).
   * @default true
   */
  optimize?: boolean;
  /**
   * Keep function names in the binary, for readable traps.
   * @default false
   */
  debug?: boolean;
  /**
   * Folder from which packages (`@tonearm/pdk-as`) are looked up in `node_modules`, walking up.
   * An `asconfig.json` in it is merged under the PDK's options.
   * @default the entry's folder
   */
  baseDir?: string;
  /** Further `asc` command-line arguments, appended last. */
  ascArgs?: readonly string[];
}

export interface BuildPluginResult {
  readonly binary: Uint8Array;
  /** Absolute path of the written module, when `outFile` was given. */
  readonly outFile: string | undefined;
  /** Compiler warnings (errors throw). */
  readonly diagnostics: string;
  readonly durationMs: number;
}

/** The AssemblyScript compiler rejected the plugin; `diagnostics` holds its report. */
export class PluginBuildError extends Error {
  readonly diagnostics: string;

  constructor(entry: string, diagnostics: string, options?: ErrorOptions) {
    super(`failed to build plugin ${entry}:\n${diagnostics}`, options);
    this.name = "PluginBuildError";
    this.diagnostics = diagnostics;
  }
}

interface AsConfig {
  options?: { lib?: string | string[]; use?: string | string[]; exportStart?: string; runtime?: string };
}

const PDK_ROOT = fileURLToPath(new URL("../", import.meta.url));
const require = createRequire(import.meta.url);

/**
 * Compiles an AssemblyScript plugin into a WASI reactor module the go-plugin ABI accepts: exports
 * `_initialize` and `memory` (plus the PDK's exports), imports only WASI and the `env` functions
 * its code calls. The options are those of the PDK's `asconfig.json` (the wasi-shim's WASI
 * bindings, `_initialize` as the start export, the incremental GC).
 */
export async function buildPlugin(options: BuildPluginOptions): Promise<BuildPluginResult> {
  const started = performance.now();
  const entry = resolve(options.entry);
  const baseDir = resolve(options.baseDir ?? dirname(entry));
  const argv = [relative(baseDir, entry), "--baseDir", baseDir, ...(await compilerArgs()), "--outFile", "plugin.wasm", "--noColors"];
  if (options.textFile) argv.push("--textFile", "plugin.wat");
  if (options.optimize ?? true) argv.push("--optimize");
  if (options.debug) argv.push("--debug");
  argv.push(...(options.ascArgs ?? []));

  const outputs = new Map<string, Uint8Array | string>();
  let stderr = "";
  const asc = await import("assemblyscript/asc");
  const result = await asc.main(argv, {
    stdout: { write: () => undefined },
    stderr: { write: (chunk) => void (stderr += typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk)) },
    // asc resolves some paths against the working directory and others against baseDir; resolve
    // every one against baseDir so builds work from anywhere.
    readFile: (name, dir) => readFile(resolve(baseDir, dir, name), "utf8").catch(() => null),
    listFiles: (name, dir) =>
      readdir(resolve(baseDir, dir, name)).then(
        (files) => files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")),
        () => null,
      ),
    // Outputs stay in memory; the files are written below, atomically.
    writeFile: (name, contents) => void outputs.set(name, contents),
  });
  if (result.error) throw new PluginBuildError(entry, stderr || result.error.message, { cause: result.error });

  const binary = outputs.get("plugin.wasm");
  if (!(binary instanceof Uint8Array)) throw new PluginBuildError(entry, `${stderr}\nthe compiler produced no binary`);
  const outFile = options.outFile ? resolve(options.outFile) : undefined;
  if (outFile) await writeAtomic(outFile, binary);
  const text = outputs.get("plugin.wat");
  if (options.textFile && text !== undefined) await writeAtomic(resolve(options.textFile), text);
  return { binary, outFile, diagnostics: stderr, durationMs: performance.now() - started };
}

/**
 * Arguments for the PDK's asconfig.json and the wasi-shim config it extends. The shim is resolved from the PDK, which depends on it; the config's `extends`
 * path serves command-line builds from a plugin project's node_modules.
 */
async function compilerArgs(): Promise<string[]> {
  const args: string[] = [];
  const files = [`${PDK_ROOT}asconfig.json`, require.resolve("@assemblyscript/wasi-shim/asconfig.json")];
  // The PDK config first: as in asc, a scalar option set by it wins and lists accumulate.
  for (const file of files) {
    const { options: o = {} } = JSON.parse(await readFile(file, "utf8")) as AsConfig;
    for (const lib of list(o.lib)) args.push("--lib", resolve(dirname(file), lib));
    for (const use of list(o.use)) args.push("--use", use);
    if (o.exportStart && !args.includes("--exportStart")) args.push("--exportStart", o.exportStart);
    if (o.runtime && !args.includes("--runtime")) args.push("--runtime", o.runtime);
  }
  return args;
}

function list(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : value.split(",").map((s) => s.trim());
}

async function writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}
