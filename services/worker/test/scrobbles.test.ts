// Scrobble fan-out on the in-memory bus and on real NATS: every Scrobbler plugin gets every event
// once, in order per user; unauthorized users reach no Scrobble; failures are retried, then
// dead-lettered and replayed; now-playing events coalesce and go stale.
import {
  ScrobbleKind,
  connectNatsBus,
  publishScrobble,
  scrobbleStatus,
  subjects,
  watchPluginCatalog,
  type Bus,
  type ScrobbleEventInit,
} from "@tonearm/bus";
import { defaultConfig, type ScrobbleSettings } from "@tonearm/config";
import { bus as busProto } from "@tonearm/proto";
import { createMetrics } from "@tonearm/telemetry";
import { ScrobbleRecorder, natsUrl, testNamespace } from "@tonearm/test-harness";
import { replayDeadScrobbles } from "@tonearm/worker";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Publisher, drainWorkers, memoryBus, startTestWorker } from "./support.js";

const run = promisify(execFile);

const fastRetries: ScrobbleSettings = { ...defaultConfig().scrobbles, retryInitialMs: 100, retryMaxMs: 400, maxDeliveries: 4 };

async function until(condition: () => boolean | Promise<boolean>, what: string, limitMs = 15_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const submit = (user: string, track: string, eventId: string, extra: Partial<ScrobbleEventInit> = {}): ScrobbleEventInit => ({
  kind: busProto.ScrobbleEvent_Kind.SUBMIT,
  userId: user,
  username: `name-of-${user}`,
  track: { id: track, name: `Track ${track}`, artists: [{ name: "Artist" }], length: 200 },
  timestamp: BigInt(Math.floor(Date.now() / 1000)),
  eventId,
  ...extra,
});

describe.each(["memory", "nats"] as const)("scrobble fan-out on the %s bus", (kind) => {
  let bus: Bus;
  let publisher: Publisher;
  let recorder: ScrobbleRecorder;

  beforeEach(async () => {
    const namespace = testNamespace(`scr${kind[0]}`);
    bus = kind === "memory" ? memoryBus(namespace) : await connectNatsBus({ servers: await natsUrl(), name: "scrobbles-test", namespace, waitForServer: false });
    publisher = await Publisher.open(bus);
    recorder = new ScrobbleRecorder();
    await recorder.start();
  });

  afterEach(async () => {
    await drainWorkers();
    await recorder.stop();
    await bus.close();
  });

  const scrobbler = (id: string, users = "*") =>
    publisher.fixture("plugins", "recording_scrobbler", { id, config: { endpoint: recorder.endpoint(id), users } });

  it("gives every event to every scrobbler once, in order per user, duplicates stored once", async () => {
    for (const id of ["scrobbler_a", "scrobbler_b", "scrobbler_c"]) await scrobbler(id);
    await startTestWorker(bus, { scrobbles: fastRetries });
    await startTestWorker(bus, { scrobbles: fastRetries });
    const events = Array.from({ length: 60 }, (_, i) => submit(`user${i % 4}`, `t${i}`, `event-${i}`));
    for (const event of events) await publishScrobble(bus, event);
    // Published again by a retrying client: the same event ids.
    for (const event of events.slice(0, 10)) expect((await publishScrobble(bus, event)).duplicate).toBe(true);
    await until(() => recorder.received.length >= 180, "180 scrobbles");
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const plugin of ["scrobbler_a", "scrobbler_b", "scrobbler_c"]) {
      const got = recorder.of(plugin);
      expect(got.map((r) => r.track).sort()).toEqual(events.map((e) => e.track!.id!).sort());
      for (const user of ["user0", "user1", "user2", "user3"]) {
        const sent = events.filter((e) => e.userId === user).map((e) => e.track!.id);
        expect(got.filter((r) => r.user === user).map((r) => r.track)).toEqual(sent);
      }
      expect(got.every((r) => r.position === 0 && r.username === `name-of-${r.user}`)).toBe(true);
    }
  });

  it("sends an unauthorized user's events to no Scrobble, and skips the unknown artist", async () => {
    await scrobbler("picky", "alice");
    await startTestWorker(bus, { scrobbles: fastRetries });
    await publishScrobble(bus, submit("mallory", "m1", "e-m1"));
    await publishScrobble(bus, submit("alice", "u1", "e-u1", { track: { id: "u1", artists: [{ name: "[Unknown Artist]" }] } }));
    await publishScrobble(bus, submit("alice", "a1", "e-a1"));
    await until(() => recorder.of("picky").length >= 1, "alice's scrobble");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(recorder.of("picky").map((r) => [r.user, r.track])).toEqual([["alice", "a1"]]);
  });

  it("retries a failing plugin until it recovers, holding the user's later events behind the failed one", async () => {
    await scrobbler("flaky");
    await scrobbler("steady");
    recorder.failing.add("flaky");
    await startTestWorker(bus, { scrobbles: fastRetries });
    await publishScrobble(bus, submit("ann", "first", "e-first"));
    await publishScrobble(bus, submit("ann", "second", "e-second"));
    await until(() => recorder.of("steady").length === 2, "the steady plugin's scrobbles");
    expect(recorder.of("flaky")).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 250));
    recorder.failing.delete("flaky");
    await until(() => recorder.of("flaky").length === 2, "the flaky plugin's scrobbles after it recovered");
    expect(recorder.of("flaky").map((r) => r.track)).toEqual(["first", "second"]);
  });

  it("dead-letters an event after its last delivery, and replays it once the plugin works", async () => {
    await scrobbler("broken");
    recorder.failing.add("broken");
    await startTestWorker(bus, { scrobbles: fastRetries });
    await publishScrobble(bus, submit("bob", "lost", "e-lost"));
    const catalog = watchPluginCatalog(bus, bus.namespace);
    await catalog.ready;
    try {
      await until(async () => (await scrobbleStatus(bus, catalog.all()))[0]?.deadLettered === 1, "a dead letter", 20_000);
      const [status] = await scrobbleStatus(bus, catalog.all());
      expect(status).toMatchObject({ plugin: "broken", pending: 0, deadLettered: 1, parked: false });
      // Still failing: the letter stays.
      const failed = await replayDeadScrobbles(bus, "broken", { retryHiddenMs: 100 });
      expect(failed).toMatchObject({ delivered: 0, failed: [{ user: "bob", reason: expect.stringContaining("503") as string }] });
      recorder.failing.delete("broken");
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await replayDeadScrobbles(bus, "broken")).toEqual({ plugin: "broken", delivered: 1, dropped: 0, failed: [] });
      expect(recorder.of("broken").map((r) => r.track)).toEqual(["lost"]);
      // Acknowledgements travel on their own: the count drops shortly after.
      await until(async () => (await scrobbleStatus(bus, catalog.all()))[0]?.deadLettered === 0, "the replayed letter to leave");
    } finally {
      catalog.close();
    }
  });

  it("dead-letters a malformed event for every plugin, and goes on with the user's next events", async () => {
    for (const id of ["scrobbler_a", "scrobbler_b"]) await scrobbler(id);
    await startTestWorker(bus, { scrobbles: fastRetries });
    const eve = subjects(bus.namespace).scrobble(ScrobbleKind.Submit, "eve");
    // Not protobuf (a truncated varint), and JSON that is no ScrobbleEvent, from a careless publisher.
    await bus.persist(eve, Uint8Array.of(0x08, 0xff, 0xff));
    await bus.persist(eve, new TextEncoder().encode('{"kind":"SUBMIT","track":'), { headers: { "Content-Type": "application/json" } });
    await publishScrobble(bus, submit("eve", "after", "e-after"));
    await until(() => recorder.received.length >= 2, "the valid event at both plugins");
    expect(recorder.received.map((r) => [r.plugin, r.track]).sort()).toEqual([
      ["scrobbler_a", "after"],
      ["scrobbler_b", "after"],
    ]);
    const catalog = watchPluginCatalog(bus, bus.namespace);
    await catalog.ready;
    try {
      // Acknowledgements travel on their own: pending drops shortly after the deliveries.
      const settled = async () => (await scrobbleStatus(bus, catalog.all())).every((s) => s.deadLettered === 2 && s.pending === 0);
      await until(settled, "two dead letters per plugin, nothing pending");
      expect((await scrobbleStatus(bus, catalog.all())).map((s) => s.plugin).sort()).toEqual(["scrobbler_a", "scrobbler_b"]);
      // A replay cannot deliver them either: they are reported and kept for the operator.
      const replay = await replayDeadScrobbles(bus, "scrobbler_a", { retryHiddenMs: 100 });
      expect(replay).toMatchObject({ delivered: 0, dropped: 0 });
      expect(replay.failed.map((f) => f.user)).toEqual(["eve", "eve"]);
    } finally {
      catalog.close();
    }
  });

  it("coalesces now playing to the latest per user, with its position, and drops stale ones", async () => {
    await scrobbler("np");
    const nowPlaying = (user: string, track: string, position: number, ageS = 0, length = 300): ScrobbleEventInit => ({
      kind: busProto.ScrobbleEvent_Kind.NOW_PLAYING,
      userId: user,
      track: { id: track, artists: [{ name: "Artist" }], length },
      position,
      timestamp: BigInt(Math.floor(Date.now() / 1000) - ageS),
      eventId: `np-${user}-${track}-${position}`,
    });
    // Published before any worker pulls: only the newest of each user is kept.
    await startTestWorker(bus, { scrobbles: fastRetries });
    await until(async () => (await bus.consumerInfo(`tonearm_${bus.namespace}_nowplaying`, "nowplaying_np")) !== undefined, "the now-playing consumer");
    await drainWorkers();
    for (const position of [1, 2, 3]) await publishScrobble(bus, nowPlaying("ann", "song", position));
    await publishScrobble(bus, nowPlaying("bob", "old-song", 10, 400, 200));
    await startTestWorker(bus, { scrobbles: fastRetries });
    await until(() => recorder.of("np", "nowplaying").length >= 1, "ann's now playing");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(recorder.of("np", "nowplaying").map((r) => [r.user, r.track, r.position])).toEqual([["ann", "song", 3]]);
  });

  it.runIf(kind === "nats")("takes events from a publisher that is not Tonearm code (the publisher example, JSON)", async () => {
    await scrobbler("plain");
    await startTestWorker(bus, { scrobbles: fastRetries });
    const script = fileURLToPath(new URL("../../../examples/publishers/publish-scrobble.mjs", import.meta.url));
    const env = { ...process.env, NATS_URL: await natsUrl(), TONEARM_NAMESPACE: bus.namespace, SCROBBLE_EVENT_ID: "from-example" };
    const first = await run(process.execPath, [script, "DJ Ann", "example-track"], { env });
    const again = await run(process.execPath, [script, "DJ Ann", "example-track"], { env });
    expect(JSON.parse(first.stdout)).toMatchObject({ duplicate: false, eventId: "from-example" });
    expect(JSON.parse(again.stdout)).toMatchObject({ duplicate: true });
    await until(() => recorder.of("plain").length === 1, "the example's scrobble");
    expect(recorder.of("plain")[0]).toMatchObject({ user: "DJ Ann", username: "DJ Ann", track: "example-track" });
  });

  it("keeps a new plugin's events from its first record and delivers them once it is READY, each on its first attempt", async () => {
    // A first install: the record is LOADING while a worker verifies it, and no version was READY before.
    const loading = await publisher.fixture("plugins", "recording_scrobbler", {
      id: "verifying",
      config: { endpoint: recorder.endpoint("verifying"), users: "*" },
      state: busProto.PluginState.LOADING,
    });
    const metrics = createMetrics();
    // Retries slow enough that a failed first attempt would still be waiting when the test looks.
    await startTestWorker(bus, { scrobbles: { ...fastRetries, retryInitialMs: 60_000 }, metrics });
    for (const [i, user] of ["ann", "bo", "ann"].entries()) await publishScrobble(bus, submit(user, `while-loading-${i}`, `e-loading-${i}`));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(recorder.of("verifying")).toHaveLength(0);
    await publisher.update(loading, { state: busProto.PluginState.READY });
    await until(() => recorder.of("verifying").length === 3, "the events published while the plugin was loading");
    expect(recorder.of("verifying").filter((r) => r.user === "ann").map((r) => r.track)).toEqual(["while-loading-0", "while-loading-2"]);
    const retried = (await metrics.scrobbleEvents.get()).values.filter((v) => v.labels.outcome === "retried");
    expect(retried).toEqual([]);
  });

  it("parks a removed plugin's consumer and resumes it where it stopped when the plugin returns", async () => {
    const record = await scrobbler("returning");
    await startTestWorker(bus, { scrobbles: fastRetries });
    await publishScrobble(bus, submit("cy", "before", "e-before"));
    await until(() => recorder.of("returning").length === 1, "the first scrobble");
    await publisher.update(record, { state: busProto.PluginState.REMOVED });
    const catalog = watchPluginCatalog(bus, bus.namespace);
    await catalog.ready;
    try {
      await until(async () => (await scrobbleStatus(bus, catalog.all()))[0]?.parked === true, "the parked status");
      await publishScrobble(bus, submit("cy", "while-away", "e-away"));
      await until(async () => (await scrobbleStatus(bus, catalog.all()))[0]?.pending === 1, "the event to wait for the plugin");
      expect(recorder.of("returning")).toHaveLength(1);
      await publisher.update(record, { state: busProto.PluginState.READY });
      await until(() => recorder.of("returning").length === 2, "the event kept while the plugin was away");
      expect(recorder.of("returning").map((r) => r.track)).toEqual(["before", "while-away"]);
    } finally {
      catalog.close();
    }
  });
});
