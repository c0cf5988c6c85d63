#!/usr/bin/env node
// Builds AssemblyScript plugins written with @tonearm/pdk-as (a folder per plugin holding a
// manifest.json and assembly/index.ts) into <out>/<name>/{plugin.wasm,manifest.json}, a folder
// usable as a plugins folder. Run directly (or through build-fixtures.mjs) it builds the fixture
// plugins of test/fixtures/plugins/ into test/.build/plugins/: the equivalents of Navidrome's
// test plugins (ABI.md §4.1). examples/scripts/build-examples.mjs builds the example plugins with
// the same code. Needs the PDK's node side built (`tsc -b`). Plugins whose inputs (manifest and
// assembly/ sources, the PDK's AssemblyScript sources and build code, this script, compiler
// versions, any extra inputs of the set) are unchanged since the last build are skipped.
import console from "node:console";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import process from "node:process";
import { URL, fileURLToPath, pathToFileURL } from "node:url";

const SET = "plugins";
const SOURCE_DIR = fileURLToPath(new URL(`../fixtures/${SET}/`, import.meta.url));
const BUILD_ROOT = fileURLToPath(new URL("../.build/", import.meta.url));
const OUT_DIR = `${BUILD_ROOT}${SET}/`;
const STAMP_FILE = `${BUILD_ROOT}.stamps/${SET}.json`;
const require = createRequire(import.meta.url);
const PDK_DIR = fileURLToPath(new URL("./", pathToFileURL(require.resolve("@tonearm/pdk-as/package.json"))));

/** Builds every AssemblyScript fixture whose inputs changed. */
export async function build() {
  await buildAssemblyScriptPlugins({ label: `${SET} fixtures`, sourceDir: SOURCE_DIR, outDir: OUT_DIR, stampFile: STAMP_FILE });
}

/**
 * Builds the plugins of `sourceDir` (every sub-folder holding a manifest.json whose `name` is the
 * folder's name) whose inputs changed into `outDir`, and records what was built in `stampFile`.
 *
 * @param {object} set
 * @param {string} set.label Names the set in the summary line, e.g. "plugins fixtures".
 * @param {string} set.sourceDir Folder of plugin source folders.
 * @param {string} set.outDir Folder receiving one built plugin folder per plugin; others in it are removed.
 * @param {string} set.stampFile JSON file of the input hashes of the last build.
 * @param {string[]} [set.only] Build only these plugins, leaving the rest of `outDir` and their stamps alone.
 * @param {string[]} [set.extraInputs] Files or folders every plugin of the set also depends on.
 * @param {boolean} [set.quiet] Skip the summary line.
 * @returns {Promise<{ built: string[], upToDate: string[] }>} plugin names
 */
