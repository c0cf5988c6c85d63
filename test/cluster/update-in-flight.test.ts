// An update on real NATS with calls in flight: a registry and two workers serve a plugin while its
// folder gets another build and the registry is asked to refresh. Every call answers, first from
// the old version, then from the new one; none fails because of the update.
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { startTonearm, type RunningTonearm } from "@tonearm/cli";
import { callPlugin, connectNatsBus, decodeCallReply, encodeCallRequest, subjects, type Bus } from "@tonearm/bus";
import { parseConfig } from "@tonearm/config";
import { bus as busProto } from "@tonearm/proto";
import { fixturePaths, natsUrl, redisUrl, testNamespace } from "@tonearm/test-harness";
import { afterAll, describe, expect, it } from "vitest";

const namespace = testNamespace("up");
const running: RunningTonearm[] = [];
let folder = "";
let bus: Bus | undefined;

afterAll(async () => {
  for (const r of running.reverse()) await r.stop();
  await bus?.close();
  if (folder) await rm(folder, { recursive: true, force: true });
});

describe("an update in a running cluster", () => {
  it("fails no call in flight while workers move to the new version", async () => {
    folder = await mkdtemp(join(tmpdir(), "tonearm-update-"));
    const plugin = join(folder, "agent");
    await cp(fixturePaths.plugin("plugins", "fake_artist_agent"), plugin, { recursive: true });
    const config = parseConfig("", {
      env: {
        TONEARM_MODE: "cluster",
        TONEARM_NAMESPACE: namespace,
        TONEARM_NATS_SERVERS: await natsUrl(),
        TONEARM_REDIS_URL: await redisUrl(),
        TONEARM_PLUGINS_FOLDER: folder,
        TONEARM_PLUGINS_AUTORELOAD: "false",
        TONEARM_RUNTIME_THREADSMIN: "1",
        TONEARM_LOG_LEVEL: "error",
        TONEARM_ARTWORK_SECRET: "s",
      },
    });
    running.push(await startTonearm(config, { roles: new Set(["registry", "worker"]), port: 0, host: "127.0.0.1" }));
    running.push(await startTonearm(config, { roles: new Set(["worker"]), port: 0, host: "127.0.0.1" }));
    bus = await connectNatsBus({ servers: await natsUrl(), namespace, name: "update-test" });
    const client = bus;
    const mbid = async () =>
      ((await callPlugin(client, namespace, { plugin: "agent", capability: "MetadataAgent", method: "GetArtistMBID", json: { id: "1", name: "X" }, timeoutMs: 10_000 })) as { mbid: string }).mbid;
    const deadline = Date.now() + 20_000;
    while ((await mbid().catch(() => "")) !== "1234567890") {
      if (Date.now() > deadline) throw new Error("the plugin never became callable");
      await new Promise((r) => setTimeout(r, 100));
    }

    // Eight callers keep calling through the update.
    const answers: string[] = [];
    const failures: unknown[] = [];
    let stop = false;
    const callers = Array.from({ length: 8 }, async () => {
      while (!stop) await mbid().then((a) => answers.push(a), (err: unknown) => failures.push(err));
    });
    await new Promise((r) => setTimeout(r, 300));
    await cp(fixturePaths.plugin("plugins", "multi_plugin"), plugin, { recursive: true, force: true });
    const wire = encodeCallRequest(toBinary(busProto.RefreshRequestSchema, create(busProto.RefreshRequestSchema, { id: "agent" })));
    decodeCallReply(await client.request(subjects(namespace).registryRefresh, wire.data, { timeoutMs: 20_000, headers: wire.headers }));
    const switched = Date.now() + 20_000;
    while (!answers.slice(-16).every((a) => a === "multi-artist-mbid") || answers.filter((a) => a === "multi-artist-mbid").length < 16) {
      if (Date.now() > switched) throw new Error(`calls never moved to the new version: ${answers.slice(-5).join(", ")}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    stop = true;
    await Promise.all(callers);
    expect(failures).toEqual([]);
    expect(new Set(answers)).toEqual(new Set(["1234567890", "multi-artist-mbid"]));
  }, 90_000);
});
