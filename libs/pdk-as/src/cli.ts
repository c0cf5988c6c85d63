/**
 * `tonearm-pdk build [folder]`: compiles a plugin written with the PDK (the folder holds
 * `manifest.json` and `assembly/index.ts`) into `<folder>/build/<name>/{plugin.wasm,manifest.json}`
 * (with the folder's README and LICENSE, when it has them),
 * a plugins folder of its own for `tonearm call --folder`, `tonearm plugin pack` or copying into
 * Tonearm's or Navidrome's plugins folder. Exit status 1 with the reason on stderr on failure.
 */
import { copyFile, mkdir, readFile, readdir, rename } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { parseManifest } from "@tonearm/manifest";
import { buildPlugin, PluginBuildError } from "./build.js";

const USAGE = `usage: tonearm-pdk build [folder] [--out <dir>] [--debug] [--no-optimize]

  folder        the plugin's folder, holding manifest.json and assembly/index.ts (default: .)
  --out <dir>   where plugin.wasm and manifest.json go (default: <folder>/build/<manifest name>)
  --debug       keep function names in the module, for readable traps
  --no-optimize skip Binaryen's optimizer (faster builds, bigger modules)`;

const PACKAGED_DOCS = /^(README|LICEN[CS]E)(\.(md|txt))?$/i;

export interface BuildCommandOptions {
  readonly folder: string;
  readonly out?: string;
  readonly debug?: boolean;
  readonly optimize?: boolean;
}

/** Builds the plugin of `folder`; resolves with the output folder. */
export async function buildCommand(options: BuildCommandOptions): Promise<{ outDir: string; bytes: number; durationMs: number }> {
  const folder = resolve(options.folder);
  const manifestFile = join(folder, "manifest.json");
  const manifestText = await readFile(manifestFile, "utf8").catch(() => {
    throw new Error(`${manifestFile} not found: run tonearm-pdk build in (or name) the plugin's folder`);
  });
  // The host's own validation, so a manifest Navidrome or Tonearm would refuse fails here already.
  let name: string;
  try {
    name = parseManifest(manifestText).name;
  } catch (err) {
    throw new Error(`${manifestFile}: ${(err as Error).message}`, { cause: err });
  }
  const outDir = resolve(options.out ?? join(folder, "build", name));
  const result = await buildPlugin({
    entry: join(folder, "assembly", "index.ts"),
    outFile: join(outDir, "plugin.wasm"),
    debug: options.debug ?? false,
    optimize: options.optimize ?? true,
  });
  await mkdir(outDir, { recursive: true });
  // The manifest, and the README and licence `tonearm plugin pack` puts into a package when present.
  for (const name of ["manifest.json", ...(await readdir(folder)).filter((f) => PACKAGED_DOCS.test(f))]) {
    const tmp = join(outDir, `${name}.${process.pid}.tmp`);
    await copyFile(join(folder, name), tmp);
    await rename(tmp, join(outDir, name));
  }
  if (result.diagnostics.trim() !== "") process.stderr.write(result.diagnostics);
  return { outDir, bytes: result.binary.length, durationMs: result.durationMs };
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { out: { type: "string" }, debug: { type: "boolean" }, "no-optimize": { type: "boolean" }, help: { type: "boolean", short: "h" } },
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 1;
  }
  const [command, folder = ".", ...rest] = parsed.positionals;
  if (parsed.values.help || command === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined && !parsed.values.help ? 1 : 0;
  }
  if (command !== "build" || rest.length > 0) {
    process.stderr.write(`unknown command "${parsed.positionals.join(" ")}"\n${USAGE}\n`);
    return 1;
  }
  try {
    const built = await buildCommand({
      folder,
      ...(parsed.values.out !== undefined ? { out: parsed.values.out } : {}),
      debug: parsed.values.debug ?? false,
      optimize: !(parsed.values["no-optimize"] ?? false),
    });
    const inside = relative(process.cwd(), built.outDir);
    const where = inside.startsWith("..") ? built.outDir : inside || ".";
    process.stdout.write(`built ${where}/plugin.wasm (${Math.ceil(built.bytes / 1024)} KiB) in ${(built.durationMs / 1000).toFixed(1)} s\n`);
    return 0;
  } catch (err) {
    const message = err instanceof PluginBuildError ? err.message : `error: ${(err as Error).message}`;
    process.stderr.write(`${message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
