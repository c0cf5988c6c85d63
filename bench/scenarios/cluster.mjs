// The cluster paths, one registry and one then two worker processes on the real NATS and Redis:
// calls over NATS request-reply, the agents chain, scrobble fan-out, and install-to-first-call.
import { existsSync } from "node:fs";
import { cp, stat } from "node:fs/promises";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { callPlugin, connectNatsBus, decodeCallReply, encodeCallRequest, publishScrobble, subjects } from "@tonearm/bus";
import { api, bus as busProto } from "@tonearm/proto";
import { ScrobbleRecorder, natsUrl, testNamespace } from "@tonearm/test-harness";
import { Cluster, rssMb, waitFor } from "../lib/cluster.mjs";
import { installPlugin, pluginSource, tempFolder, writeConfig } from "../lib/fixtures.mjs";
import { load } from "../stats.mjs";
import { MBID_REQUEST, checkMbid } from "./calls-local.mjs";

export const SCROBBLERS = ["scrobbler_1", "scrobbler_2", "scrobbler_3"];
const AGENTS = ["not_found_1", "not_found_2", "fake_artist_agent"];
const BIOGRAPHY = "This is a test biography";
/** Copies of fake_artist_agent that, with the agents and scrobblers, make the 10 plugins of `footprint`. */
const ARTIST_COPIES = ["artist_1", "artist_2", "artist_3", "artist_4"];

/** Installs the SCROBBLERS (recording_scrobbler copies reporting to `recorder`); returns their config lines. */
export async function installScrobblers(plugins, recorder) {
  const config = [];
  for (const id of SCROBBLERS) {
    await installPlugin(pluginSource.fixture("recording_scrobbler"), plugins, id);
    config.push(`[PluginConfig.${id}]`, `endpoint = "${recorder.endpoint(id)}"`, `users = "*"`);
  }
  return config;
}

export async function clusterScenarios({ quick }) {
  const namespace = testNamespace("bench");
  const folder = await tempFolder("cluster");
  const plugins = join(folder, "plugins");
  const recorder = new ScrobbleRecorder();
  await recorder.start();
  await installPlugin(pluginSource.fixture("fake_artist_agent"), plugins, "fake_artist_agent");
  for (const id of ARTIST_COPIES) await installPlugin(pluginSource.fixture("fake_artist_agent"), plugins, id);
  for (const id of AGENTS.slice(0, 2)) await installPlugin(pluginSource.bench("not_found_agent"), plugins, id);
  const config = [`Agents = "${AGENTS.join(",")}"`, `[Plugins]`, `Folder = "${plugins}"`, `AutoReload = true`];
  config.push(...(await installScrobblers(plugins, recorder)));
  const cluster = new Cluster({ namespace, configFile: await writeConfig(folder, config) });
  const bus = await connectNatsBus({ servers: await natsUrl(), namespace, name: "bench" });
  const results = {};
  const step = timer();
  try {
    await cluster.start("registry");
    const firstWorker = await cluster.start("worker");
    const callOf = (plugin) => async () =>
      checkMbid(await callPlugin(bus, namespace, { plugin, capability: "MetadataAgent", method: "GetArtistMBID", request: MBID_REQUEST, timeoutMs: 10_000 }));
    const call = callOf("fake_artist_agent");
    let lastError;
    await waitFor(
      () => call().then(() => true, (err) => ((lastError = err), false)),
      60_000,
      () => `fake_artist_agent never answered over NATS: ${lastError?.message}\n${cluster.output()}`,
    );

    step("cluster up");
    results.call_nats_1w_c1 = await load(call, { total: quick ? 1_000 : 10_000, concurrency: 1 });
    results.call_nats_1w_c64 = await load(call, { total: quick ? 1_000 : 40_000, concurrency: 64 });
    step('results.call_nats_1w_c64');
    results.agents_chain = await agentsChain(bus, namespace, quick);
    step('results.agents_chain');
    const fanout1 = await scrobbleFanout(bus, recorder, "w1", quick);
    step('fanout1');

    results.footprint = await footprint(firstWorker, [call, ...ARTIST_COPIES.map(callOf)], quick);
    step("footprint");
    results.cold_start_as = await coldStart(bus, namespace, plugins, "cold_as", pluginSource.fixture("fake_artist_agent"), answersMbid);
    // A Go plugin of the usual size (Go's runtime, encoding/json, net/url: 3.2 MB): the Last.fm
    // example. Without an API key its first call runs its code and answers its own error.
    results.cold_start_go = await coldStart(bus, namespace, plugins, "cold_go", pluginSource.example("lastfm-agent-go"), answersOwnError);
    step("cold starts");

    await cluster.start("worker");
    await waitForBothWorkers(call, quick);
    step('waitForBothWorkers(call);');
    results.call_nats_2w_c64 = await load(call, { total: quick ? 1_000 : 40_000, concurrency: 64 });
    step('results.call_nats_2w_c64');
    const fanout2 = await scrobbleFanout(bus, recorder, "w2", quick);
    step('fanout2');
    results.scrobble_fanout = {
      ops_per_s: fanout1.ops_per_s,
      lost: fanout1.lost,
      out_of_order: fanout1.out_of_order + fanout2.out_of_order,
      events: fanout1.events,
      plugins: SCROBBLERS.length,
      workers_1_ops_per_s: fanout1.ops_per_s,
      workers_1_lost: fanout1.lost,
      workers_2_ops_per_s: fanout2.ops_per_s,
      workers_2_lost: fanout2.lost,
    };
  } finally {
    await cluster.stop();
    await bus.close();
    await recorder.stop();
  }
  return results;
}

