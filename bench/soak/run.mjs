// Soak: a cluster of separate OS processes (registry, two workers, scheduler, gateway) on the real
// NATS and Redis, in a namespace of its own, under mixed load for `--minutes`: plugin calls,
// agents calls, scrobble submits to three recording scrobblers, schedules (multi_plugin's
// recurring one and one-time ones its GetArtistURL sets) and a WebSocket feed followed by the
// ws-ticker example. Every `--kill-every` seconds one worker and the gateway are killed with
// SIGKILL and started again a few seconds later.
//
// Checks: no process exits unless we killed it (a crash), every submitted event reaches every
// scrobbler (after a drain period), no call outlives its deadline (a hang), and the ws-ticker
// connection comes back after each gateway kill. RSS of each process is sampled from /proc.
//
//   npm run soak -- [--minutes 10] [--kill-every 60] [--report-every 30] [--drain 120]
//
// Prints a line per report interval, then a Markdown summary; writes bench/results/soak-latest.json.
// Exits 1 when a process crashed, an event was lost or a call hung.
import { cp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { callPlugin, connectNatsBus } from "@tonearm/bus";
import { ScrobbleRecorder, natsUrl, redisUrl, testNamespace } from "@tonearm/test-harness";
import { Redis } from "ioredis";
import { WebSocketServer } from "ws";
import { Cluster, waitFor } from "../lib/cluster.mjs";
import { installPlugin, pluginSource, tempFolder, writeConfig } from "../lib/fixtures.mjs";
import { median } from "../stats.mjs";
import { CALL_TIMEOUT_MS, Counts, OPERATIONS, ScrobbleLedger, callOnce, runCallLoops, runScrobbles } from "./load.mjs";
import { ProcessSlot } from "./processes.mjs";
import { markdownSummary } from "./summary.mjs";

const RESULTS = fileURLToPath(new URL("../results/soak-latest.json", import.meta.url));
const LOG = fileURLToPath(new URL("../results/soak-latest.log", import.meta.url));
const WS_TICKER = fileURLToPath(new URL("../../examples/.build/ws-ticker", import.meta.url));
const SCROBBLERS = ["scrobbler_a", "scrobbler_b", "scrobbler_c"];
/** A killed process is started again this long after its SIGKILL. */
const RESTART_AFTER_MS = 3_000;
/**
 * Errors this long after a kill count as caused by it: the dead worker's calls time out (deadline
 * 5 s), and its scrobble leases pass to the survivor after 10 s.
 */
const KILL_WINDOW_MS = RESTART_AFTER_MS + CALL_TIMEOUT_MS + 12_000;
/**
 * An event not at every scrobbler this long after its publish is "lost so far": the lease of a dead
 * worker's plugins (10 s) plus the ack wait before redelivery (call deadline + 5 s), twice over.
 */
const LATE_AFTER_MS = 60_000;
const RSS_EVERY_MS = 5_000;
/** RSS is flat when the end figure is within this of the after-warm-up one. */
const FLAT_BOUND = { mb: 24, ratio: 0.2 };

const { values: args } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    "kill-every": { type: "string", default: "60" },
    "report-every": { type: "string", default: "30" },
    drain: { type: "string", default: "120" },
    loops: { type: "string", default: "6" },
    "scrobbles-per-second": { type: "string", default: "20" },
    // The processes' log level; their last output goes to bench/results/soak-latest.log.
    "log-level": { type: "string", default: "warn" },
  },
});
const options = {
  durationMs: Number(args.minutes) * 60_000,
  killEveryMs: Number(args["kill-every"]) * 1_000,
  reportEveryMs: Number(args["report-every"]) * 1_000,
  drainMs: Number(args.drain) * 1_000,
  loops: Number(args.loops),
  scrobbleIntervalMs: 1_000 / Number(args["scrobbles-per-second"]),
};
for (const [name, value] of Object.entries(options)) {
  // No kills at all (--kill-every 0) leaves every process running: an RSS trend for each.
  if (!(value > 0) && !(name === "killEveryMs" && value === 0)) throw new Error(`--${name} must be a positive number`);
}
// RSS "after warm-up" is the median over a window starting here; "at end" over the last window.
const warmupMs = Math.min(120_000, options.durationMs / 4);
const rssWindowMs = Math.min(60_000, options.durationMs / 4);

