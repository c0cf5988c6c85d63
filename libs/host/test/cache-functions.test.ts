import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { hostImportsFor } from "@tonearm/abi";
import { cacheHost } from "@tonearm/proto";
import { afterEach, describe, expect, it } from "vitest";
import type { MainContext, MainFunctions } from "../src/host.js";
import { DEFAULT_TTL_MS, createCacheFunctions, createMemoryCacheStore, type MemoryCacheStore } from "../src/main/cache/index.js";

let now = 0;
let store: MemoryCacheStore;
let fns: MainFunctions;

function setup(quota: { maxEntries?: number; maxBytes?: number } = {}): void {
  now = 1_700_000_000_000;
  store = createMemoryCacheStore({ ...quota, now: () => now });
  fns = createCacheFunctions(store);
}
setup();
afterEach(async () => {
  await store.close();
  setup();
});

const context = (pluginId: string): MainContext => ({ pluginId, permissions: { cache: { reason: "test" } }, config: {}, signal: new AbortController().signal });

/** Calls an `env` function the way the runtime does: encoded request in, encoded response out. */
async function call<I extends DescMessage, O extends DescMessage>(
  name: string,
  input: I,
  output: O,
  request: MessageInitShape<I>,
  pluginId = "plugin-a",
): Promise<MessageShape<O>> {
  const fn = fns[name];
  if (!fn) throw new Error(`no env.${name}`);
  return fromBinary(output, await fn(context(pluginId), toBinary(input, create(input, request))));
}

const setString = (key: string, value: string, ttlSeconds = 0n, plugin?: string) =>
  call("set_string", cacheHost.SetStringRequestSchema, cacheHost.SetResponseSchema, { key, value, ttlSeconds }, plugin);
const getString = (key: string, plugin?: string) => call("get_string", cacheHost.GetRequestSchema, cacheHost.GetStringResponseSchema, { key }, plugin);
const getInt = (key: string) => call("get_int", cacheHost.GetRequestSchema, cacheHost.GetIntResponseSchema, { key });
const getFloat = (key: string) => call("get_float", cacheHost.GetRequestSchema, cacheHost.GetFloatResponseSchema, { key });
const getBytes = (key: string) => call("get_bytes", cacheHost.GetRequestSchema, cacheHost.GetBytesResponseSchema, { key });
const has = (key: string) => call("has", cacheHost.HasRequestSchema, cacheHost.HasResponseSchema, { key });
const remove = (key: string) => call("remove", cacheHost.RemoveRequestSchema, cacheHost.RemoveResponseSchema, { key });

describe("cache env functions", () => {
  it("answer exactly the cache permission's imports", () => {
    expect(Object.keys(fns).sort()).toStrictEqual(hostImportsFor(["cache"]).map((i) => i.name).sort());
  });

  it("round-trip every type through its own setter and getter", async () => {
    const ok = { success: true, error: "" };
    expect(await setString("s", "text")).toMatchObject(ok);
    expect(
      await call("set_int", cacheHost.SetIntRequestSchema, cacheHost.SetResponseSchema, { key: "i", value: -9223372036854775808n, ttlSeconds: 60n }),
    ).toMatchObject(ok);
    expect(await call("set_float", cacheHost.SetFloatRequestSchema, cacheHost.SetResponseSchema, { key: "f", value: 0.1, ttlSeconds: 60n })).toMatchObject(ok);
    expect(
      await call("set_bytes", cacheHost.SetBytesRequestSchema, cacheHost.SetResponseSchema, { key: "b", value: new Uint8Array([0, 255]), ttlSeconds: 60n }),
    ).toMatchObject(ok);
    expect(await getString("s")).toMatchObject({ exists: true, value: "text" });
    expect(await getInt("i")).toMatchObject({ exists: true, value: -9223372036854775808n });
    expect(await getFloat("f")).toMatchObject({ exists: true, value: 0.1 });
    expect(await getBytes("b")).toMatchObject({ exists: true, value: new Uint8Array([0, 255]) });
  });

  it("answer exists=false with a zero value for a missing key", async () => {
    expect(await getString("none")).toMatchObject({ exists: false, value: "" });
    expect(await getInt("none")).toMatchObject({ exists: false, value: 0n });
    expect(await has("none")).toMatchObject({ exists: false });
  });

  it("answer exists=false for a value of another type, while has sees it", async () => {
    await setString("k", "42");
    expect(await getInt("k")).toMatchObject({ exists: false, value: 0n });
    expect(await getFloat("k")).toMatchObject({ exists: false, value: 0 });
    expect(await getBytes("k")).toMatchObject({ exists: false, value: new Uint8Array() });
    expect(await has("k")).toMatchObject({ exists: true });
    expect(await getString("k")).toMatchObject({ exists: true, value: "42" });
  });

  it("extend an entry's life even on a read of the wrong type, as Navidrome's ttlcache does", async () => {
    await setString("k", "v", 10n);
    now += 9_000;
    expect(await getInt("k")).toMatchObject({ exists: false });
    now += 9_000;
    expect(await getString("k")).toMatchObject({ exists: true, value: "v" });
  });

  it.each([
    [0n, DEFAULT_TTL_MS],
    [-30n, DEFAULT_TTL_MS],
    [60n, 60_000],
  ])("keep a value written with ttl_seconds %s for %s ms", async (ttlSeconds, lifetimeMs) => {
    await setString("k", "v", ttlSeconds);
    now += lifetimeMs - 1;
    expect(await store.usage("plugin-a")).toMatchObject({ entries: 1 });
    now += 1;
    expect(await getString("k")).toMatchObject({ exists: false });
  });

  it("accept a TTL too large for a timestamp", async () => {
    expect(await setString("k", "v", 9223372036854775807n)).toMatchObject({ success: true });
    now += 50 * 365 * DEFAULT_TTL_MS;
    expect(await getString("k")).toMatchObject({ exists: true });
  });

  it("remove an entry and report success whether or not it existed", async () => {
    await setString("k", "v");
    expect(await remove("k")).toMatchObject({ success: true });
    expect(await has("k")).toMatchObject({ exists: false });
    expect(await remove("k")).toMatchObject({ success: true });
  });

  it("scope keys by the calling plugin", async () => {
    await setString("k", "mine", 0n, "plugin-a");
    expect(await getString("k", "plugin-b")).toMatchObject({ exists: false });
    await setString("k", "theirs", 0n, "plugin-b");
    expect(await getString("k", "plugin-a")).toMatchObject({ exists: true, value: "mine" });
  });

  it("answer a write over quota with success=false and the reason", async () => {
    await store.close();
    setup({ maxEntries: 1 });
    expect(await setString("a", "v")).toMatchObject({ success: true });
    expect(await setString("b", "v")).toMatchObject({ success: false, error: "cache quota exceeded for plugin plugin-a: 1 entries" });
    expect(await setString("b", "v", 0n, "plugin-b")).toMatchObject({ success: true });
  });

  it("report a store failure on a write in the response and fail a read with its cause", async () => {
    await store.close();
    expect(await setString("k", "v")).toMatchObject({ success: false, error: "cache write failed: cache store is closed" });
    await expect(getString("k")).rejects.toThrow("cache store is closed");
    await expect(remove("k")).rejects.toThrow("cache store is closed");
  });
});
