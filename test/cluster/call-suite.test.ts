// One call suite, two modes: `tonearm start` embedded (in-memory drivers) and as a cluster on NATS
// and Redis with two workers. Calls go through the HTTP endpoint and, in the cluster, the bus.
import { parseConfig } from "@tonearm/config";
import { createBullMqScheduleDriver } from "@tonearm/host";
import { startTonearm, type RunningTonearm } from "@tonearm/cli";
import { fixturePaths, natsUrl, redisUrl, testNamespace } from "@tonearm/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

async function configFor(mode: "embedded" | "cluster", namespace: string) {
  return parseConfig("", {
    env: {
      TONEARM_MODE: mode,
      TONEARM_NAMESPACE: namespace,
      TONEARM_NATS_SERVERS: await natsUrl(),
      TONEARM_REDIS_URL: await redisUrl(),
      TONEARM_PLUGINS_FOLDER: fixturePaths.folder("plugins"),
      TONEARM_PLUGINS_AUTORELOAD: "false",
      TONEARM_RUNTIME_THREADSMIN: "1",
      TONEARM_LOG_LEVEL: "error",
      TONEARM_ARTWORK_SECRET: "s",
    },
  });
}

describe.each(["embedded", "cluster"] as const)("calls in %s mode", (mode) => {
  const namespace = testNamespace(mode === "embedded" ? "em" : "cl");
  const running: RunningTonearm[] = [];
  let base = "";

  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${base}/v1/call/${path}`, { method: "POST", body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    const config = await configFor(mode, namespace);
    running.push(await startTonearm(config, { roles: new Set(["registry", "worker", "scheduler", "gateway"]), port: 0, host: "127.0.0.1" }));
    if (mode === "cluster") running.push(await startTonearm(config, { roles: new Set(["worker"]), port: 0, host: "127.0.0.1" }));
    base = `http://127.0.0.1:${running[0]!.port}`;
    // Ready once the registry has published, a worker verified and OnInit ran.
    const deadline = Date.now() + 20_000;
    while ((await post("multi_plugin/MetadataAgent/GetArtistMBID", { name: "X" })).status !== 200) {
      if (Date.now() > deadline) throw new Error(`multi_plugin never became callable in ${mode} mode`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 60_000);

  afterAll(async () => {
    for (const r of running.reverse()) await r.stop();
  });

  it("answers every fixture through the registry and workers", async () => {
    expect(await post("fake_artist_agent/MetadataAgent/GetArtistMBID", { id: "1", name: "The Beatles" })).toEqual({ status: 200, body: { mbid: "1234567890" } });
    expect(await post("fake_album_agent/MetadataAgent/GetAlbumImages", { name: "A", artist: "B" })).toMatchObject({ status: 200 });
    expect(await post("fake_scrobbler/Scrobbler/IsAuthorized", { username: "u" })).toEqual({ status: 200, body: { authorized: true } });
    expect(await post("host_probe/MetadataAgent/GetArtistBiography", { name: "cache.set.string", id: "k", mbid: "v" })).toEqual({ status: 200, body: { biography: "ok" } });
    expect(await post("host_probe/MetadataAgent/GetArtistBiography", { name: "cache.get.string", id: "k" })).toEqual({ status: 200, body: { biography: "v" } });
  });

  it("answers each failure with its code", async () => {
    expect((await post("fake_artist_agent/MetadataAgent/GetArtistMBID", { id: "1" })).body).toMatchObject({ code: "not_found" });
    expect((await post("nobody/MetadataAgent/GetArtistMBID", {})).body).toMatchObject({ code: "not_found" });
    expect((await post("fake_artist_agent/MetadataAgent/GetAlbumInfo", { name: "A", artist: "B" })).body).toMatchObject({ code: "not_implemented" });
    expect((await post("fake_artist_agent/Scrobbler/IsAuthorized", {})).body).toMatchObject({ code: "not_implemented" });
    expect((await post("fake_artist_agent/MetadataAgent/GetArtistMBID", { nope: 1 })).body).toMatchObject({ code: "bad_request" });
    expect(await post("unauthorized_plugin/MetadataAgent/GetAlbumInfo", { name: "A", artist: "B" })).toEqual({
      status: 503,
      body: { code: "load_error", message: '"get" is not exported in module "env"' },
    });
  });

  it("runs OnInit once however many workers run, and its schedule reaches the plugin", async () => {
    if (mode === "cluster") {
      const driver = createBullMqScheduleDriver({ connection: await redisUrl(), namespace });
      try {
        const schedules = await driver.list("multi_plugin");
        expect(schedules.filter((s) => s.kind === "recurring")).toHaveLength(1);
      } finally {
        await driver.close();
      }
    }
    // GetArtistURL schedules a one-time callback (6 s) through the host.
    expect(await post("multi_plugin/MetadataAgent/GetArtistURL", { name: "X" })).toEqual({ status: 200, body: { url: "https://multi.example.com/artist" } });
    // OnInit's `@every 5s` and the one-time schedule both reach OnSchedulerCallback.
    const fired = async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      const line = text.split("\n").find((l) => l.startsWith('tonearm_scheduler_fires_total{plugin="multi_plugin",outcome="ok"}'));
      return line ? Number(line.split(" ").at(-1)) : 0;
    };
    await expect.poll(fired, { timeout: 15_000, interval: 250 }).toBeGreaterThanOrEqual(2);
  }, 30_000);
});
