/**
 * The behaviour every `CacheStore` driver must have (ABI.md §10 plus Tonearm's quota), run against
 * each driver by its own test file.
 */
import { describe, expect, it } from "vitest";
import { CacheQuotaExceededError, entrySize, type CacheQuota, type CacheStore, type CacheValue } from "../src/main/cache/index.js";

export interface CacheDriverUnderTest {
  readonly store: CacheStore;
  /** Lets `ms` pass for the store: a fake clock moves, or real time elapses. */
  advance(ms: number): Promise<void>;
}

export interface CacheDriver {
  /** A store with the given quota, sharing state with other stores of this driver. */
  create(quota?: CacheQuota): Promise<CacheDriverUnderTest>;
  /**
   * TTL (ms) for the expiry tests. Expiry checks wait 10% past it and liveness checks stay 40%
   * below it, so a real-time driver needs one long enough to absorb call latency.
   */
  readonly ttlMs: number;
}

let counter = 0;
/** Tests share a driver's backing state, so each one writes under plugin ids of its own. */
const pluginId = (name: string): string => `${name}-${++counter}`;

export function cacheStoreContract(driverName: string, driver: CacheDriver): void {
  const T = driver.ttlMs;

  describe(`CacheStore contract: ${driverName}`, () => {
    it.each<[string, CacheValue]>([
      ["string", { type: "string", value: "héllo ✓ \u0000 end" }],
      ["empty string", { type: "string", value: "" }],
      ["int", { type: "int", value: -42n }],
      ["max int64", { type: "int", value: 9223372036854775807n }],
      ["min int64", { type: "int", value: -9223372036854775808n }],
      ["float", { type: "float", value: 3.141592653589793 }],
      ["negative zero", { type: "float", value: -0 }],
      ["NaN", { type: "float", value: Number.NaN }],
      ["infinity", { type: "float", value: Number.NEGATIVE_INFINITY }],
      ["bytes", { type: "bytes", value: new Uint8Array([0, 1, 254, 255, 0]) }],
      ["empty bytes", { type: "bytes", value: new Uint8Array() }],
    ])("round-trips a %s value with its type", async (_name, value) => {
      const { store } = await driver.create();
      const p = pluginId("roundtrip");
      await store.set(p, "k", value, 60_000);
      expect(await store.get(p, "k")).toStrictEqual(value);
    });

    it("misses a key that was never set", async () => {
      const { store } = await driver.create();
      const p = pluginId("missing");
      expect(await store.get(p, "nope")).toBeUndefined();
      expect(await store.has(p, "nope")).toBe(false);
    });

    it("replaces a value, whatever the type of the previous one", async () => {
      const { store } = await driver.create();
      const p = pluginId("replace");
      await store.set(p, "k", { type: "string", value: "first" }, 60_000);
      await store.set(p, "k", { type: "int", value: 7n }, 60_000);
      expect(await store.get(p, "k")).toStrictEqual({ type: "int", value: 7n });
      expect(await store.usage(p)).toStrictEqual({ entries: 1, bytes: entrySize("k", { type: "int", value: 7n }) });
    });

    it("answers has for a value of any type", async () => {
      const { store } = await driver.create();
      const p = pluginId("has");
      await store.set(p, "s", { type: "string", value: "x" }, 60_000);
      await store.set(p, "b", { type: "bytes", value: new Uint8Array([1]) }, 60_000);
      expect(await store.has(p, "s")).toBe(true);
      expect(await store.has(p, "b")).toBe(true);
    });

    it("keeps stored bytes independent of the caller's array", async () => {
      const { store } = await driver.create();
      const p = pluginId("copy");
      const written = new Uint8Array([1, 2, 3]);
      await store.set(p, "k", { type: "bytes", value: written }, 60_000);
      written[0] = 9;
      const read = await store.get(p, "k");
      expect(read).toStrictEqual({ type: "bytes", value: new Uint8Array([1, 2, 3]) });
      if (read?.type === "bytes") read.value[1] = 9;
      expect(await store.get(p, "k")).toStrictEqual({ type: "bytes", value: new Uint8Array([1, 2, 3]) });
    });

    it("removes an entry, and removing an absent one succeeds", async () => {
      const { store } = await driver.create();
      const p = pluginId("remove");
      await store.set(p, "k", { type: "string", value: "v" }, 60_000);
      await store.remove(p, "k");
      expect(await store.has(p, "k")).toBe(false);
      await expect(store.remove(p, "k")).resolves.toBeUndefined();
      expect(await store.usage(p)).toStrictEqual({ entries: 0, bytes: 0 });
    });

    it("keeps plugins apart, even when ids and keys contain '}' and ':'", async () => {
      const { store } = await driver.create();
      const base = pluginId("iso");
      // Naive `{plugin}:key` concatenation maps both of these to `{<base>}:x}:y`.
      const a = { plugin: base, key: "x}:y" };
      const b = { plugin: `${base}}:x`, key: "y" };
      await store.set(a.plugin, a.key, { type: "string", value: "a" }, 60_000);
      await store.set(b.plugin, b.key, { type: "string", value: "b" }, 60_000);
      await store.set(`${base}:x`, "y", { type: "string", value: "c" }, 60_000);
      expect(await store.get(a.plugin, a.key)).toStrictEqual({ type: "string", value: "a" });
      expect(await store.get(b.plugin, b.key)).toStrictEqual({ type: "string", value: "b" });
      expect(await store.get(`${base}:x`, "y")).toStrictEqual({ type: "string", value: "c" });
      expect(await store.get(`${base}-other`, a.key)).toBeUndefined();

      await store.remove(b.plugin, b.key);
      expect(await store.get(a.plugin, a.key)).toStrictEqual({ type: "string", value: "a" });
      expect(await store.usage(a.plugin)).toMatchObject({ entries: 1 });
    });

    it("expires an entry after its TTL", async () => {
      const { store, advance } = await driver.create();
      const p = pluginId("expire");
      await store.set(p, "k", { type: "string", value: "v" }, T);
      await store.set(p, "long", { type: "string", value: "v" }, 60_000);
      await advance(T * 1.1);
      expect(await store.get(p, "k")).toBeUndefined();
      expect(await store.has(p, "k")).toBe(false);
      expect(await store.usage(p)).toStrictEqual({ entries: 1, bytes: entrySize("long", { type: "string", value: "v" }) });
    });

    it("restarts the TTL on every get and has (sliding expiry)", async () => {
      const { store, advance } = await driver.create();
      const p = pluginId("slide");
      const value: CacheValue = { type: "float", value: 1.5 };
      await store.set(p, "k", value, T);
      await advance(T * 0.6);
      expect(await store.has(p, "k")).toBe(true);
      await advance(T * 0.6); // 1.2 T after the write: alive only because `has` restarted the TTL
      expect(await store.get(p, "k")).toStrictEqual(value);
      await advance(T * 0.6); // 1.8 T: alive only because `get` restarted it
      expect(await store.get(p, "k")).toStrictEqual(value);
      await advance(T * 1.1);
      expect(await store.has(p, "k")).toBe(false);
    });

    it("refuses a new entry beyond maxEntries, per plugin, with a clear error", async () => {
      const { store } = await driver.create({ maxEntries: 2 });
      const p = pluginId("max-entries");
      await store.set(p, "a", { type: "int", value: 1n }, 60_000);
      await store.set(p, "b", { type: "int", value: 2n }, 60_000);
      const refused = store.set(p, "c", { type: "int", value: 3n }, 60_000);
      await expect(refused).rejects.toBeInstanceOf(CacheQuotaExceededError);
      await expect(refused).rejects.toThrow(`cache quota exceeded for plugin ${p}: 2 entries`);
      await expect(refused).rejects.toMatchObject({ pluginId: p, limit: "entries", max: 2 });
      expect(await store.has(p, "c")).toBe(false);

      await store.set(p, "a", { type: "int", value: 10n }, 60_000); // replacing is not a new entry
      expect(await store.get(p, "a")).toStrictEqual({ type: "int", value: 10n });
      await store.set(pluginId("max-entries-other"), "c", { type: "int", value: 3n }, 60_000);

      await store.remove(p, "b");
      await store.set(p, "c", { type: "int", value: 3n }, 60_000);
      expect(await store.usage(p)).toMatchObject({ entries: 2 });
    });

    it("refuses a write beyond maxBytes and keeps the previous value", async () => {
      const { store } = await driver.create({ maxBytes: 10 });
      const p = pluginId("max-bytes");
      await store.set(p, "k", { type: "string", value: "123456789" }, 60_000); // 1 + 9 bytes
      expect(await store.usage(p)).toStrictEqual({ entries: 1, bytes: 10 });
      await expect(store.set(p, "k", { type: "string", value: "1234567890" }, 60_000)).rejects.toThrow(
        `cache quota exceeded for plugin ${p}: 10 bytes`,
      );
      await expect(store.set(p, "x", { type: "bytes", value: new Uint8Array() }, 60_000)).rejects.toMatchObject({ limit: "bytes" });
      expect(await store.get(p, "k")).toStrictEqual({ type: "string", value: "123456789" });

      await store.set(p, "k", { type: "int", value: 1n }, 60_000); // shrinking frees room: 1 + 8
      await store.set(p, "", { type: "bytes", value: new Uint8Array([1]) }, 60_000);
      expect(await store.usage(p)).toStrictEqual({ entries: 2, bytes: 10 });
    });

    it("stops counting expired entries against the quota", async () => {
      const { store, advance } = await driver.create({ maxEntries: 1, maxBytes: 100 });
      const p = pluginId("quota-expiry");
      await store.set(p, "old", { type: "string", value: "x".repeat(90) }, T);
      await expect(store.set(p, "new", { type: "string", value: "y" }, 60_000)).rejects.toBeInstanceOf(CacheQuotaExceededError);
      await advance(T * 1.1);
      expect(await store.usage(p)).toStrictEqual({ entries: 0, bytes: 0 });
      await store.set(p, "new", { type: "string", value: "y".repeat(90) }, 60_000);
      expect(await store.usage(p)).toStrictEqual({ entries: 1, bytes: 93 });
    });

    it("rejects every operation once closed", async () => {
      const { store } = await driver.create();
      const p = pluginId("closed");
      await store.close();
      await store.close();
      await expect(store.set(p, "k", { type: "string", value: "v" }, 1000)).rejects.toThrow("cache store is closed");
      await expect(store.get(p, "k")).rejects.toThrow("cache store is closed");
      await expect(store.has(p, "k")).rejects.toThrow("cache store is closed");
      await expect(store.remove(p, "k")).rejects.toThrow("cache store is closed");
      await expect(store.usage(p)).rejects.toThrow("cache store is closed");
    });

    it("refuses a quota that is not a positive integer", async () => {
      await expect(driver.create({ maxEntries: 0 })).rejects.toThrow("cache maxEntries must be a positive integer, got 0");
      await expect(driver.create({ maxBytes: 1.5 })).rejects.toThrow("cache maxBytes must be a positive integer, got 1.5");
    });
  });
}
