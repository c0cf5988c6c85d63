/**
 * `tonearm plugin info|install|update|remove|refresh|dev|pack`: Navidrome's plugin commands (ABI.md
 * §6) on a plugins folder (`--folder`, else the config's Plugins.Folder), or with `--nats` on the
 * plugins folder of a running cluster's registry, which reloads what changed at once.
 *
 * Results go to stdout in Navidrome's words; failures to stderr as `error: <message>` (cluster
 * errors as `error: <code>: <message>`) with exit code 1; progress to stderr (see plugin-progress).
 * Each command resolves with its exit code and writes only through the `CommandIo` it is given.
 */
import { randomBytes } from "node:crypto";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, extname, join, resolve } from "node:path";
import { CallError } from "@tonearm/abi";
import type { TonearmConfig } from "@tonearm/config";
import {
  PACKAGE_EXTENSION,
  PackageError,
  PackageFailure,
  discoverPlugins,
  installPackage,
  linkDevPlugin,
  packPluginFolder,
  pluginEntryPath,
  pluginFolderName,
  readPackageFile,
  removePlugin,
  type InstallMode,
  type LoadedPlugin,
} from "@tonearm/packages";
import { bus as busProto } from "@tonearm/proto";
import { settings, type CommonOptions } from "./commands.js";
import { withLoadCheck, type LoadCheck } from "./plugin-check.js";
import { DEFAULT_REGISTRY_TIMEOUT_MS, withRegistry, type ClusterOptions } from "./plugin-cluster.js";
import { pluginInfoText } from "./plugin-info.js";
import { createProgress, type Progress, type ProgressStream } from "./plugin-progress.js";
import { readAnswer } from "./plugin-prompt.js";

const { PluginState } = busProto;

export interface PluginCommandOptions extends CommonOptions {
  /** Work on a running cluster through these NATS servers (comma-separated). */
  readonly nats?: string;
  /** The cluster's namespace. @default the config's */
  readonly namespace?: string;
  /** How long the cluster's registry may take to answer, in ms. */
  readonly timeout?: number;
  /** Progress on stderr: true or false; undefined shows it on a terminal only. */
  readonly progress?: boolean;
}

/** Where a command reads and writes: the process's streams, or a test's. */
export interface CommandIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: ProgressStream;
  readonly stdin: NodeJS.ReadableStream;
}

export function processIo(): CommandIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };
}

/** A command's output lines, and whether it failed (exit code 1) without throwing. */
class Output {
  failed = false;
  constructor(readonly io: CommandIo) {}
  out(line: string): void {
    this.io.stdout.write(`${line}\n`);
  }
  note(line: string): void {
    this.io.stderr.write(`${line}\n`);
  }
  fail(line: string): void {
    this.note(line);
    this.failed = true;
  }
}

/** Runs a command; a failure becomes `error: …` on stderr and exit code 1. */
async function run(io: CommandIo, work: (output: Output) => Promise<void>): Promise<number> {
  const output = new Output(io);
  try {
    await work(output);
  } catch (err) {
    output.fail(describeError(err));
  }
  return output.failed ? 1 : 0;
}

function describeError(err: unknown): string {
  if (err instanceof CallError) return `error: ${err.code}: ${err.message}`;
  return `error: ${err instanceof Error ? err.message : String(err)}`;
}

function clusterOf(options: PluginCommandOptions, config: TonearmConfig): ClusterOptions | undefined {
  if (options.nats === undefined) return undefined;
  return { servers: options.nats, namespace: options.namespace ?? config.namespace, timeoutMs: options.timeout ?? DEFAULT_REGISTRY_TIMEOUT_MS };
}

export function runPluginInfo(target: string, options: PluginCommandOptions, io: CommandIo = processIo()): Promise<number> {
  return run(io, async () => {
    const { folder } = await settings(options);
    io.stdout.write(await pluginInfoText(folder, target));
  });
}

export function runPluginInstall(file: string, options: PluginCommandOptions, io: CommandIo = processIo()): Promise<number> {
  return run(io, (output) => installOrUpdate("install", file, options, output));
}

export function runPluginUpdate(file: string, options: PluginCommandOptions, io: CommandIo = processIo()): Promise<number> {
  return run(io, (output) => installOrUpdate("update", file, options, output));
}

async function installOrUpdate(mode: InstallMode, file: string, options: PluginCommandOptions, output: Output): Promise<void> {
  const { config, folder } = await settings(options);
  const progress = createProgress(options.progress, output.io.stderr);
  try {
    progress.step(`reading ${file}`);
    const pkg = await readPackageFile(file);
    const { name, version } = pkg.manifest;
    const id = pluginFolderName(name);
    const cluster = clusterOf(options, config);
    if (cluster !== undefined) {
      progress.step(`uploading ${id} to the cluster and waiting for it to load`);
      const record = await withRegistry(cluster, async (registry) => registry.install(await readFile(file), mode === "update"));
      progress.done();
      noteClusterState(record, output);
    } else {
      await withLoadCheck((check) => installPackage(folder, pkg, { mode, verify: check, onStep: (step) => progress.step(step) }));
      progress.done();
    }
    output.out(mode === "install" ? `Plugin '${name}' v${version} installed successfully` : `Plugin '${name}' updated to v${version} successfully`);
    if (id !== name) output.note(`note: the plugin's folder, and so its id, is '${id}'`);
  } finally {
    progress.done();
  }
}

