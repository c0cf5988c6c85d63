// A whole cluster on servers locked down as infra/ ships them: every role connects to NATS and
// Redis as its own user and still does its job, end to end. What each role is refused is in
// nats-permissions.test.ts and redis-acl.test.ts.
import { callPlugin, connectNatsBus, publishScrobble, type Bus } from "@tonearm/bus";
import { startTonearm, type RunningTonearm } from "@tonearm/cli";
import { parseConfig } from "@tonearm/config";
import { bus as busProto } from "@tonearm/proto";
import { ScrobbleRecorder, fixturePaths } from "@tonearm/test-harness";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NAMESPACE, startLockedNats, startLockedRedis, type LockedNats, type LockedRedis, type RedisRole } from "./locked-servers.js";

type Role = "registry" | "worker" | "scheduler" | "gateway";

let nats: LockedNats;
let redis: LockedRedis;
let music: Bus;
const running = new Map<Role, RunningTonearm>();
const recorder = new ScrobbleRecorder();

function roleConfig(role: Role) {
  const redisUser = redis.users[role satisfies RedisRole];
  const toml = `[PluginConfig.recording_scrobbler]\nendpoint = "${recorder.endpoint("recording_scrobbler")}"\nusers = "*"\n`;
  return parseConfig(toml, {
    env: {
      TONEARM_MODE: "cluster",
      TONEARM_NAMESPACE: NAMESPACE,
      TONEARM_NATS_SERVERS: nats.url,
      TONEARM_NATS_USER: role,
      TONEARM_NATS_PASSWORD: nats.passwords[role],
      TONEARM_REDIS_URL: redis.url,
      TONEARM_REDIS_USERNAME: redisUser.username,
      TONEARM_REDIS_PASSWORD: redisUser.password,
      TONEARM_PLUGINS_FOLDER: fixturePaths.folder("plugins"),
      TONEARM_PLUGINS_AUTORELOAD: "false",
      TONEARM_RUNTIME_THREADSMIN: "1",
      TONEARM_LOG_LEVEL: "error",
      TONEARM_ARTWORK_SECRET: "s",
    },
  });
}

const callAsMusic = (plugin: string, capability: string, method: string, json: Record<string, unknown>) =>
  callPlugin(music, NAMESPACE, { plugin, capability, method, json, caller: "music-server" });

beforeAll(async () => {
  [nats, redis] = await Promise.all([startLockedNats(), startLockedRedis(), recorder.start()]);
  // The registry first: only it may create the plugin bucket and artifact store that workers and
  // schedulers read (it verifies plugins again once workers answer).
  for (const role of ["registry", "gateway", "worker", "scheduler"] as const) {
    running.set(role, await startTonearm(roleConfig(role), { roles: new Set([role]), port: 0, host: "127.0.0.1" }));
  }
  music = await connectNatsBus({ servers: nats.url, namespace: NAMESPACE, name: "music-server", user: "music", password: nats.passwords.music, waitForServer: false });
}, 60_000);

afterAll(async () => {
  await music?.close();
  for (const role of ["registry", "scheduler", "gateway", "worker"] as const) await running.get(role)?.stop();
  await Promise.all([nats?.dispose(), redis?.dispose(), recorder.stop()]);
});

describe("a cluster whose roles each have their own NATS and Redis user", () => {
  it("publishes plugins from the registry and serves the music server's calls from a worker", async () => {
    await expect
      .poll(() => callAsMusic("fake_artist_agent", "MetadataAgent", "GetArtistMBID", { id: "1", name: "The Beatles" }).catch((err: Error) => err.message), {
        timeout: 20_000,
        interval: 100,
      })
      .toEqual({ mbid: "1234567890" });
    expect(await callAsMusic("fake_scrobbler", "Scrobbler", "IsAuthorized", { username: "u" })).toEqual({ authorized: true });
  });

  it("keeps plugin caches in Redis as the worker's user", async () => {
    expect(await callAsMusic("host_probe", "MetadataAgent", "GetArtistBiography", { name: "cache.set.string", id: "k", mbid: "v" })).toEqual({ biography: "ok" });
    expect(await callAsMusic("host_probe", "MetadataAgent", "GetArtistBiography", { name: "cache.get.string", id: "k" })).toEqual({ biography: "v" });
    const admin = new Redis(redis.url, { username: redis.admin.username, password: redis.admin.password });
    try {
      expect(await admin.keys(`tonearm:${NAMESPACE}:cache:*`)).toEqual([`tonearm:${NAMESPACE}:cache:{host_probe}:k`]);
    } finally {
      admin.disconnect();
    }
  });

  it("delivers the music server's scrobbles to a Scrobbler plugin through the workers' consumers", async () => {
    const ack = await publishScrobble(music, {
      kind: busProto.ScrobbleEvent_Kind.SUBMIT,
      userId: "dj-ann",
      track: { id: "t1", title: "Locked Down", artists: [{ name: "Artist" }], length: 180 },
      timestamp: BigInt(Math.floor(Date.now() / 1000)),
      eventId: "locked-1",
    });
    expect(ack.duplicate).toBe(false);
    await expect.poll(() => recorder.of("recording_scrobbler").map((r) => [r.kind, r.user]), { timeout: 20_000 }).toEqual([["scrobble", "dj-ann"]]);
  }, 30_000);

  it("fires schedules from the scheduler's Redis user through its NATS user", async () => {
    // multi_plugin's OnInit (run by the registry through a worker) schedules `@every 5s`.
    const scheduler = running.get("scheduler");
    const fired = async (): Promise<number> => {
      const text = await (await fetch(`http://127.0.0.1:${scheduler?.port}/metrics`)).text();
      const line = text.split("\n").find((l) => l.startsWith('tonearm_scheduler_fires_total{plugin="multi_plugin",outcome="ok"}'));
      return line ? Number(line.split(" ").at(-1)) : 0;
    };
    await expect.poll(fired, { timeout: 15_000, interval: 250 }).toBeGreaterThanOrEqual(1);
  }, 20_000);
});
