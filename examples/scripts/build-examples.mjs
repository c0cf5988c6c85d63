#!/usr/bin/env node
// Builds the example plugins into examples/.build/<name>/{plugin.wasm,manifest.json}, a folder
// usable as a plugins folder (`npx tonearm call --folder examples/.build ...`):
//   - AssemblyScript examples (examples/<name>/: manifest.json and assembly/index.ts, written with
//     @tonearm/pdk-as) with the fixture builder;
//   - Go examples (examples/<name>/go/: a Go module, standard library only) into <name>-go/, with
//     the example's manifest.json, when Go >= 1.24 is found as for the Go fixtures; without Go they
//     are skipped with a note.
// Then it links every fixture plugin and example into .build/dev-plugins/, the folder `npm start`
// runs (see tonearm.dev.toml). Plugins whose inputs are unchanged are skipped; needs `tsc -b` first.
//
//   node examples/scripts/build-examples.mjs            build every example
//   node examples/scripts/build-examples.mjs <name>...  build only these (<name>-go for a Go build)
import console from "node:console";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { URL, fileURLToPath, pathToFileURL } from "node:url";
import { buildAssemblyScriptPlugins } from "../../test/scripts/build-as-fixtures.mjs";
import { compile as compileGo, findGo } from "../../test/scripts/build-go-fixtures.mjs";
import { linkDevPlugins } from "./dev-plugins.mjs";

const EXAMPLES_DIR = fileURLToPath(new URL("../", import.meta.url));
/** Where the built plugins land: one folder per example (and per Go build, `<name>-go`). */
export const EXAMPLES_BUILD_DIR = fileURLToPath(new URL("../.build/", import.meta.url));
const GO_STAMP_FILE = `${EXAMPLES_BUILD_DIR}.stamps-go.json`;
/** The suffix of a Go build's folder: examples/<name>/go/ builds into <name>-go/. */
export const GO_SUFFIX = "-go";

/** Examples written in AssemblyScript. */
function assemblyScriptExamples() {
  return exampleDirs().filter((name) => existsSync(`${EXAMPLES_DIR}${name}/manifest.json`) && existsSync(`${EXAMPLES_DIR}${name}/assembly/index.ts`));
}

/** Examples with a Go build, by the folder name of that build. */
export function goExamples() {
  return exampleDirs()
    .filter((name) => existsSync(`${EXAMPLES_DIR}${name}/go/go.mod`) && existsSync(`${EXAMPLES_DIR}${name}/manifest.json`))
    .map((name) => `${name}${GO_SUFFIX}`);
}

function exampleDirs() {
  return readdirSync(EXAMPLES_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith("."))
    .map((e) => e.name)
    .sort();
}

/**
 * Builds the examples whose inputs changed.
 *
 * @param {{ only?: string[], quiet?: boolean }} [options] `only`: build just these examples.
 * @returns {Promise<{ built: string[], upToDate: string[], skipped: string[] }>} `skipped`: Go builds without Go
 */
export async function buildExamples(options = {}) {
  const asNames = assemblyScriptExamples();
  const goNames = goExamples();
  const unknown = (options.only ?? []).filter((name) => !asNames.includes(name) && !goNames.includes(name));
  if (unknown.length > 0) throw new Error(`examples: no example ${unknown.join(", ")} in ${EXAMPLES_DIR}`);
  const wanted = (names) => (options.only ? names.filter((name) => options.only.includes(name)) : names);

  const as = { built: [], upToDate: [] };
  if (wanted(asNames).length > 0) {
    Object.assign(
      as,
      await buildAssemblyScriptPlugins({
        label: "examples",
        sourceDir: EXAMPLES_DIR,
        outDir: EXAMPLES_BUILD_DIR,
        stampFile: `${EXAMPLES_BUILD_DIR}.stamps.json`,
        extraInputs: [fileURLToPath(import.meta.url)],
        // Always by name: the builder would otherwise remove the Go builds as strangers.
        only: wanted(asNames),
        quiet: options.quiet ?? false,
      }),
    );
  }
  const go = buildGoExamples(wanted(goNames), options.quiet ?? false);
  if (!options.only) removeStale([...asNames, ...(go.available ? goNames : [])]);
  return { built: [...as.built, ...go.built], upToDate: [...as.upToDate, ...go.upToDate], skipped: go.skipped };
}

