// [redis] TLS and ACL credentials, as `tonearm start` passes them to ioredis and BullMQ, against a
// redis-server that serves TLS only and verifies client certificates.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig, toRedisOptions, type RedisConnectionOptions } from "@tonearm/config";
import { createBullMqScheduleDriver, createRedisCacheStore } from "@tonearm/host";
import { startRedis, type OwnServer } from "@tonearm/test-harness";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makePki, type Pki } from "./pki.js";

let dir: string;
let pki: Pki;
let server: OwnServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tonearm-redis-tls-"));
  pki = await makePki(dir);
  server = await startRedis({ tls: { certFile: pki.serverCert, keyFile: pki.serverKey, caFile: pki.ca } });
});

afterAll(async () => {
  await server?.dispose();
  await rm(dir, { recursive: true, force: true });
});

/** The options `tonearm start` builds from these environment variables. */
function optionsFrom(env: Record<string, string>): Promise<RedisConnectionOptions> {
  return toRedisOptions(parseConfig("", { env: { TONEARM_REDIS_URL: server.url, ...env } }).redis);
}

/** A client that gives up at the first failure; ioredis reports why on its `error` event. */
function clientOf(options: RedisConnectionOptions): Redis & { errors: Error[] } {
  const { url, ...rest } = options;
  const client = Object.assign(new Redis(url, { ...rest, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null }), { errors: [] as Error[] });
  client.on("error", (err: Error) => client.errors.push(err));
  return client;
}

describe("[redis] over TLS", () => {
  it("keeps plugin caches and schedules through a rediss:// URL with the CA and a client certificate", async () => {
    const options = await optionsFrom({ TONEARM_REDIS_TLSCA: pki.ca, TONEARM_REDIS_TLSCERT: pki.clientCert, TONEARM_REDIS_TLSKEY: pki.clientKey });
    expect(server.url).toMatch(/^rediss:\/\//);
    const redis = clientOf(options);
    try {
      await redis.connect();
      const cache = createRedisCacheStore(redis, { namespace: "tls" });
      await cache.set("p", "k", { type: "int", value: 42n }, 60_000);
      expect(await cache.get("p", "k")).toEqual({ type: "int", value: 42n });
    } finally {
      redis.disconnect();
    }
    const schedules = createBullMqScheduleDriver({ connection: options, namespace: "tls" });
    try {
      await schedules.upsert({ kind: "once", pluginId: "p", scheduleId: "s", payload: new Uint8Array(), createdAt: Date.now(), delaySeconds: 60, runAt: Date.now() + 60_000 });
      expect((await schedules.list("p")).map((s) => s.scheduleId)).toEqual(["s"]);
    } finally {
      await schedules.close();
    }
  });

  it("refuses a server whose certificate the configured CA did not sign", async () => {
    const redis = clientOf(await optionsFrom({ TONEARM_REDIS_TLSCA: pki.otherCa, TONEARM_REDIS_TLSCERT: pki.clientCert, TONEARM_REDIS_TLSKEY: pki.clientKey }));
    try {
      await expect(redis.connect()).rejects.toThrow();
      expect(redis.errors.map((e) => e.message)).toContainEqual(expect.stringMatching(/self[- ]signed|unable to verify/i));
    } finally {
      redis.disconnect();
    }
  });

  it("is refused by a server that verifies clients when no client certificate is set", async () => {
    const redis = clientOf(await optionsFrom({ TONEARM_REDIS_TLSCA: pki.ca }));
    try {
      await expect(redis.connect().then(() => redis.ping())).rejects.toThrow();
      expect(redis.errors.map((e) => e.message)).toContainEqual(expect.stringMatching(/certificate required|ECONNRESET/i));
    } finally {
      redis.disconnect();
    }
  });
});