const log = (line) => console.log(line);
const startedAt = Date.now();
const elapsed = () => Date.now() - startedAt;
const clock = (ms) => `${String(Math.floor(ms / 60_000)).padStart(2, "0")}:${String(Math.floor((ms % 60_000) / 1000)).padStart(2, "0")}`;

const namespace = testNamespace("soak");
const folder = await tempFolder("soak");
const recorder = new ScrobbleRecorder();
await recorder.start();
const feed = await startFeed();
const cluster = new Cluster({ namespace, configFile: await writeConfig(folder, await pluginsAndConfig(join(folder, "plugins"))) });
const slotOptions = { restartAfterMs: RESTART_AFTER_MS, env: { TONEARM_LOG_LEVEL: args["log-level"] }, log: (line) => log(`[${clock(elapsed())}] ${line}`) };
const slots = {
  registry: new ProcessSlot(cluster, "registry", "registry", slotOptions),
  worker1: new ProcessSlot(cluster, "worker-1", "worker", slotOptions),
  worker2: new ProcessSlot(cluster, "worker-2", "worker", slotOptions),
  scheduler: new ProcessSlot(cluster, "scheduler", "scheduler", slotOptions),
  gateway: new ProcessSlot(cluster, "gateway", "gateway", slotOptions),
};
const bus = await connectNatsBus({ servers: await natsUrl(), namespace, name: "soak" });
const counts = new Counts();
const ledger = new ScrobbleLedger(recorder, SCROBBLERS, namespace);
const unexpected = [];
const kills = [];
/** Scrobbles delivered by each worker pid at the last kill round. */
const lastDelivered = new Map();
const reports = [];
const driverRss = [];
let loadStopped = false;
let result;