function buildGoExamples(names, quiet) {
  const result = { built: [], upToDate: [], skipped: [], available: false };
  if (names.length === 0) return result;
  const go = findGo();
  if (!go) {
    for (const name of names) rmSync(EXAMPLES_BUILD_DIR + name, { recursive: true, force: true });
    result.skipped.push(...names);
    if (!quiet) {
      console.log(
        `Go examples: skipped ${names.join(", ")}: no Go >= 1.24 found (PATH, $GOROOT/bin, ~/.cache/tonearm-go); ` +
          "get one with ../shared/tools/get-go.sh and put its bin folder on PATH",
      );
    }
    return result;
  }
  result.available = true;
  const fingerprint = sha256(
    readFileSync(fileURLToPath(import.meta.url)),
    readFileSync(fileURLToPath(new URL("../../test/scripts/build-go-fixtures.mjs", import.meta.url))),
    go.version,
  );
  const stamps = readStamps();
  const timings = [];
  for (const name of names) {
    const example = name.slice(0, -GO_SUFFIX.length);
    const src = `${EXAMPLES_DIR}${example}/go/`;
    const manifest = `${EXAMPLES_DIR}${example}/manifest.json`;
    const out = `${EXAMPLES_BUILD_DIR}${name}/`;
    const hash = sha256(fingerprint, readFileSync(manifest), ...filesUnder(src).flatMap((f) => [f, readFileSync(src + f)]));
    if (stamps[name] === hash && existsSync(`${out}plugin.wasm`) && existsSync(`${out}manifest.json`)) {
      result.upToDate.push(name);
      continue;
    }
    const started = performance.now();
    mkdirSync(out, { recursive: true });
    compileGo(go.path, src, `${out}plugin.wasm`);
    copyFileSync(manifest, `${out}manifest.json.tmp`);
    renameSync(`${out}manifest.json.tmp`, `${out}manifest.json`);
    // Merge late: another build may be recording its own plugins at the same time.
    writeStamps({ ...readStamps(), [name]: hash });
    result.built.push(name);
    timings.push(`${name} ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  const detail = timings.length > 0 ? ` (${timings.join(", ")})` : "";
  if (!quiet) console.log(`Go examples: ${result.built.length} built${detail}, ${result.upToDate.length} up to date, ${go.version}`);
  return result;
}

/** Removes built folders of examples that no longer exist. */
function removeStale(names) {
  if (!existsSync(EXAMPLES_BUILD_DIR)) return;
  const keep = new Set(names);
  for (const entry of readdirSync(EXAMPLES_BUILD_DIR, { withFileTypes: true })) {
    if (entry.isDirectory() && !entry.name.startsWith(".") && !keep.has(entry.name)) rmSync(EXAMPLES_BUILD_DIR + entry.name, { recursive: true, force: true });
  }
}

function filesUnder(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length))
    .sort();
}

function readStamps() {
  try {
    return JSON.parse(readFileSync(GO_STAMP_FILE, "utf8"));
  } catch {
    return {};
  }
}

function writeStamps(stamps) {
  mkdirSync(EXAMPLES_BUILD_DIR, { recursive: true });
  const tmp = `${GO_STAMP_FILE}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(stamps, null, 2)}\n`);
  renameSync(tmp, GO_STAMP_FILE);
}

function sha256(...inputs) {
  const hash = createHash("sha256");
  for (const input of inputs) hash.update(input).update("\0");
  return hash.digest("hex");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const names = process.argv.slice(2);
  await buildExamples(names.length > 0 ? { only: names } : {});
  if (names.length === 0) linkDevPlugins();
}