export async function buildAssemblyScriptPlugins({ label, sourceDir, outDir, stampFile, only, extraInputs = [], quiet = false }) {
  const sourceRoot = withSlash(sourceDir);
  const outRoot = withSlash(outDir);
  const all = pluginNames(sourceRoot);
  const missing = (only ?? []).filter((name) => !all.includes(name));
  if (missing.length > 0) throw new Error(`${label}: no plugin ${missing.join(", ")} in ${sourceRoot}`);
  const names = only ? all.filter((name) => only.includes(name)) : all;
  const fingerprint = sha256(
    readFileSync(fileURLToPath(import.meta.url)),
    ...pdkInputs(),
    ...extraInputs.flatMap(pathInputs),
    require("assemblyscript/package.json").version,
    require("@assemblyscript/wasi-shim/package.json").version,
  );
  const stamps = readStamps(stampFile);
  const next = {};
  const built = [];
  const timings = [];
  let buildPlugin;

  for (const name of names) {
    const src = `${sourceRoot}${name}/`;
    const dir = `${outRoot}${name}/`;
    const hash = sha256(fingerprint, ...pluginInputs(src).flatMap((f) => [f, readFileSync(src + f)]));
    next[name] = hash;
    if (stamps[name] === hash && existsSync(`${dir}plugin.wasm`) && existsSync(`${dir}manifest.json`)) continue;

    const manifest = JSON.parse(readFileSync(`${src}manifest.json`, "utf8"));
    if (manifest.name !== name) throw new Error(`${src}manifest.json: name must be "${name}"`);
    buildPlugin ??= await loadBuilder();
    const started = performance.now();
    mkdirSync(dir, { recursive: true });
    await buildPlugin({ entry: `${src}assembly/index.ts`, outFile: `${dir}plugin.wasm` });
    copyAtomic(`${src}manifest.json`, `${dir}manifest.json`);
    built.push(name);
    timings.push(`${name} ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }

  mkdirSync(dirname(stampFile), { recursive: true });
  if (only) {
    // Other builds of the set may be recording their own plugins at the same time: merge late.
    writeAtomic(stampFile, stampText({ ...readStamps(stampFile), ...next }));
  } else {
    removeStale(outRoot, names);
    writeAtomic(stampFile, stampText(next));
  }
  const detail = timings.length > 0 ? ` (${timings.join(", ")})` : "";
  if (!quiet) console.log(`${label}: ${built.length} built${detail}, ${names.length - built.length} up to date`);
  return { built, upToDate: names.filter((name) => !built.includes(name)) };
}

async function loadBuilder() {
  try {
    return (await import("@tonearm/pdk-as")).buildPlugin;
  } catch (err) {
    throw new Error("@tonearm/pdk-as is not built: run `npx tsc -b` first", { cause: err });
  }
}

/** Everything of the PDK a built plugin depends on: AssemblyScript sources, configs, build code. */
function pdkInputs() {
  const files = [
    "index.ts",
    "exports.ts",
    "asconfig.json",
    ...filesUnder(`${PDK_DIR}assembly/`).map((f) => `assembly/${f}`),
    ...filesUnder(`${PDK_DIR}src/`).map((f) => `src/${f}`),
  ];
  return files.flatMap((f) => [f, readFileSync(PDK_DIR + f)]);
}

/** What a plugin's build depends on: its manifest and AssemblyScript sources (not its tests or docs). */
function pluginInputs(src) {
  return ["manifest.json", ...filesUnder(`${src}assembly/`).map((f) => `assembly/${f}`)];
}

/** Names and contents of a file, or of every file below a folder (names relative, so the checkout's location does not matter). */
function pathInputs(path) {
  if (!statSync(path).isDirectory()) return [basename(path), readFileSync(path)];
  return filesUnder(path).flatMap((f) => [f, readFileSync(join(path, f))]);
}

function pluginNames(sourceRoot) {
  return readdirSync(sourceRoot, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(`${sourceRoot}${e.name}/manifest.json`))
    .map((e) => e.name)
    .sort();
}

/** Files below `dir` as sorted relative paths. */
function filesUnder(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => `${e.parentPath ?? e.path}/${e.name}`.slice(dir.length).replace(/^\/+/, ""))
    .sort();
}

function removeStale(outRoot, names) {
  if (!existsSync(outRoot)) return;
  const keep = new Set(names);
  for (const entry of readdirSync(outRoot, { withFileTypes: true })) {
    if (entry.isDirectory() && !keep.has(entry.name)) rmSync(outRoot + entry.name, { recursive: true, force: true });
  }
}

function readStamps(stampFile) {
  try {
    return JSON.parse(readFileSync(stampFile, "utf8"));
  } catch {
    return {};
  }
}

function stampText(stamps) {
  return `${JSON.stringify(stamps, null, 2)}\n`;
}

function withSlash(dir) {
  return dir.endsWith("/") ? dir : `${dir}/`;
}

function sha256(...inputs) {
  const hash = createHash("sha256");
  for (const input of inputs) hash.update(input).update("\0");
  return hash.digest("hex");
}

// Readers (tests, a host in another process) never see a half-written file.
function writeAtomic(path, data) {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

function copyAtomic(from, to) {
  const tmp = `${to}.${process.pid}.tmp`;
  copyFileSync(from, tmp);
  renameSync(tmp, to);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await build();
}