/** What an operator should know about a record the cluster reports after a change. */
function noteClusterState(record: busProto.PluginRecord, output: Output): void {
  if (record.state === PluginState.LOADING) output.note(`note: no worker has loaded '${record.id}' yet; it answers calls once one has`);
  if (record.state === PluginState.DISABLED) output.note("note: plugins are disabled in this cluster (Plugins.Enabled = false)");
}

export function runPluginRemove(id: string, options: PluginCommandOptions, io: CommandIo = processIo()): Promise<number> {
  return run(io, async (output) => {
    const { config, folder } = await settings(options);
    const cluster = clusterOf(options, config);
    const removed = cluster === undefined ? await removePlugin(folder, id) : await withRegistry(cluster, (registry) => registry.remove(id));
    output.out(
      removed.symlink
        ? `Development plugin symlink '${id}' removed successfully (target directory preserved)`
        : `Plugin '${id}' removed successfully`,
    );
  });
}

export function runPluginRefresh(id: string | undefined, options: PluginCommandOptions, io: CommandIo = processIo()): Promise<number> {
  return run(io, async (output) => {
    const { config, folder } = await settings(options);
    const cluster = clusterOf(options, config);
    const progress = createProgress(options.progress, io.stderr);
    try {
      if (id !== undefined) output.out(`Refreshing plugin '${id}'...`);
      if (cluster === undefined) await refreshLocally(folder, id, progress, output);
      else await refreshCluster(cluster, id, progress, output);
    } finally {
      progress.done();
    }
  });
}

/** Checks what a server would load: one plugin, or every plugin of the folder. */
async function refreshLocally(folder: string, id: string | undefined, progress: Progress, output: Output): Promise<void> {
  progress.step(`scanning ${folder}`);
  const found = await discoverPlugins(folder);
  const unreadable = found.find((plugin) => plugin.id === "" && !plugin.ok);
  if (unreadable !== undefined && !unreadable.ok) throw unreadable.error;
  let plugins = found;
  if (id !== undefined) {
    const path = pluginEntryPath(resolve(folder), id);
    plugins = found.filter((plugin) => plugin.id === id);
    if (plugins.length === 0) throw new PackageError(PackageFailure.PluginNotFound, `plugin not found: ${id} (path: ${path})`);
  }
  await withLoadCheck(async (check) => {
    for (const [index, plugin] of plugins.entries()) {
      progress.step(`[${index + 1}/${plugins.length}] compiling ${plugin.id}`);
      const error = plugin.ok ? await loadError(check, plugin) : plugin.error.message;
      progress.done();
      if (error === undefined) output.out(`Plugin '${plugin.id}' refreshed successfully`);
      else output.fail(`error: plugin '${plugin.id}': ${error}`);
    }
  });
}

async function loadError(check: LoadCheck, plugin: LoadedPlugin): Promise<string | undefined> {
  try {
    await check(plugin);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** Has the cluster's registry rescan and reload; reports each plugin it touched. */
async function refreshCluster(cluster: ClusterOptions, id: string | undefined, progress: Progress, output: Output): Promise<void> {
  progress.step(id === undefined ? "refreshing every plugin of the cluster" : `refreshing ${id} in the cluster`);
  const records = await withRegistry(cluster, (registry) => registry.refresh(id));
  progress.done();
  for (const record of records) {
    if (record.state === PluginState.FAILED) {
      output.fail(`error: plugin '${record.id}': ${record.error}`);
    } else if (record.state === PluginState.REMOVED) {
      output.out(`Plugin '${record.id}' is no longer in the plugins folder and was unloaded`);
    } else {
      output.out(`Plugin '${record.id}' refreshed successfully`);
      noteClusterState(record, output);
    }
  }
}

export function runPluginDev(source: string, options: PluginCommandOptions, io: CommandIo = processIo()): Promise<number> {
  return run(io, async (output) => {
    const { folder } = await settings(options);
    try {
      const link = await linkDevPlugin(folder, source, {
        async confirmReplace(target) {
          output.out(`Target path '${target}' already exists.`);
          io.stdout.write("Do you want to replace it? (y/N): ");
          return (await readAnswer(io.stdin)).toLowerCase() === "y";
        },
      });
      output.out(`Development symlink created: '${link.target}' -> '${link.source}'`);
      output.out(`Plugin can be refreshed with: tonearm plugin refresh ${link.id}`);
    } catch (err) {
      if (err instanceof PackageError && err.code === PackageFailure.AlreadyLinked) output.out("Symlink already exists and points to the correct source");
      throw err;
    }
  });
}

export interface PackOptions {
  /** The package file to write. @default `<plugin folder name>.ndp` in the working directory */
  readonly output?: string;
}

export function runPluginPack(dir: string, options: PackOptions, io: CommandIo = processIo()): Promise<number> {
  return run(io, async (output) => {
    const packed = await packPluginFolder(dir);
    const file = resolve(options.output ?? `${pluginFolderName(packed.manifest.name)}${PACKAGE_EXTENSION}`);
    if (extname(file) !== PACKAGE_EXTENSION) {
      throw new PackageError(PackageFailure.NotAPackage, `not a valid plugin package: ${file} (expected ${PACKAGE_EXTENSION} extension)`);
    }
    // Written beside the target and renamed, so a package file is never seen half-written.
    const partial = join(dirname(file), `.${randomBytes(4).toString("hex")}.partial`);
    try {
      await writeFile(partial, packed.bytes);
      await rename(partial, file);
    } finally {
      await rm(partial, { force: true });
    }
    output.out(`Plugin package created: ${file} (${packed.entries.join(", ")}; ${packed.bytes.length} bytes)`);
  });
}
