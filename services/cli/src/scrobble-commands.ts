/**
 * `tonearm scrobbles status|replay`: the delivery state of every Scrobbler plugin, and re-driving a
 * plugin's dead letters, through a cluster's NATS (`--nats`) or a running `tonearm start` (`--url`).
 */
import type { Command } from "commander";
import { connectNatsBus, scrobbleStatus, watchPluginCatalog, type Bus, type ScrobbleStatus } from "@tonearm/bus";
import { loadConfig } from "@tonearm/config";
import { replayDeadScrobbles, type ReplayReport } from "@tonearm/worker";
import { formatTable } from "./table.js";

interface Target {
  readonly nats?: string;
  readonly namespace?: string;
  readonly url?: string;
  readonly config?: string;
}

export function registerScrobbleCommands(program: Command): void {
  const scrobbles = program.command("scrobbles").description("scrobble delivery to the Scrobbler plugins of a running Tonearm");
  targetOptions(scrobbles.command("status").description("per plugin: events pending, redelivered and dead-lettered")).action(runStatus);
  targetOptions(scrobbles.command("replay").argument("<plugin>", "plugin id").description("deliver a plugin's dead letters again")).action(
    runReplay,
  );
}

function targetOptions(command: Command): Command {
  return command
    .option("--nats <url>", "NATS server(s) of the cluster, comma-separated")
    .option("--namespace <ns>", "cluster namespace (default: the config's)")
    .option("--url <base>", "operations address of a running `tonearm start`, e.g. http://127.0.0.1:8481")
    .option("-c, --config <file>", "TOML configuration file");
}

async function runStatus(options: Target): Promise<void> {
  await run(async () => {
    const plugins = options.url
      ? ((await httpJson(options.url, "GET", "/v1/scrobbles/status")) as { plugins: ScrobbleStatus[] }).plugins
      : await onBus(options, async (bus) => {
          const catalog = watchPluginCatalog(bus, bus.namespace);
          try {
            await catalog.ready;
            return await scrobbleStatus(bus, catalog.all());
          } finally {
            catalog.close();
          }
        });
    process.stdout.write(`${statusTable(plugins)}\n`);
  });
}

async function runReplay(plugin: string, options: Target): Promise<void> {
  await run(async () => {
    const report = options.url
      ? ((await httpJson(options.url, "POST", `/v1/scrobbles/replay/${encodeURIComponent(plugin)}`)) as ReplayReport)
      : await onBus(options, (bus) => replayDeadScrobbles(bus, plugin));
    process.stdout.write(`${plugin}: ${report.delivered} delivered, ${report.dropped} dropped (not authorized or not scrobbled), ${report.failed.length} failed\n`);
    for (const failure of report.failed) process.stdout.write(`  seq ${failure.seq} user ${failure.user}: ${failure.reason}\n`);
    if (report.failed.length > 0) process.exitCode = 1;
  });
}

export function statusTable(plugins: readonly ScrobbleStatus[]): string {
  if (plugins.length === 0) return "no Scrobbler plugins";
  const rows = plugins.map((p) => [p.plugin, String(p.pending), String(p.redelivered), String(p.deadLettered), p.parked ? "parked" : p.consumer ? "delivering" : "waiting"]);
  return formatTable([["PLUGIN", "PENDING", "REDELIVERED", "DEAD-LETTERED", "STATE"], ...rows]);
}

async function onBus<T>(options: Target, work: (bus: Bus) => Promise<T>): Promise<T> {
  const config = await loadConfig(options.config ? { file: options.config } : {});
  const servers = options.nats ? options.nats.split(",") : [...config.nats.servers];
  const bus = await connectNatsBus({ servers, namespace: options.namespace ?? config.namespace, name: "tonearm-scrobbles" });
  try {
    return await work(bus);
  } finally {
    await bus.close();
  }
}

async function httpJson(base: string, method: string, path: string): Promise<unknown> {
  const response = await fetch(new URL(path, base), { method });
  const body = (await response.json()) as unknown;
  if (!response.ok) {
    const { code, message } = body as { code?: string; message?: string };
    throw new Error(`${code ?? response.status}: ${message ?? response.statusText}`);
  }
  return body;
}

async function run(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
