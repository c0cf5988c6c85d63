#!/usr/bin/env node
// One cluster path at a time, for before/after comparisons: `calls` (callPlugin over NATS, 1 and
// 64 in flight) or `fanout` (submit events to three recording scrobblers) against one registry and
// one worker process of this tree. Besides latency and throughput it reports the worker's CPU time
// per call or event, main thread and whole process (from /proc, in 10 ms ticks): on a shared
// machine that moves much less with the neighbours than latency does. Prints one JSON line.
//
//   node bench/focus.mjs calls [--c1 3000] [--c64 6000]
//   node bench/focus.mjs fanout [--events 3000]
//   BENCH_WORKER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" node bench/focus.mjs calls
//
// Compare two trees (e.g. a copy of the tree before a change) by running each in turn, A B A B…
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { callPlugin, connectNatsBus } from "@tonearm/bus";
import { ScrobbleRecorder, natsUrl, testNamespace } from "@tonearm/test-harness";
import { Cluster, waitFor } from "./lib/cluster.mjs";
import { installPlugin, pluginSource, tempFolder, writeConfig } from "./lib/fixtures.mjs";
import { MBID_REQUEST, checkMbid } from "./scenarios/calls-local.mjs";
import { USERS, installScrobblers, publishAndWait } from "./scenarios/cluster.mjs";
import { load } from "./stats.mjs";

const [what, ...args] = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
if (what !== "calls" && what !== "fanout") throw new Error("usage: node bench/focus.mjs calls|fanout [--c1 N] [--c64 N] [--events N]");

const namespace = testNamespace("focus");
const folder = await tempFolder("focus");
const plugins = join(folder, "plugins");
const recorder = new ScrobbleRecorder();
await recorder.start();
await installPlugin(pluginSource.fixture("fake_artist_agent"), plugins, "fake_artist_agent");
const config = [`[Plugins]`, `Folder = "${plugins}"`, ...(await installScrobblers(plugins, recorder))];
const cluster = new Cluster({ namespace, configFile: await writeConfig(folder, config) });
const bus = await connectNatsBus({ servers: await natsUrl(), namespace, name: "focus" });
const out = {};
try {
  await cluster.start("registry");
  const worker = await cluster.start("worker");
  const call = async () =>
    checkMbid(await callPlugin(bus, namespace, { plugin: "fake_artist_agent", capability: "MetadataAgent", method: "GetArtistMBID", request: MBID_REQUEST, timeoutMs: 10_000 }));
  await waitFor(() => call().then(() => true, () => false), 60_000, () => `fake_artist_agent never answered\n${cluster.output()}`);
  const perOp = cpuMeter(worker.child.pid);
  if (what === "calls") {
    await load(call, { total: 2_000, concurrency: 64, warmup: 0 });
    for (const [name, concurrency, total] of [["c1", 1, option("c1", 3_000)], ["c64", 64, option("c64", 6_000)]]) {
      const warmup = Math.min(500, total);
      out[name] = await perOp(total + warmup, () => load(call, { total, concurrency, warmup }));
    }
  } else {
    await publishAndWait(bus, recorder, "warm", USERS);
    const events = option("events", 3_000);
    out.fanout = await perOp(events, () => publishAndWait(bus, recorder, "run", events));
  }
} finally {
  await cluster.stop();
  await bus.close();
  await recorder.stop();
}
console.log(JSON.stringify(out));
process.exit(0);

/** Runs `work` and adds the worker's CPU microseconds per operation, main thread and process. */
function cpuMeter(pid) {
  const ticks = async (file) => {
    const fields = (await readFile(file, "utf8")).split(") ")[1].split(" ");
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  };
  const sample = async () => ({ main: await ticks(`/proc/${pid}/task/${pid}/stat`), all: await ticks(`/proc/${pid}/stat`) });
  return async (operations, work) => {
    const before = await sample();
    const result = await work();
    const after = await sample();
    const us = (t) => Math.round((t * 10_000) / operations);
    return { ...result, cpu_main_us: us(after.main - before.main), cpu_all_us: us(after.all - before.all) };
  };
}
