// What the plugin command tests share: the commands run in this process with captured output (the
// binary's start-up costs seconds on a loaded machine), the `tonearm` binary run as a user runs it,
// packages built from the fixture plugins (or hostile ones written entry by entry), and listings.
import { execFile } from "node:child_process";
import { Readable } from "node:stream";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fixturePaths } from "@tonearm/test-harness";
import { manifestJson, zipArchive, type RawEntry } from "../../../libs/packages/test/zip-writer.js";
import type { CommandIo } from "../dist/plugin-commands.js";

export { manifestJson, zipArchive, type RawEntry };

const BIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one plugin command in this process, as `tonearm plugin …` would, and captures its output. */
export async function capture(command: (io: CommandIo) => Promise<number>, input = "", isTTY = false): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const io: CommandIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { isTTY, write: (text: string) => (stderr += text) },
    stdin: Readable.from([input]),
  };
  const code = await command(io);
  return { code, stdout, stderr };
}

/** Runs `tonearm …` without a config file; `input` is written to its stdin. */
export function tonearm(args: readonly string[], input = ""): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { timeout: 60_000, env: { ...process.env, TONEARM_CONFIG: "", TONEARM_LOG_LEVEL: "error" } },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input);
  });
}

/** The wasm of a built fixture plugin. */
export function fixtureWasm(fixture: string): Promise<Buffer> {
  return readFile(join(fixturePaths.plugin("plugins", fixture), "plugin.wasm"));
}

/** A package of a fixture's module under another manifest, plus any extra entries. */
export async function fixturePackage(fixture: string, name: string, manifest: Record<string, unknown> = {}, extra: RawEntry[] = []): Promise<Buffer> {
  const overrides = { capabilities: ["MetadataAgent"], permissions: {}, ...manifest };
  return zipArchive([{ name: "manifest.json", data: manifestJson(name, overrides) }, { name: "plugin.wasm", data: await fixtureWasm(fixture) }, ...extra]);
}

/** A scratch folder removed by `removeScratch`. */
const scratch: string[] = [];
export async function scratchFolder(prefix = "tonearm-plugin-cli-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}
export async function removeScratch(): Promise<void> {
  await Promise.all(scratch.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/** Writes `bytes` as `<dir>/<file>` and returns its path. */
export async function writePackage(dir: string, file: string, bytes: Uint8Array): Promise<string> {
  const path = join(dir, file);
  await writeFile(path, bytes);
  return path;
}

/** Every path under `dir`, hidden ones included, so leftovers show. */
export async function tree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).sort();
}
