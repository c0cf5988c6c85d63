#!/usr/bin/env node
// Builds the Go fixture plugins (test/fixtures/go/<name>/, one Go module each, standard library
// only) into test/.build/go/<name>/{plugin.wasm,manifest.json} with the command Navidrome uses:
//   GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o plugin.wasm .
// The toolchain is `go` on PATH, $GOROOT/bin/go or ~/.cache/tonearm-go/usr/lib/go-1.24/bin/go,
// whichever is found first and is Go 1.24 or newer. Without one the set is skipped (and any old
// build removed), so the tests that need it skip too. Builds run offline (GOPROXY=off,
// GOTOOLCHAIN=local) with their caches under test/.build/.go-cache; plugins whose sources, Go
// version and this script are unchanged since the last build are skipped.
import { spawnSync } from "node:child_process";
import console from "node:console";
import { createHash } from "node:crypto";
import { accessSync, constants, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { performance } from "node:perf_hooks";
import process from "node:process";
import { URL, fileURLToPath, pathToFileURL } from "node:url";

const SET = "go";
const SOURCE_DIR = fileURLToPath(new URL(`../fixtures/${SET}/`, import.meta.url));
const BUILD_ROOT = fileURLToPath(new URL("../.build/", import.meta.url));
const OUT_DIR = `${BUILD_ROOT}${SET}/`;
const STAMP_FILE = `${BUILD_ROOT}.stamps/${SET}.json`;
const GO_CACHE = `${BUILD_ROOT}.go-cache/`;
const MIN_GO = [1, 24];

/** Builds every Go fixture whose inputs changed, or skips the set when no Go toolchain is available. */
export async function build() {
  const go = findGo();
  if (!go) {
    rmSync(OUT_DIR, { recursive: true, force: true });
    rmSync(STAMP_FILE, { force: true });
    console.log(
      `${SET} fixtures: skipped, no Go >= ${MIN_GO.join(".")} found (PATH, $GOROOT/bin, ~/.cache/tonearm-go); ` +
        "get one with ../shared/tools/get-go.sh and put its bin folder on PATH",
    );
    return;
  }

  const names = fixtureNames();
  const fingerprint = sha256(readFileSync(fileURLToPath(import.meta.url)), go.version);
  const stamps = readStamps();
  const next = {};
  const built = [];

  for (const name of names) {
    const src = `${SOURCE_DIR}${name}/`;
    const dir = `${OUT_DIR}${name}/`;
    const hash = sha256(fingerprint, ...sourceFiles(src).flatMap((f) => [f, readFileSync(src + f)]));
    next[name] = hash;
    if (stamps[name] === hash && existsSync(`${dir}plugin.wasm`) && existsSync(`${dir}manifest.json`)) continue;

    const manifest = JSON.parse(readFileSync(`${src}manifest.json`, "utf8"));
    if (manifest.name !== name) throw new Error(`${src}manifest.json: name must be "${name}"`);
    mkdirSync(dir, { recursive: true });
    const started = performance.now();
    compile(go.path, src, `${dir}plugin.wasm`);
    copyAtomic(`${src}manifest.json`, `${dir}manifest.json`);
    built.push(`${name} ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }

  removeStale(names);
  mkdirSync(`${BUILD_ROOT}.stamps`, { recursive: true });
  writeAtomic(STAMP_FILE, `${JSON.stringify(next, null, 2)}\n`);
  const detail = built.length ? ` (${built.join(", ")})` : "";
  console.log(`${SET} fixtures: ${built.length} built${detail}, ${names.length - built.length} up to date, ${go.version}`);
}

/** Builds the Go module in `src` into the plugin module `out` (also used for the Go examples). */
export function compile(goPath, src, out) {
  const tmp = `${out}.${process.pid}.tmp`;
  const env = {
    ...process.env,
    GOOS: "wasip1",
    GOARCH: "wasm",
    GOCACHE: `${GO_CACHE}build`,
    GOPATH: `${GO_CACHE}path`,
    GOPROXY: "off",
    GOTOOLCHAIN: "local",
    GOWORK: "off",
    GOFLAGS: "",
  };
  // The chosen binary locates its own GOROOT; an inherited one may belong to another toolchain.
  delete env.GOROOT;
  const result = spawnSync(goPath, ["build", "-buildmode=c-shared", "-o", tmp, "."], { cwd: src, env, encoding: "utf8" });
  if (result.status !== 0) {
    rmSync(tmp, { force: true });
    const reason = result.error?.message ?? result.stderr.trim();
    throw new Error(`go build failed for ${src}:\n${reason}`);
  }
  renameSync(tmp, out);
}

/** The first usable toolchain: its path and version (`go1.24.4`), or undefined. */
export function findGo() {
  const candidates = [
    ...(process.env.PATH ?? "").split(delimiter).filter(Boolean).map((d) => join(d, "go")),
    ...(process.env.GOROOT ? [join(process.env.GOROOT, "bin", "go")] : []),
    join(homedir(), ".cache", "tonearm-go", "usr", "lib", "go-1.24", "bin", "go"),
  ];
  for (const path of candidates) {
    if (!isExecutable(path)) continue;
    const env = { ...process.env, GOTOOLCHAIN: "local" };
    delete env.GOROOT;
    const result = spawnSync(path, ["env", "GOVERSION"], { env, encoding: "utf8" });
    const version = result.status === 0 ? result.stdout.trim() : "";
    if (isRecentEnough(version)) return { path, version };
  }
  return undefined;
}

function isRecentEnough(version) {
  const match = /^go(\d+)\.(\d+)/.exec(version);
  if (!match) return false;
  const [major, minor] = [Number(match[1]), Number(match[2])];
  return major > MIN_GO[0] || (major === MIN_GO[0] && minor >= MIN_GO[1]);
}

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function fixtureNames() {
  if (!existsSync(SOURCE_DIR)) return [];
  return readdirSync(SOURCE_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(`${SOURCE_DIR}${e.name}/go.mod`))
    .map((e) => e.name)
    .sort();
}

/** Every file of a fixture module, relative and sorted, so renames and additions change the hash. */
function sourceFiles(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length))
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

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await build();
