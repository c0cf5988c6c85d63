import { afterEach, describe, expect, it, vi } from "vitest";
import { DEFAULT_TTL_MS, createMemoryCacheStore, type CacheQuota, type MemoryCacheStore } from "../src/main/cache/index.js";
import { cacheStoreContract } from "./cache-contract.js";

const stores: MemoryCacheStore[] = [];

function withClock(quota: CacheQuota = {}, sweepIntervalMs?: number): { store: MemoryCacheStore; advance(ms: number): Promise<void> } {
  let now = 1_700_000_000_000;
  const store = createMemoryCacheStore({ ...quota, now: () => now, sweepIntervalMs });
  stores.push(store);
  return {
    store,
    advance: (ms) => {
      now += ms;
      return Promise.resolve();
    },
  };
}

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

cacheStoreContract("memory", { create: (quota) => Promise.resolve().then(() => withClock(quota)), ttlMs: 1_000 });

describe("memory cache store", () => {
  it.each([0, -1, Number.NaN])("keeps an entry written with TTL %s for 24 hours", async (ttl) => {
    const { store, advance } = withClock();
    await store.set("p", "k", { type: "string", value: "v" }, ttl);
    await advance(DEFAULT_TTL_MS - 1);
    expect(await store.has("p", "k")).toBe(true); // restarts the 24 h
    await advance(DEFAULT_TTL_MS - 1);
    expect(await store.get("p", "k")).toStrictEqual({ type: "string", value: "v" });
    await advance(DEFAULT_TTL_MS);
    expect(await store.has("p", "k")).toBe(false);
  });

  it("frees expired entries nobody reads again on the periodic sweep", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const { store, advance } = withClock({}, 5_000);
    await store.set("p", "short", { type: "int", value: 1n }, 1_000);
    await store.set("q", "short", { type: "int", value: 1n }, 1_000);
    await store.set("p", "long", { type: "int", value: 1n }, 60_000);
    await advance(2_000);
    expect(store.heldEntries).toBe(3); // nothing touched them yet
    vi.advanceTimersByTime(5_000);
    expect(store.heldEntries).toBe(1);
    expect(await store.has("p", "long")).toBe(true);
  });

  it("stops its sweep timer on close", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const { store } = withClock();
    expect(vi.getTimerCount()).toBe(1);
    await store.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("refuses a sweep interval that is not positive", () => {
    expect(() => createMemoryCacheStore({ sweepIntervalMs: 0 })).toThrow("cache sweepIntervalMs must be positive, got 0");
  });
});