try {
  log(`soak: namespace ${namespace}, ${options.durationMs / 60_000} min, kill every ${options.killEveryMs / 1000} s, ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  await slots.registry.start();
  await Promise.all([slots.worker1.start(), slots.worker2.start(), slots.scheduler.start(), slots.gateway.start()]);
  await waitUntilServing();
  log(`cluster up after ${(elapsed() / 1000).toFixed(1)} s; ws-ticker connected to the feed`);

  const loadStartedAt = Date.now();
  const loadElapsed = () => Date.now() - loadStartedAt;
  const until = () => loadStopped;
  const nearKill = () => kills.some((k) => Date.now() - k.atMs < KILL_WINDOW_MS);
  const running = [
    runCallLoops(bus, namespace, {
      loops: options.loops,
      pauseMs: 10,
      until,
      nearKill,
      counts,
      onUnexpected: (operation, outcome) => {
        if (unexpected.length < 50) unexpected.push({ atMs: loadElapsed(), operation: operation.name, ...outcome });
      },
    }),
    runScrobbles(bus, ledger, { intervalMs: options.scrobbleIntervalMs, until }),
    scheduleCalls(until),
  ];
  const timers = [
    options.killEveryMs > 0 && setInterval(() => void killRound(loadElapsed()).catch((err) => log(`kill round failed: ${err.message}`)), options.killEveryMs),
    setInterval(() => void report(loadElapsed()).catch((err) => log(`report failed: ${err.message}`)), options.reportEveryMs),
    // Between reports too, so the medians of the RSS trends have enough samples.
    setInterval(() => void sampleRss(loadElapsed()).catch(() => {}), RSS_EVERY_MS),
  ];
  await new Promise((resolve) => setTimeout(resolve, options.durationMs));
  timers.forEach((timer) => timer && clearInterval(timer));
  loadStopped = true;
  await Promise.all(running);
  const loadMs = loadElapsed();
  await report(loadMs);

  // Let redeliveries finish: restarted processes take over leases, the ack wait runs out.
  log(`load stopped; draining scrobbles for up to ${options.drainMs / 1000} s`);
  const drainStarted = Date.now();
  await waitFor(() => ledger.complete() && [...Object.values(slots)].every((s) => s.running), options.drainMs, () => "", 500).catch(() => {});
  const drainMs = Date.now() - drainStarted;
  const wsBack = await waitFor(() => feed.open() > 0, 60_000, () => "", 500).then(
    () => true,
    () => false,
  );
  const fires = await schedulerFires();
  result = summarize({ loadMs, drainMs, wsBack, fires });
} finally {
  await mkdir(join(RESULTS, ".."), { recursive: true });
  await writeFile(LOG, cluster.output());
  loadStopped = true;
  Object.values(slots).forEach((slot) => slot.stopping());
  await cluster.stop();
  await bus.close();
  await recorder.stop();
  await feed.close();
  await removeNamespaceKeys();
  await rm(folder, { recursive: true, force: true });
}

await writeFile(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
console.log(`\n${markdownSummary(result)}`);
console.log(`\nwritten to ${RESULTS}`);
process.exit(result.failures.length > 0 ? 1 : 0);

/** Plugin folder: the fixtures, three recording scrobblers and ws-ticker allowed onto the loopback feed. */
async function pluginsAndConfig(plugins) {
  for (const id of ["fake_artist_agent", "fake_album_agent", "multi_plugin"]) await installPlugin(pluginSource.fixture(id), plugins, id);
  await cp(WS_TICKER, join(plugins, "ws-ticker"), { recursive: true });
  const manifestFile = join(plugins, "ws-ticker", "manifest.json");
  const manifest = JSON.parse(await readFile(manifestFile, "utf8"));
  manifest.permissions.websocket = { reason: "the soak's feed on loopback", allowLocalNetwork: true, allowedUrls: [feed.url] };
  await writeFile(manifestFile, JSON.stringify(manifest, null, 2));
  const config = [
    `Agents = "fake_album_agent,multi_plugin,fake_artist_agent"`,
    `[Plugins]`,
    `Folder = "${plugins}"`,
    `AutoReload = false`,
    // A short deadline keeps the scrobble ack wait, and so redelivery after a kill, short.
    `[runtime]`,
    `callTimeoutMs = ${CALL_TIMEOUT_MS}`,
    `threadsMin = 1`,
    // The shared NATS keeps the soak's events an hour, not the default week.
    `[scrobbles]`,
    `retentionMs = 3600000`,
    `[PluginConfig.ws-ticker]`,
    `url = "${feed.url}"`,
    `subscribe = "subscribe"`,
    `ping = "ping"`,
  ];
  for (const id of SCROBBLERS) {
    await installPlugin(pluginSource.fixture("recording_scrobbler"), plugins, id);
    config.push(`[PluginConfig.${id}]`, `endpoint = "${recorder.endpoint(id)}"`, `users = "*"`);
  }
  return config;
}

/** A WebSocket feed on loopback pushing a tick a second to every connection. */
async function startFeed() {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise((resolve) => server.once("listening", resolve));
  const stats = { connections: 0, connectedAtMs: [], ticksSent: 0, messagesReceived: 0 };
  server.on("connection", (socket) => {
    stats.connections++;
    stats.connectedAtMs.push(Date.now());
    socket.on("message", () => stats.messagesReceived++);
    socket.on("error", () => {});
  });
  const ticker = setInterval(() => {
    for (const socket of server.clients) {
      socket.send(`tick ${stats.ticksSent++}`);
    }
  }, 1_000);
  return {
    url: `ws://127.0.0.1:${server.address().port}/feed`,
    stats,
    open: () => server.clients.size,
    close: () => {
      clearInterval(ticker);
      for (const socket of server.clients) socket.terminate();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Every call answers, every scrobbler took an event, and ws-ticker's OnInit reached the feed. */
async function waitUntilServing() {
  let last = "";
  await waitFor(
    async () => {
      for (const operation of OPERATIONS) {
        const outcome = await callOnce(bus, namespace, operation);
        if (outcome.code !== "ok") return (last = `${operation.name}: ${outcome.code} ${outcome.detail ?? ""}`), false;
      }
      return true;
    },
    60_000,
    () => `the cluster never answered every call (${last})\n${cluster.output()}`,
    500,
  );
  await ledger.publish(bus, -1);
  await waitFor(() => ledger.complete(), 60_000, () => `the scrobblers never took the first event\n${cluster.output()}`, 200);
  await waitFor(() => feed.open() > 0, 60_000, () => `ws-ticker never connected to the feed\n${cluster.output()}`, 200);
}

/** multi_plugin's GetArtistURL sets a one-time schedule 6 s ahead; one such call every 2 s. */
async function scheduleCalls(until) {
  for (let n = 0; !until(); n++) {
    const call = { plugin: "multi_plugin", capability: "MetadataAgent", method: "GetArtistURL", json: { id: `${n}`, name: `soak ${n}` }, timeoutMs: CALL_TIMEOUT_MS };
    await callPlugin(bus, namespace, call).then(
      () => counts.ok++,
      (err) => counts.add(err.code ?? "error", kills.some((k) => Date.now() - k.atMs < KILL_WINDOW_MS)),
    );
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
}

/**
 * SIGKILL the worker delivering scrobbles (the one whose delivered count grew most since the last
 * round: it holds the plugins' leases) and the gateway; their slots start them again.
 */
async function killRound(atMs) {
  const delivered = await Promise.all([slots.worker1, slots.worker2].map(async (slot) => ({ slot, pid: slot.pid, count: await deliveredBy(slot) })));
  const grown = delivered.map((d) => ({ ...d, growth: d.count - (lastDelivered.get(d.pid) ?? 0) }));
  const worker = grown.sort((a, b) => b.growth - a.growth)[0].slot;
  for (const d of delivered) lastDelivered.set(d.pid, d.count);
  for (const slot of [worker, slots.gateway]) {
    const pid = slot.pid;
    if (slot.kill()) kills.push({ atMs: Date.now(), elapsedMs: atMs, role: slot.role, name: slot.name, pid });
  }
  log(`[${clock(atMs)}] SIGKILL ${worker.name} and gateway`);
}

/** Scrobbles a worker process delivered, from its /metrics; 0 when it is down. */
async function deliveredBy(slot) {
  if (slot.port === undefined) return 0;
  const text = await fetch(`http://127.0.0.1:${slot.port}/metrics`, { signal: AbortSignal.timeout(2_000) })
    .then((r) => r.text())
    .catch(() => "");
  return text
    .split("\n")
    .filter((line) => line.startsWith("tonearm_scrobble_events_total{") && line.includes('outcome="delivered"'))
    .reduce((sum, line) => sum + Number(line.split(" ").at(-1)), 0);
}

/** RSS of every process now (MiB; undefined while down), kept for the trends. */
async function sampleRss(atMs) {
  const rss = {};
  for (const slot of Object.values(slots)) rss[slot.name] = await slot.sampleRss(atMs);
  rss.driver = Math.round((process.memoryUsage.rss() / 2 ** 20) * 10) / 10;
  driverRss.push({ elapsedMs: atMs, mb: rss.driver });
  return rss;
}

async function report(atMs) {
  const rss = await sampleRss(atMs);
  const scrobbles = ledger.status(LATE_AFTER_MS);
  const received = Math.min(...Object.values(scrobbles).map((s) => s.received));
  const lostSoFar = Math.max(...Object.values(scrobbles).map((s) => s.late));
  const line = {
    elapsedMs: atMs,
    callsOk: counts.ok,
    callErrors: { ...counts.errors },
    scrobblesPublished: ledger.published,
    scrobblesReceived: received,
    scrobblesLostSoFar: lostSoFar,
    wsOpen: feed.open(),
    rssMb: rss,
  };
  reports.push(line);
  const errors = Object.entries(counts.errors).map(([code, n]) => `${code} ${n}`).join(", ") || "none";
  const memory = Object.entries(rss).map(([name, mb]) => `${name} ${mb ?? "down"}`).join(", ");
  log(
    `[${clock(atMs)}] calls ok ${counts.ok}, errors ${errors} | scrobbles published ${ledger.published}, received by all ${received}, lost so far ${lostSoFar} | ws open ${feed.open()} | RSS MiB ${memory}`,
  );
}

/** Scheduled callbacks fired, by plugin and outcome, from the scheduler's /metrics. */
async function schedulerFires() {
  const port = slots.scheduler.port;
  if (port === undefined) return {};
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const fires = {};
  for (const line of text.split("\n")) {
    if (!line.startsWith("tonearm_scheduler_fires_total{")) continue;
    const plugin = /plugin="([^"]*)"/.exec(line)?.[1];
    const outcome = /outcome="([^"]*)"/.exec(line)?.[1];
    fires[plugin] = { ...fires[plugin], [outcome]: Number(line.split(" ").at(-1)) };
  }
  return fires;
}