/** Logs the seconds each step took, to stderr. */
function timer() {
  let last = performance.now();
  return (what) => {
    const now = performance.now();
    if (process.env.BENCH_VERBOSE) console.error(`  ${what}: ${((now - last) / 1000).toFixed(1)} s`);
    last = now;
  };
}

/** Lets a few hundred calls through so the second worker has loaded the plugin before timing. */
async function waitForBothWorkers(call, quick) {
  await load(call, { total: quick ? 300 : 1_000, concurrency: 32, warmup: 0 });
}

async function agentsChain(bus, namespace, quick) {
  const subject = subjects(namespace).agents("GetArtistBiography");
  const request = toBinary(api.ArtistBiographyRequestSchema, create(api.ArtistBiographyRequestSchema, { id: "1", name: "The Beatles" }));
  const call = async () => {
    const wire = encodeCallRequest(request, { deadlineMs: Date.now() + 10_000 });
    const reply = await bus.request(subject, wire.data, { timeoutMs: 10_000, headers: wire.headers });
    const answer = fromBinary(api.ArtistBiographyResponseSchema, decodeCallReply(reply));
    if (answer.biography !== BIOGRAPHY || reply.headers["Tonearm-Agent"] !== "fake_artist_agent") {
      throw new Error(`agents chain answered ${JSON.stringify(answer.biography)} from ${reply.headers["Tonearm-Agent"]}`);
    }
  };
  await waitFor(() => call().then(() => true, () => false), 30_000, () => "the agents chain never answered");
  return { ...(await load(call, { total: quick ? 500 : 5_000, concurrency: 1 })), agents: AGENTS.length };
}

/**
 * Steady-state fan-out: a first round of events (one per user) loads the scrobblers and starts
 * their consumers, untimed; then submit events are published and the run waits until every
 * scrobbler received every one (or nothing arrived for 15 s). events/s from the first publish to
 * the last delivery; `lost` counts events some plugin never received, `out_of_order` deliveries
 * of a user's event to a plugin after a later event of that user.
 */
async function scrobbleFanout(bus, recorder, tag, quick) {
  await publishAndWait(bus, recorder, `${tag}warm`, USERS);
  return publishAndWait(bus, recorder, tag, quick ? 1_000 : 10_000);
}

export const USERS = 50;

