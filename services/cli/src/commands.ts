/** The actions behind each `tonearm` command: parse options, wire libraries, print. */
import { resolve } from "node:path";
import { loadConfig, type TonearmConfig } from "@tonearm/config";
import { hostSettings } from "@tonearm/host";
import type { JsonValue } from "@bufbuild/protobuf";
import { CallError, CallErrorCode } from "@tonearm/abi";
import { callPlugin, connectNatsBus } from "@tonearm/bus";
import { invokeJson, Runtime } from "@tonearm/runtime";
import { describeFailure, parseJsonArgument, parseMethodRef } from "./call.js";
import { createLocalHost, type LocalHost } from "./local-host.js";
import { loadPluginFolder } from "./local-plugins.js";
import { pluginListTable } from "./plugin-list.js";
import { parseRoles, startTonearm } from "./start.js";

const warn = (message: string): void => void process.stderr.write(`warning: ${message}\n`);

export interface CommonOptions {
  readonly config?: string;
  readonly folder?: string;
}

/** The loaded configuration and the plugins folder: `--folder`, else the config's Plugins.Folder. */
export async function settings(options: CommonOptions): Promise<{ config: TonearmConfig; folder: string }> {
  const config = await loadConfig(options.config ? { file: options.config } : {});
  return { config, folder: resolve(options.folder ?? config.plugins.folder) };
}

export async function runPluginList(options: CommonOptions): Promise<void> {
  const { folder } = await settings(options);
  const { table, folderError } = await pluginListTable(folder);
  if (folderError) process.stderr.write(`${folderError}\n`);
  process.stdout.write(`${table}\n`);
}

export interface CallOptions extends CommonOptions {
  readonly timeout?: number;
  /** Call through a running cluster on this NATS server instead of loading the folder. */
  readonly nats?: string;
  readonly namespace?: string;
  /** Call through the HTTP endpoint of a running `tonearm start`. */
  readonly url?: string;
}

export async function runCall(pluginId: string, methodRef: string, json: string, options: CallOptions): Promise<void> {
  try {
    const { capability, method } = parseMethodRef(methodRef);
    const request = parseJsonArgument(json);
    const target = { pluginId, capability, method, request, ...(options.timeout ? { timeoutMs: options.timeout } : {}) };
    let response: JsonValue;
    if (options.url) response = await callOverHttp(options.url, target);
    else if (options.nats) response = await callOverNats(options.nats, options.namespace ?? (await settings(options)).config.namespace, target);
    else response = await callInProcess(await settings(options), target);
    process.stdout.write(`${JSON.stringify(response)}\n`);
  } catch (err) {
    process.stderr.write(`${describeFailure(err)}\n`);
    process.exitCode = 1;
  }
}

interface CallTarget {
  readonly pluginId: string;
  readonly capability: string;
  readonly method: string;
  readonly request: JsonValue;
  readonly timeoutMs?: number;
}

/** Loads the one plugin from the folder into a runtime of this process. */
async function callInProcess({ config, folder }: { config: TonearmConfig; folder: string }, target: CallTarget): Promise<JsonValue> {
  // A one-off call needs no stable artwork key, so a random one is made without a warning.
  const local: LocalHost = createLocalHost(config, hostSettings(config), () => runtime, warn);
  const runtime: Runtime = Runtime.create({
    threads: { min: 1 },
    host: local.host,
    onPluginLog: (plugin, line) => process.stderr.write(`[${plugin}] ${line}\n`),
  });
  try {
    const [loaded] = await loadPluginFolder(runtime, folder, config.pluginConfig, target.pluginId);
    if (loaded?.error) process.stderr.write(`plugin ${target.pluginId}: ${loaded.error}\n`);
    const options = target.timeoutMs ? { timeoutMs: target.timeoutMs } : undefined;
    return await invokeJson(runtime, target.pluginId, target.capability, target.method, target.request, options);
  } finally {
    await runtime.close();
    await local.close();
  }
}

async function callOverNats(servers: string, namespace: string, target: CallTarget): Promise<JsonValue> {
  const bus = await connectNatsBus({ servers: servers.split(","), namespace, name: "tonearm-call" });
  try {
    return await callPlugin(bus, namespace, {
      plugin: target.pluginId,
      capability: target.capability,
      method: target.method,
      json: target.request,
      caller: "cli",
      ...(target.timeoutMs ? { timeoutMs: target.timeoutMs } : {}),
    });
  } finally {
    await bus.close();
  }
}

async function callOverHttp(base: string, target: CallTarget): Promise<JsonValue> {
  const url = new URL(`v1/call/${encodeURIComponent(target.pluginId)}/${target.capability}/${target.method}`, base.endsWith("/") ? base : `${base}/`);
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...(target.timeoutMs ? { "tonearm-timeout-ms": String(target.timeoutMs) } : {}) },
      body: JSON.stringify(target.request),
    });
  } catch (err) {
    throw new CallError(CallErrorCode.Unavailable, `cannot reach ${url.origin}: ${((err as Error).cause as Error | undefined)?.message ?? (err as Error).message}`);
  }
  const body = (await response.json()) as JsonValue;
  if (response.ok) return body;
  const { code, message } = body as { code?: string; message?: string };
  throw new CallError((code ?? CallErrorCode.Unavailable) as CallErrorCode, message ?? `HTTP ${response.status}`);
}

export interface StartCommandOptions extends CommonOptions {
  readonly role?: string;
  readonly port?: number;
  readonly host?: string;
}

export async function runStart(options: StartCommandOptions): Promise<void> {
  const { config } = await settings(options);
  const effective = options.folder ? { ...config, plugins: { ...config.plugins, folder: resolve(options.folder) } } : config;
  const running = await startTonearm(effective, {
    roles: parseRoles(options.role),
    port: options.port ?? effective.metrics.port ?? 0,
    ...(options.host ? { host: options.host } : {}),
  });
  const base = `http://127.0.0.1:${running.port}`;
  const where = effective.mode === "cluster" ? `NATS ${effective.nats.servers.join(",")}, Redis ${effective.redis.url}` : "in-memory drivers";
  process.stdout.write(
    [
      `Tonearm is running: ${effective.mode} mode (${where}), namespace "${effective.namespace}", roles ${[...running.roles].join(", ")}`,
      `Plugins folder: ${effective.plugins.folder}`,
      `Health ${base}/healthz · readiness ${base}/readyz · metrics ${base}/metrics`,
      ...(running.roles.has("registry") ? [`Status page ${base}/status`] : []),
      `Call a plugin:`,
      `  npx tonearm call --url ${base} fake_artist_agent MetadataAgent/GetArtistMBID '{"id":"1","name":"The Beatles"}'`,
      `  curl -s -X POST ${base}/v1/call/fake_artist_agent/MetadataAgent/GetArtistMBID -d '{"id":"1","name":"The Beatles"}'`,
      "",
    ].join("\n"),
  );
  await new Promise<void>((done) => {
    process.once("SIGTERM", () => done());
    process.once("SIGINT", () => done());
  });
  process.stdout.write("Stopping: finishing calls in flight...\n");
  await running.stop();
}
