#!/usr/bin/env node
// Builds the example plugins (examples/<name>/: a manifest.json and assembly/index.ts written with
// @tonearm/pdk-as) into examples/.build/<name>/{plugin.wasm,manifest.json}, a folder usable as a
// plugins folder (`npx tonearm call --folder examples/.build ...`). Uses the fixture builder, so
// the same rules hold: needs `tsc -b` first, and plugins whose inputs are unchanged are skipped.
// Code shared by the examples (examples/shared/) counts as an input of every example.
//
//   node examples/scripts/build-examples.mjs            build every example
//   node examples/scripts/build-examples.mjs <name>...  build only these
import process from "node:process";
import { URL, fileURLToPath, pathToFileURL } from "node:url";
import { buildAssemblyScriptPlugins } from "../../test/scripts/build-as-fixtures.mjs";

const EXAMPLES_DIR = fileURLToPath(new URL("../", import.meta.url));
/** Where the built plugins land: one folder per example. */
export const EXAMPLES_BUILD_DIR = fileURLToPath(new URL("../.build/", import.meta.url));

/**
 * Builds the examples whose inputs changed.
 *
 * @param {{ only?: string[], quiet?: boolean }} [options] `only`: build just these examples.
 * @returns {Promise<{ built: string[], upToDate: string[] }>}
 */
export function buildExamples(options = {}) {
  return buildAssemblyScriptPlugins({
    label: "examples",
    sourceDir: EXAMPLES_DIR,
    outDir: EXAMPLES_BUILD_DIR,
    stampFile: `${EXAMPLES_BUILD_DIR}.stamps.json`,
    extraInputs: [fileURLToPath(new URL("../shared/", import.meta.url)), fileURLToPath(import.meta.url)],
    ...options,
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const names = process.argv.slice(2);
  await buildExamples(names.length > 0 ? { only: names } : {});
}
