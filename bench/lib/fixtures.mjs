// Plugin folders of the benchmarks, built or copied for each run.
import { cp, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fixturePaths } from "@tonearm/test-harness";
import { buildAssemblyScriptPlugins } from "../../test/scripts/build-as-fixtures.mjs";

const BENCH_BUILD = fileURLToPath(new URL("../.build/", import.meta.url));

/** Builds the benchmark's own plugins (bench/fixtures/plugins) into bench/.build/plugins. */
export async function buildBenchPlugins() {
  await buildAssemblyScriptPlugins({
    label: "bench plugins",
    sourceDir: fileURLToPath(new URL("../fixtures/plugins/", import.meta.url)),
    outDir: `${BENCH_BUILD}plugins/`,
    stampFile: `${BENCH_BUILD}.stamps/plugins.json`,
    quiet: true,
  });
}

export const pluginSource = {
  fixture: (name) => fixturePaths.plugin("plugins", name),
  go: (name) => fixturePaths.plugin("go", name),
  /** An example plugin as `npm run build:plugins` leaves it. */
  example: (name) => fileURLToPath(new URL(`../../examples/.build/${name}`, import.meta.url)),
  bench: (name) => `${BENCH_BUILD}plugins/${name}`,
};

/** A fresh temporary folder. */
export function tempFolder(prefix) {
  return mkdtemp(join(tmpdir(), `tonearm-bench-${prefix}-`));
}

/** Copies a built plugin folder into `folder` under the id `id`. */
export function installPlugin(source, folder, id) {
  return cp(source, join(folder, id), { recursive: true });
}

/** Writes a Tonearm config file (TOML lines) into `folder`; returns its path. */
export async function writeConfig(folder, lines) {
  const file = join(folder, "tonearm.toml");
  await writeFile(file, `${lines.join("\n")}\n`);
  return file;
}
