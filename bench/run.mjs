#!/usr/bin/env node
// Runs Tonearm's benchmarks and its peers side by side in one run: prints a Markdown table and
// writes bench/results/latest.json. `--quick` uses smaller counts (under a minute) with the same
// keys. Not part of `npm test`: machines are shared and noisy, so figures are medians and
// percentiles, compared as ratios. BENCH_VERBOSE=1 logs each step's duration.
import { mkdir, writeFile } from "node:fs/promises";
import { availableParallelism, cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { buildBenchPlugins } from "./lib/fixtures.mjs";
import { extismCalls, threadCalls } from "./scenarios/calls-local.mjs";
import { clusterScenarios } from "./scenarios/cluster.mjs";
import { scheduleLateness } from "./scenarios/schedules.mjs";

const ORDER = [
  "call_thread_c1",
  "call_thread_c16",
  "call_extism_fg",
  "call_extism_worker",
  "call_nats_1w_c1",
  "call_nats_1w_c64",
  "call_nats_2w_c64",
  "agents_chain",
  "scrobble_fanout",
  "schedule_lateness",
  "cold_start_as",
  "cold_start_go",
  "footprint",
];

const quick = process.argv.includes("--quick");
const results = fileURLToPath(new URL("results/", import.meta.url));
const machine = {
  cpu: cpus()[0]?.model ?? "unknown",
  cores: availableParallelism(),
  memory_gib: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  date: new Date().toISOString(),
  quick,
};
console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memory_gib} GiB, Node ${machine.node}${quick ? " (quick)" : ""}`);

const started = performance.now();
await buildBenchPlugins();
const scenarios = {};
for (const group of [threadCalls, extismCalls, clusterScenarios, scheduleLateness]) {
  const t0 = performance.now();
  Object.assign(scenarios, await group({ quick }));
  if (process.env.BENCH_VERBOSE) console.error(`${group.name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
const missing = ORDER.filter((name) => !(name in scenarios));
if (missing.length > 0) throw new Error(`scenarios without figures: ${missing.join(", ")}`);

const ordered = Object.fromEntries(ORDER.map((name) => [name, scenarios[name]]));
console.log(`\n${markdownTable(ordered)}`);
const ratio = (a, b) => Math.round((ordered[a].p50_us / ordered[b].p50_us) * 10) / 10;
console.log(`\ncall_extism_worker / call_thread_c1 (p50): ${ratio("call_extism_worker", "call_thread_c1")}`);
console.log(`call_nats_1w_c1 / call_thread_c1 (p50): ${ratio("call_nats_1w_c1", "call_thread_c1")}`);
console.log(`\n${((performance.now() - started) / 1000).toFixed(1)} s`);
await mkdir(results, { recursive: true });
await writeFile(`${results}latest.json`, `${JSON.stringify({ machine, scenarios: ordered }, null, 2)}\n`);
// Worker threads and sockets of the peers may linger; the figures are written.
process.exit(0);

function markdownTable(rows) {
  const lines = ["| scenario | p50 µs | p99 µs | ops/s | other |", "|---|---:|---:|---:|---|"];
  for (const [name, { p50_us, p99_us, ops_per_s, ...other }] of Object.entries(rows)) {
    const extra = Object.entries(other)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
    lines.push(`| ${name} | ${p50_us ?? "-"} | ${p99_us ?? "-"} | ${ops_per_s ?? "-"} | ${extra} |`);
  }
  return lines.join("\n");
}
