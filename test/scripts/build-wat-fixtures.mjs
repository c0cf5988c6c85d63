#!/usr/bin/env node
// Builds the hostile fixture plugins (test/fixtures/hostile/<name>.wat) into
// test/.build/hostile/<name>/{plugin.wasm,manifest.json}.
//
// A fixture file holds only what makes it hostile; it is wrapped in `(module ...)` together with
// every part of _standard.wat it does not replace (see that file's header). The fixture's first
// comment line becomes its manifest description. Plugins whose inputs (fixture, standard parts,
// this script, wabt version) are unchanged since the last build are skipped.
//
//   node test/scripts/build-wat-fixtures.mjs                 build the set
//   node test/scripts/build-wat-fixtures.mjs --print <name>  print a fixture's composed module
import console from "node:console";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import process from "node:process";
import { URL, fileURLToPath, pathToFileURL } from "node:url";

const SET = "hostile";
const SOURCE_DIR = fileURLToPath(new URL(`../fixtures/${SET}/`, import.meta.url));
const STANDARD_FILE = "_standard.wat";
const BUILD_ROOT = fileURLToPath(new URL("../.build/", import.meta.url));
const OUT_DIR = `${BUILD_ROOT}${SET}/`;
const STAMP_FILE = `${BUILD_ROOT}.stamps/${SET}.json`;


/** Builds every hostile fixture whose inputs changed. */
export async function build() {
  const names = fixtureNames();
  const standard = readFileSync(SOURCE_DIR + STANDARD_FILE, "utf8");
  const fingerprint = sha256(readFileSync(fileURLToPath(import.meta.url)), standard, wabtVersion());
  const stamps = readStamps();
  const next = {};
  let wabt;
  let built = 0;

  for (const name of names) {
    const source = readFileSync(`${SOURCE_DIR}${name}.wat`, "utf8");
    const hash = sha256(fingerprint, source);
    const dir = `${OUT_DIR}${name}/`;
    next[name] = hash;
    if (stamps[name] === hash && existsSync(`${dir}plugin.wasm`) && existsSync(`${dir}manifest.json`)) continue;

    wabt ??= await (await import("wabt")).default();
    const wasm = assemble(wabt, name, compose(name, source, standard));
    mkdirSync(dir, { recursive: true });
    writeAtomic(`${dir}plugin.wasm`, wasm);
    writeAtomic(`${dir}manifest.json`, `${JSON.stringify(manifest(name, source), null, 2)}\n`);
    built++;
  }

  removeStale(names);
  mkdirSync(`${BUILD_ROOT}.stamps`, { recursive: true });
  writeAtomic(STAMP_FILE, `${JSON.stringify(next, null, 2)}\n`);
  console.log(`${SET} fixtures: ${built} built, ${names.length - built} up to date`);
}

/** The WAT text of one fixture: its own text first (imports must precede definitions), then the standard parts it keeps. */
export function compose(name, source = readFileSync(`${SOURCE_DIR}${name}.wat`, "utf8"), standard = readFileSync(SOURCE_DIR + STANDARD_FILE, "utf8")) {
  const parts = standardParts(standard);
  const code = stripComments(source);
  const replaced = new Set([...code.matchAll(/\(export\s+"([^"]+)"/g)].map((m) => m[1]));
  const omitted = new Set([...source.matchAll(/^\s*;;\s*omit:\s*(\S+)\s*$/gm)].map((m) => m[1]));
  for (const part of omitted) {
    if (!parts.has(part)) throw new Error(`${name}.wat omits unknown standard part "${part}"`);
  }
  const kept = [...parts].filter(([part]) => !replaced.has(part) && !omitted.has(part));

  return [
    `;; ${name}: test/fixtures/${SET}/${name}.wat followed by the standard parts it keeps`,
    `;; (${kept.map(([part]) => part).join(", ")}) from test/fixtures/${SET}/${STANDARD_FILE}.`,
    `(module $${name}`,
    source.trimEnd(),
    "",
    ...kept.map(([part, text]) => `;; standard part: ${part}\n${text}\n`),
    ")",
    "",
  ].join("\n");
}

function assemble(wabt, name, text) {
  const module = wabt.parseWat(`${name}.wat`, text);
  try {
    module.resolveNames();
    module.validate();
    return module.toBinary({ write_debug_names: true }).buffer;
  } finally {
    module.destroy();
  }
}

/** Parts of the standard module in file order, keyed by `;; part: <name>`; the header before the first part is dropped. */
function standardParts(standard) {
  const parts = new Map();
  const chunks = standard.split(/^;; part: (\S+)[ \t]*\n/m);
  for (let i = 1; i < chunks.length; i += 2) parts.set(chunks[i], chunks[i + 1].trimEnd());
  return parts;
}

function manifest(name, source) {
  const description = /^\s*;;\s*(.+)$/m.exec(source)?.[1]?.trim();
  if (!description) throw new Error(`${name}.wat must start with a comment line describing the fixture`);
  return {
    name,
    author: "Tonearm Tests",
    version: "1.0.0",
    description,
    website: `https://example.com/tonearm/fixtures/${SET}/${name.replaceAll("_", "-")}`,
    capabilities: ["MetadataAgent"],
    permissions: {},
  };
}

function fixtureNames() {
  return readdirSync(SOURCE_DIR)
    .filter((f) => f.endsWith(".wat") && f !== STANDARD_FILE)
    .map((f) => f.slice(0, -".wat".length))
    .sort();
}

function removeStale(names) {
  if (!existsSync(OUT_DIR)) return;
  const keep = new Set(names);
  for (const entry of readdirSync(OUT_DIR, { withFileTypes: true })) {
    if (entry.isDirectory() && !keep.has(entry.name)) rmSync(OUT_DIR + entry.name, { recursive: true, force: true });
  }
}

function stripComments(text) {
  return text.replace(/\(;[\s\S]*?;\)/g, "").replace(/;;.*$/gm, "");
}

function readStamps() {
  try {
    return JSON.parse(readFileSync(STAMP_FILE, "utf8"));
  } catch {
    return {};
  }
}

function wabtVersion() {
  return createRequire(import.meta.url)("wabt/package.json").version;
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

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [flag, name] = process.argv.slice(2);
  if (flag === "--print") {
    if (!name) throw new Error("usage: build-wat-fixtures.mjs --print <fixture>");
    process.stdout.write(compose(name));
  } else {
    await build();
  }
}
