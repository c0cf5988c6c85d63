/** The actions behind each `tonearm` command: parse options, wire libraries, print. */
import { resolve } from "node:path";
import { loadConfig, type TonearmConfig } from "@tonearm/config";
import { hostSettings } from "@tonearm/host";
import { invokeJson, Runtime } from "@tonearm/runtime";
import { describeFailure, parseJsonArgument, parseMethodRef } from "./call.js";
import { createLocalHost, type LocalHost } from "./local-host.js";
import { loadPluginFolder } from "./local-plugins.js";
import { pluginListTable } from "./plugin-list.js";

const warn = (message: string): void => void process.stderr.write(`warning: ${message}\n`);

interface CommonOptions {
  readonly config?: string;
  readonly folder?: string;
}

async function settings(options: CommonOptions): Promise<{ config: TonearmConfig; folder: string }> {
  const config = await loadConfig(options.config ? { file: options.config } : {});
  return { config, folder: resolve(options.folder ?? config.plugins.folder) };
}

export async function runPluginList(options: CommonOptions): Promise<void> {
  const { folder } = await settings(options);
  const { table, folderError } = await pluginListTable(folder);
  if (folderError) process.stderr.write(`${folderError}\n`);
  process.stdout.write(`${table}\n`);
}

export async function runCall(pluginId: string, methodRef: string, json: string, options: CommonOptions & { timeout?: number }): Promise<void> {
  let runtime: Runtime | undefined;
  let local: LocalHost | undefined;
  try {
    const { config, folder } = await settings(options);
    const { capability, method } = parseMethodRef(methodRef);
    const request = parseJsonArgument(json);
    // A one-off call needs no stable artwork key, so a random one is made without a warning.
    local = createLocalHost(config, hostSettings(config), () => runtime, warn);
    runtime = Runtime.create({
      threads: { min: 1 },
      host: local.host,
      onPluginLog: (plugin, line) => process.stderr.write(`[${plugin}] ${line}\n`),
    });
    const [loaded] = await loadPluginFolder(runtime, folder, config.pluginConfig, pluginId);
    if (loaded?.error) process.stderr.write(`plugin ${pluginId}: ${loaded.error}\n`);
    const response = await invokeJson(runtime, pluginId, capability, method, request, options.timeout ? { timeoutMs: options.timeout } : undefined);
    process.stdout.write(`${JSON.stringify(response)}\n`);
  } catch (err) {
    process.stderr.write(`${describeFailure(err)}\n`);
    process.exitCode = 1;
  } finally {
    await runtime?.close();
    await local?.close();
  }
}

export async function runStart(options: CommonOptions): Promise<void> {
  const { config, folder } = await settings(options);
  const // A one-off call needs no stable artwork key, so a random one is made without a warning.
    local = createLocalHost(config, hostSettings(config), () => runtime, warn);
  const runtime: Runtime = Runtime.create({
    host: local.host,
    onPluginLog: (plugin, line) => process.stderr.write(`[${plugin}] ${line}\n`),
  });
  const plugins = await loadPluginFolder(runtime, folder, config.pluginConfig);
  process.stdout.write(`Tonearm ${config.mode} mode, namespace "${config.namespace}", plugins folder ${folder}\n`);
  for (const p of plugins) process.stdout.write(p.error ? `  ${p.id}: failed: ${p.error}\n` : `  ${p.id}: ready\n`);
  const example = plugins.find((p) => p.id === "fake_artist_agent" && !p.error) ?? plugins.find((p) => !p.error);
  if (example) process.stdout.write(`Try:\n  npx tonearm call --folder ${folder} ${example.id} MetadataAgent/GetArtistMBID '{"id":"1","name":"The Beatles"}'\n`);
  // Runtime threads do not hold the process open; this does, until a signal arrives.
  const keepAlive = setInterval(() => {}, 1 << 30);
  await new Promise<void>((done) => {
    const stop = (): void => {
      clearInterval(keepAlive);
      done();
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  await runtime.close();
  await local.close();
}