export async function publishAndWait(bus, recorder, tag, events) {
  const prefix = `${tag}-`;
  // Read incrementally: the recorder's list grows to tens of thousands of entries, and this
  // process also answers the plugins' HTTP posts.
  const seen = SCROBBLERS.map(() => new Set());
  const lastOfUser = new Map();
  let read = 0;
  let outOfOrder = 0;
  const receivedOf = () => {
    for (; read < recorder.received.length; read++) {
      const r = recorder.received[read];
      const plugin = SCROBBLERS.indexOf(r.plugin);
      if (plugin < 0 || !r.track.startsWith(prefix)) continue;
      seen[plugin].add(r.track);
      const index = Number(r.track.slice(prefix.length));
      const key = `${r.plugin}/${r.user}`;
      if ((lastOfUser.get(key) ?? -1) > index) outOfOrder++;
      lastOfUser.set(key, index);
    }
    return seen.map((s) => s.size);
  };
  const started = performance.now();
  const timestamp = BigInt(Math.floor(Date.now() / 1000));
  for (let i = 0; i < events; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, events - i) }, (_, k) =>
        publishScrobble(bus, {
          kind: busProto.ScrobbleEvent_Kind.SUBMIT,
          userId: `user${(i + k) % USERS}`,
          track: { id: `${prefix}${i + k}`, artists: [{ name: "Artist" }], length: 180 },
          timestamp,
          eventId: `${prefix}${i + k}`,
        }),
      ),
    );
  }
  let last = receivedOf();
  let lastProgress = performance.now();
  let finished = started;
  while (last.some((n) => n < events) && performance.now() - lastProgress < 15_000) {
    await new Promise((r) => setTimeout(r, 20));
    const now = receivedOf();
    if (now.some((n, i) => n > last[i])) {
      lastProgress = finished = performance.now();
      last = now;
    }
  }
  finished = last.every((n) => n === events) ? finished : performance.now();
  const lost = last.reduce((sum, n) => sum + (events - n), 0);
  return { events, ops_per_s: Math.round(events / ((finished - started) / 1000)), lost, out_of_order: outOfOrder };
}

/**
 * RSS of the only worker once its 10 plugins are loaded (the scrobblers and agents were called by
 * the scenarios before), and its growth over many calls spread over five of them.
 */
async function footprint(worker, calls, quick) {
  for (const call of calls) await call();
  const total = quick ? 5_000 : 100_000;
  const before = await rssMb(worker.child.pid);
  let next = 0;
  await load(() => calls[next++ % calls.length](), { total, concurrency: 16, warmup: 0 });
  const after = await rssMb(worker.child.pid);
  return { rss_mb: before, rss_growth_mb: Math.round((after - before) * 10) / 10, calls: total, plugins: 10 };
}

/** The fixture's answer to GetArtistMBID. */
const answersMbid = (outcome) => outcome.ok && (checkMbid(outcome.bytes), true);
/** The Last.fm example's answer without an API key: an error its own code returned. */
const answersOwnError = (outcome) => !outcome.ok && outcome.error.code === "plugin_error" && /no Last\.fm API key/.test(outcome.error.message);

/** From copying a built plugin into the watched folder to its first answer (`answered`) over NATS. */
async function coldStart(bus, namespace, plugins, id, source, answered) {
  // Go plugins are built only where Go is installed.
  if (!existsSync(source)) return { skipped: `${source} is not built (Go 1.24 or later on PATH builds it)` };
  const call = () =>
    callPlugin(bus, namespace, { plugin: id, capability: "MetadataAgent", method: "GetArtistMBID", request: MBID_REQUEST, timeoutMs: 10_000 }).then(
      (bytes) => answered({ ok: true, bytes }),
      (error) => answered({ ok: false, error }),
    );
  const wasmMb = (await stat(join(source, "plugin.wasm"))).size / 2 ** 20;
  const started = performance.now();
  await cp(source, join(plugins, id), { recursive: true });
  await waitFor(call, 60_000, () => `${id} never answered after install`, 5);
  const ms = performance.now() - started;
  return {
    ms: Math.round(ms),
    wasm_mb: Math.round(wasmMb * 100) / 100,
    p50_us: Math.round(ms * 1000),
    p99_us: Math.round(ms * 1000),
    ops_per_s: Math.round((1000 / ms) * 100) / 100,
  };
}
