import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisUrl, testNamespace } from "@tonearm/test-harness";
import { DEFAULT_TTL_MS, createRedisCacheStore, type CacheStore } from "../src/main/cache/index.js";
import { cacheStoreContract } from "./cache-contract.js";

const namespace = testNamespace("cache");
let redis: Redis;

beforeAll(async () => {
  redis = new Redis(await redisUrl(), { lazyConnect: true });
  await redis.connect();
});

afterAll(async () => {
  const keys = await redis.keys(`tonearm:${namespace}*`); // also the `${namespace}x` store
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// Real time passes in Redis; 400 ms leaves each liveness check 160 ms of slack for call latency.
cacheStoreContract("redis", {
  create: (quota) => Promise.resolve().then(() => ({ store: createRedisCacheStore(redis, { namespace, ...quota }), advance: sleep })),
  ttlMs: 400,
});

describe("redis cache store", () => {
  let store: CacheStore;
  beforeAll(() => {
    store = createRedisCacheStore(redis, { namespace, maxEntries: 10 });
  });
  const entryKey = (plugin: string, key: string): string => `tonearm:${namespace}:cache:{${plugin}}:${key}`;
  const usageKeys = (plugin: string): string[] =>
    ["expiry", "sizes", "bytes"].map((k) => `tonearm:${namespace}:cache-usage:{${plugin}}:${k}`);

  it("stores an entry at tonearm:<ns>:cache:{<plugin>}:<key> with its TTL", async () => {
    await store.set("layout", "a:b}c", { type: "string", value: "v" }, 60_000);
    expect(await redis.hgetall(entryKey("layout", "a:b}c"))).toStrictEqual({ t: "string", v: "v", ttl: "60000" });
    const ttl = await redis.pttl(entryKey("layout", "a:b}c"));
    expect(ttl).toBeGreaterThan(59_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it.each([0, -5])("gives an entry written with TTL %s a 24 hour expiry", async (ttl) => {
    await store.set("default-ttl", `k${ttl}`, { type: "int", value: 1n }, ttl);
    const remaining = await redis.pttl(entryKey("default-ttl", `k${ttl}`));
    expect(remaining).toBeGreaterThan(DEFAULT_TTL_MS - 60_000);
    expect(remaining).toBeLessThanOrEqual(DEFAULT_TTL_MS);
  });

  it("percent-encodes a plugin id inside the hash tag, so its '}' cannot end the tag early", async () => {
    await store.set("we}ird:id", "k", { type: "string", value: "v" }, 60_000);
    expect(await redis.exists(entryKey("we%7Dird%3Aid", "k"))).toBe(1);
  });

  it("restarts the stored TTL on a read, not a default one", async () => {
    await store.set("slide", "k", { type: "string", value: "v" }, 5_000);
    await redis.pexpire(entryKey("slide", "k"), 1_000);
    await store.get("slide", "k");
    expect(await redis.pttl(entryKey("slide", "k"))).toBeGreaterThan(4_000);
    await redis.pexpire(entryKey("slide", "k"), 1_000);
    await store.has("slide", "k");
    expect(await redis.pttl(entryKey("slide", "k"))).toBeGreaterThan(4_000);
  });

  it("keeps the accounting keys as long as the last entry and deletes them when nothing is left", async () => {
    await store.set("acct", "short", { type: "string", value: "v" }, 10_000);
    await store.set("acct", "long", { type: "string", value: "v" }, 50_000);
    for (const key of usageKeys("acct")) {
      expect(await redis.pttl(key)).toBeGreaterThan(49_000);
    }
    await store.remove("acct", "long");
    for (const key of usageKeys("acct")) {
      const ttl = await redis.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(10_000);
    }
    await store.remove("acct", "short");
    expect(await redis.exists(...usageKeys("acct"))).toBe(0);
  });

  it("stops charging for an entry that vanished without expiring", async () => {
    const tight = createRedisCacheStore(redis, { namespace, maxEntries: 1 });
    await tight.set("evicted", "a", { type: "string", value: "v" }, 60_000);
    await redis.del(entryKey("evicted", "a")); // as maxmemory eviction would
    await tight.set("evicted", "b", { type: "string", value: "v" }, 60_000);
    expect(await tight.usage("evicted")).toStrictEqual({ entries: 1, bytes: 2 });
  });

  it("shares entries between stores on the same namespace and not across namespaces", async () => {
    const other = createRedisCacheStore(redis, { namespace });
    const elsewhere = createRedisCacheStore(redis, { namespace: `${namespace}x` });
    await store.set("shared", "k", { type: "float", value: 2.5 }, 60_000);
    expect(await other.get("shared", "k")).toStrictEqual({ type: "float", value: 2.5 });
    expect(await elsewhere.has("shared", "k")).toBe(false);
  });

  it("fails loudly on an entry it did not write", async () => {
    await redis.hset(entryKey("corrupt", "k"), { t: "json", v: "{}", ttl: "1000" });
    await redis.pexpire(entryKey("corrupt", "k"), 60_000);
    await expect(store.get("corrupt", "k")).rejects.toThrow('cache entry "k" of plugin corrupt has unknown value type "json"');
    await redis.hset(entryKey("corrupt", "n"), { t: "int", v: "12", ttl: "1000" });
    await redis.pexpire(entryKey("corrupt", "n"), 60_000);
    await expect(store.get("corrupt", "n")).rejects.toThrow('cache entry "n" of plugin corrupt holds a int of 2 bytes, expected 8');
  });

  it("refuses a namespace that could break the hash tag", () => {
    expect(() => createRedisCacheStore(redis, { namespace: "a{b" })).toThrow("cache namespace must be non-empty and free of '{' and '}'");
    expect(() => createRedisCacheStore(redis, { namespace: "" })).toThrow("cache namespace must be non-empty");
  });

  it("refuses a client with a key prefix", () => {
    const prefixed = new Redis({ lazyConnect: true, keyPrefix: "x:" });
    expect(() => createRedisCacheStore(prefixed, { namespace })).toThrow("the cache's Redis client must not use keyPrefix");
    prefixed.disconnect();
  });
});
