// The status page of a cluster on the real NATS and Redis: the registry process runs no worker, yet
// its page adds up the calls of two worker processes, lists the schedules kept in BullMQ, and drops
// a worker that stops.
import { startTonearm, type RunningTonearm } from "@tonearm/cli";
import { createBullMqScheduleDriver } from "@tonearm/host";
import type { StatusSnapshot } from "@tonearm/registry";
import { redisUrl, testNamespace } from "@tonearm/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtureConfig } from "./support.js";

const namespace = testNamespace("stc");
let registry: RunningTonearm | undefined;
const workers: RunningTonearm[] = [];
let base = "";

const post = async (path: string, body: unknown) => {
  const response = await fetch(`${base}/v1/call/${path}`, { method: "POST", body: JSON.stringify(body) });
  return response.status;
};

const status = async (): Promise<StatusSnapshot> => (await (await fetch(`${base}/status.json`)).json()) as StatusSnapshot;

beforeAll(async () => {
  const config = await fixtureConfig("cluster", namespace);
  const listen = { port: 0, host: "127.0.0.1" };
  for (let i = 0; i < 2; i++) workers.push(await startTonearm(config, { roles: new Set(["worker"]), ...listen }));
  registry = await startTonearm(config, { roles: new Set(["registry", "scheduler", "gateway"]), ...listen });
  base = `http://127.0.0.1:${registry.port}`;
  const deadline = Date.now() + 30_000;
  while ((await post("multi_plugin/MetadataAgent/GetArtistMBID", { name: "X" })) !== 200) {
    if (Date.now() > deadline) throw new Error("multi_plugin never became callable");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}, 90_000);

afterAll(async () => {
  await registry?.stop();
  for (const worker of workers) await worker.stop();
  // multi_plugin's OnInit schedule stays in Redis otherwise.
  const driver = createBullMqScheduleDriver({ connection: await redisUrl(), namespace });
  await driver.cancelPlugin("multi_plugin");
  await driver.close();
});

describe("the status page of a cluster", () => {
  it("adds up the calls of every worker process and follows them as they stop", async () => {
    for (let i = 0; i < 20; i++) expect(await post("fake_artist_agent/MetadataAgent/GetArtistMBID", { id: String(i), name: "The Beatles" })).toBe(200);
    for (let i = 0; i < 2; i++) expect(await post("fake_artist_agent/MetadataAgent/GetAlbumInfo", { name: "A", artist: "B" })).toBe(501);

    const artistCalls = async () => (await status()).plugins.find((p) => p.id === "fake_artist_agent")?.calls;
    await expect.poll(async () => (await artistCalls())?.calls, { timeout: 10_000, interval: 250 }).toBe(22);
    const figures = await artistCalls();
    expect(figures).toMatchObject({ errors: 2 });
    expect(figures?.p50Ms).toBeGreaterThan(0);
    expect(figures?.p99Ms).toBeGreaterThanOrEqual(figures?.p50Ms ?? Infinity);

    let snapshot = await status();
    expect(snapshot.registry).toMatchObject({ serving: true });
    expect(snapshot.workers).toHaveLength(2);
    const methods = snapshot.plugins.find((p) => p.id === "fake_artist_agent")?.methods.map((m) => [m.method, m.calls, m.errors]);
    expect(methods).toEqual([
      ["GetAlbumInfo", 2, 2],
      ["GetArtistMBID", 20, 0],
    ]);
    // Every call the cluster answered is some worker's.
    const perWorker = snapshot.workers.reduce((sum, w) => sum + w.calls, 0);
    const perPlugin = snapshot.plugins.reduce((sum, p) => sum + p.calls.calls, 0);
    expect(perWorker).toBe(perPlugin);

    // OnInit's `@every 5s`, read from BullMQ by the scheduler of the registry's process.
    expect(snapshot.schedules).toMatchObject({ available: true, items: [{ plugin: "multi_plugin", kind: "every", expression: "@every 5s" }] });

    const stopped = workers.pop();
    await stopped?.stop();
    // Its last report says it stopped: gone at once, not after three missed reports (6 s).
    await expect.poll(async () => (await status()).workers.length, { timeout: 3_000, interval: 100 }).toBe(1);
    snapshot = await status();
    expect(snapshot.workers[0]?.calls).toBe(snapshot.plugins.reduce((sum, p) => sum + p.calls.calls, 0));
  }, 40_000);
});