/** RSS after warm-up and at the end of one process's samples; flat within FLAT_BOUND. */
function rssTrend(samples, loadMs) {
  const warm = samples.filter((s) => s.elapsedMs >= warmupMs && s.elapsedMs <= warmupMs + rssWindowMs).map((s) => s.mb);
  const end = samples.filter((s) => s.elapsedMs >= loadMs - rssWindowMs).map((s) => s.mb);
  const afterWarmup = median(warm);
  const atEnd = median(end);
  if (afterWarmup === undefined || atEnd === undefined) return { afterWarmupMb: afterWarmup, atEndMb: atEnd, flat: undefined };
  const growth = Math.round((atEnd - afterWarmup) * 10) / 10;
  return { afterWarmupMb: afterWarmup, atEndMb: atEnd, growthMb: growth, flat: growth <= Math.max(FLAT_BOUND.mb, afterWarmup * FLAT_BOUND.ratio) };
}

function summarize({ loadMs, drainMs, wsBack, fires }) {
  const scrobbles = ledger.status(0);
  const lost = Math.max(...Object.values(scrobbles).map((s) => s.missing));
  const processes = Object.values(slots).map((slot) => {
    const restarted = slot.incarnations.length > 1;
    return {
      name: slot.name,
      role: slot.role,
      killed: slot.kills,
      crashes: slot.crashes.map(({ output, ...crash }) => ({ ...crash, outputTail: output.slice(-1_500) })),
      incarnations: slot.incarnations.length,
      // A process killed on schedule lives too short for a trend: the highest RSS of each one instead.
      rss: restarted
        ? { maxMbPerProcess: slot.incarnations.map((i) => Math.max(0, ...i.rss.map((s) => s.mb))) }
        : rssTrend(slot.incarnations[0]?.rss ?? [], loadMs),
    };
  });
  const gatewayKills = kills.filter((k) => k.role === "gateway");
  const crashes = processes.reduce((n, p) => n + p.crashes.length, 0);
  const hangs = counts.errors.hang ?? 0;
  const failures = [];
  if (crashes > 0) failures.push(`${crashes} process crash(es)`);
  if (lost > 0) failures.push(`${lost} scrobble event(s) lost`);
  if (hangs > 0) failures.push(`${hangs} call(s) outlived their deadline`);
  if (!wsBack) failures.push("the ws-ticker connection did not come back after the last gateway kill");
  return {
    startedAt: new Date(startedAt).toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 2 ** 30), loadAverageAtEnd: loadavg().map((l) => Math.round(l * 100) / 100), node: process.version },
    options: { minutes: options.durationMs / 60_000, killEverySeconds: options.killEveryMs / 1000, reportEverySeconds: options.reportEveryMs / 1000, loops: options.loops, scrobblesPerSecond: 1_000 / options.scrobbleIntervalMs, callTimeoutMs: CALL_TIMEOUT_MS },
    loadSeconds: Math.round(loadMs / 1000),
    drainSeconds: Math.round(drainMs / 1000),
    calls: {
      total: counts.ok + counts.errorTotal,
      ok: counts.ok,
      perSecond: Math.round((counts.ok + counts.errorTotal) / (loadMs / 1000)),
      errors: counts.errors,
      errorsNearKill: counts.errorsNearKill,
      slowestMs: Math.round(counts.slowestMs),
      unexpected,
    },
    kills: { total: kills.length, byRole: Object.fromEntries(["worker", "gateway"].map((r) => [r, kills.filter((k) => k.role === r).length])), times: kills.map((k) => `${clock(k.elapsedMs)} ${k.name}`) },
    scrobbles: { published: ledger.published, publishErrors: ledger.publishErrors, plugins: scrobbles, lost },
    schedules: { fires },
    websocket: {
      connectionsOpened: feed.stats.connections,
      // From each gateway kill to ws-ticker's next connection to the feed (through the new gateway).
      reconnectSeconds: gatewayKills.map((k) => {
        const next = feed.stats.connectedAtMs.find((t) => t > k.atMs);
        return next === undefined ? null : Math.round((next - k.atMs) / 100) / 10;
      }),
      openAtEnd: feed.open(),
      backAfterLastKill: wsBack,
      ticksSent: feed.stats.ticksSent,
      messagesFromPlugin: feed.stats.messagesReceived,
    },
    processes,
    driverRss: rssTrend(driverRss, loadMs),
    rssFlatBound: `growth from after warm-up (median of ${rssWindowMs / 1000} s from ${warmupMs / 1000} s) to the end (median of the last ${rssWindowMs / 1000} s) at most max(${FLAT_BOUND.mb} MiB, ${FLAT_BOUND.ratio * 100}%)`,
    reports,
    failures,
  };
}

/** The namespace's keys in the shared Redis (caches, schedules); NATS keeps its streams an hour. */
async function removeNamespaceKeys() {
  const redis = new Redis(await redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `tonearm:${namespace}:*`, "COUNT", 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== "0");
  } catch (err) {
    log(`could not remove the namespace's Redis keys: ${err.message}`);
  } finally {
    redis.disconnect();
  }
}
