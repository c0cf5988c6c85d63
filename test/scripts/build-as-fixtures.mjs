#!/usr/bin/env node
// Builds the AssemblyScript fixture plugins (test/fixtures/plugins/<name>/, a manifest.json and
// assembly/index.ts written with @tonearm/pdk-as) into test/.build/plugins/<name>/{plugin.wasm,
// manifest.json}, a folder usable as a plugins folder. These are the equivalents of Navidrome's
// test plugins (ABI.md §4.1). Needs the PDK's node side built (`tsc -b`). Plugins whose inputs
// (their files, the PDK's AssemblyScript sources and build code, this script, compiler versions)
// are unchanged since the last build are skipped.
import console from "node:console";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
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
  const names = fixtureNames();
  const fingerprint = sha256(
    readFileSync(fileURLToPath(import.meta.url)),
    ...pdkInputs(),
    require("assemblyscript/package.json").version,
    require("@assemblyscript/wasi-shim/package.json").version,
  );
  const stamps = readStamps();
  const next = {};
  const built = [];
  let buildPlugin;

  for (const name of names) {
    const src = `${SOURCE_DIR}${name}/`;
    const dir = `${OUT_DIR}${name}/`;
    const hash = sha256(fingerprint, ...filesUnder(src).flatMap((f) => [f, readFileSync(src + f)]));
    next[name] = hash;
    if (stamps[name] === hash && existsSync(`${dir}plugin.wasm`) && existsSync(`${dir}manifest.json`)) continue;

    const manifest = JSON.parse(readFileSync(`${src}manifest.json`, "utf8"));
    if (manifest.name !== name) throw new Error(`${src}manifest.json: name must be "${name}"`);
    buildPlugin ??= await loadBuilder();
    const started = performance.now();
    mkdirSync(dir, { recursive: true });
    await buildPlugin({ entry: `${src}assembly/index.ts`, outFile: `${dir}plugin.wasm` });
    copyAtomic(`${src}manifest.json`, `${dir}manifest.json`);
    built.push(`${name} ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }

  removeStale(names);
  mkdirSync(`${BUILD_ROOT}.stamps`, { recursive: true });
  writeAtomic(STAMP_FILE, `${JSON.stringify(next, null, 2)}\n`);
  const detail = built.length > 0 ? ` (${built.join(", ")})` : "";
  console.log(`${SET} fixtures: ${built.length} built${detail}, ${names.length - built.length} up to date`);
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

function fixtureNames() {
  return readdirSync(SOURCE_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(`${SOURCE_DIR}${e.name}/manifest.json`))
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

function removeStale(names) {
  if (!existsSync(OUT_DIR)) return;
  const keep = new Set(names);
  for (const entry of readdirSync(OUT_DIR, { withFileTypes: true })) {
    if (entry.isDirectory() && !keep.has(entry.name)) rmSync(OUT_DIR + entry.name, { recursive: true, force: true });
  }
}

function readStamps() {
  try {
    return JSON.parse(readFileSync(STAMP_FILE, "utf8"));
  } catch {
    return {};
  }
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
