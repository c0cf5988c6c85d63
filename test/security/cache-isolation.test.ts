// A plugin's cache calls touch only its own keys, `tonearm:<ns>:cache:{<plugin>}:…` (and its usage
// accounting under `cache-usage:{<plugin>}:`), whatever key or plugin id it is given. Each plugin's
// store runs as a Redis ACL user allowed exactly those two prefixes and no key-listing command, so
// Redis itself refuses any key outside them: a call that stepped out would fail, not pass quietly.
// The calls go through the real host functions (protobuf in, protobuf out) and, for the most
// hostile cases, through a plugin across the wasm boundary.
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { createCacheFunctions, createHost, createRedisCacheStore, type MainContext, type MainFunctions } from "@tonearm/host";
import { cacheHost } from "@tonearm/proto";
import { invokeJson, Runtime } from "@tonearm/runtime";
import { readFixture } from "@tonearm/test-harness";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLockedRedis, type LockedRedis } from "./locked-servers.js";

const NAMESPACE = "iso";
const HOSTILE_KEYS = [
  "*",
  "?",
  "[a-z]*",
  "\\*",
  "{",
  "}",
  "}:",
  ":",
  "::",
  "{victim}:secret",
  "}:{victim}:secret",
  `tonearm:${NAMESPACE}:cache:{victim}:secret`,
  "../victim/secret",
  "line\nbreak",
  "\r\n*3\r\n$3\r\nDEL\r\n",
  "nul\0byte",
  "\0",
  "secret",
  "ünï©ødé ✓",
];
const HOSTILE_PLUGINS = ["evil*", "ev?l", "[v]ictim", "victim}:x", "{victim}", "victim:", "x\ny", "nul\0id", "%7Bvictim%7D", "*", ":", "}"];
const MIB = 1024 * 1024;

let redis: LockedRedis;
let admin: Redis;
const clients: Redis[] = [];
let nextUser = 0;

/** Redis's glob syntax, escaped: a plugin id never widens the ACL pattern built from it. */
const globEscape = (text: string): string => text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
const tagOf = (pluginId: string): string => `{${encodeURIComponent(pluginId)}}`;

/** A Redis client that may touch only `pluginId`'s cache keys, and list none. */
async function confinedClient(pluginId: string): Promise<Redis> {
  const username = `plugin-${nextUser++}`;
  const password = `pw-${username}`;
  const tag = globEscape(tagOf(pluginId));
  await admin.call(
    "ACL",
    "SETUSER",
    username,
    "on",
    `>${password}`,
    "resetkeys",
    `~tonearm:${NAMESPACE}:cache:${tag}:*`,
    `~tonearm:${NAMESPACE}:cache-usage:${tag}:*`,
    "resetchannels",
    "-@all",
    "+@read",
    "+@write",
    "+@scripting",
    "+@connection",
    "-@dangerous",
    "-scan",
    "-keys",
    "-randomkey",
    "-sort",
    "+time",
    "+info",
  );
  const client = new Redis(redis.url, { username, password, maxRetriesPerRequest: 1 });
  clients.push(client);
  return client;
}

interface PluginCache {
  readonly id: string;
  readonly functions: MainFunctions;
}

async function pluginCache(id: string, quota: { maxEntries?: number } = {}): Promise<PluginCache> {
  return { id, functions: createCacheFunctions(createRedisCacheStore(await confinedClient(id), { namespace: NAMESPACE, ...quota })) };
}

async function call<I extends DescMessage, O extends DescMessage>(
  plugin: PluginCache,
  name: string,
  input: I,
  request: MessageInitShape<I>,
  output: O,
) {
  const fn = plugin.functions[name];
  if (!fn) throw new Error(`no host function ${name}`);
  const ctx = { pluginId: plugin.id, permissions: {}, config: {}, signal: new AbortController().signal } as unknown as MainContext;
  return fromBinary(output, await fn(ctx, toBinary(input, create(input, request))));
}

const setString = (p: PluginCache, key: string, value: string) =>
  call(p, "set_string", cacheHost.SetStringRequestSchema, { key, value }, cacheHost.SetResponseSchema);
const getString = (p: PluginCache, key: string) => call(p, "get_string", cacheHost.GetRequestSchema, { key }, cacheHost.GetStringResponseSchema);
const has = (p: PluginCache, key: string) => call(p, "has", cacheHost.HasRequestSchema, { key }, cacheHost.HasResponseSchema);
const remove = (p: PluginCache, key: string) => call(p, "remove", cacheHost.RemoveRequestSchema, { key }, cacheHost.RemoveResponseSchema);

/** Every key of the namespace, as admin: the only way to see all of them. */
const allKeys = (): Promise<string[]> => admin.keys(`tonearm:${NAMESPACE}:*`);

let victim: PluginCache;

beforeAll(async () => {
  redis = await startLockedRedis();
  admin = new Redis(redis.url, { username: redis.admin.username, password: redis.admin.password });
  clients.push(admin);
  victim = await pluginCache("victim");
  for (const key of ["secret", ...HOSTILE_KEYS]) expect(await setString(victim, key, `victim's ${key}`)).toMatchObject({ success: true });
});

afterAll(async () => {
  for (const client of clients) client.disconnect();
  await redis?.dispose();
});

describe("the confinement these tests rely on", () => {
  it("refuses a plugin's client every key outside its prefixes, and every key listing", async () => {
    for (const id of ["attacker", "evil*", "[v]ictim", "{victim}"]) {
      const client = await confinedClient(id);
      await expect(client.get(`tonearm:${NAMESPACE}:cache:${tagOf("victim")}:secret`), id).rejects.toThrow(/^NOPERM/);
      await expect(client.get(`tonearm:${NAMESPACE}:cache:{evilX}:secret`), id).rejects.toThrow(/^NOPERM/);
      await expect(client.set(`tonearm:${NAMESPACE}:other`, "x"), id).rejects.toThrow(/^NOPERM/);
      await expect(client.keys("*"), id).rejects.toThrow(/^NOPERM/);
      await expect(client.scan("0"), id).rejects.toThrow(/^NOPERM/);
      expect(await client.set(`tonearm:${NAMESPACE}:cache:${tagOf(id)}:probe`, "x"), id).toBe("OK");
      expect(await client.del(`tonearm:${NAMESPACE}:cache:${tagOf(id)}:probe`), id).toBe(1);
    }
  });
});

describe("a plugin's cache, through the host functions", () => {
  it("stores and reads back hostile keys inside its own prefix, never the victim's values", async () => {
    const attacker = await pluginCache("attacker");
    for (const key of HOSTILE_KEYS) {
      expect(await getString(attacker, key), key).toMatchObject({ exists: false });
      expect(await has(attacker, key), key).toMatchObject({ exists: false });
      expect(await setString(attacker, key, `attacker's ${key}`), key).toMatchObject({ success: true });
      expect(await getString(attacker, key), key).toMatchObject({ exists: true, value: `attacker's ${key}` });
    }
    for (const key of HOSTILE_KEYS) expect(await remove(attacker, key), key).toMatchObject({ success: true });
    for (const key of ["secret", ...HOSTILE_KEYS]) {
      expect(await getString(victim, key), key).toMatchObject({ exists: true, value: `victim's ${key}` });
    }
  });

  it("keeps plugin ids with glob, brace, colon, newline and NUL characters apart", async () => {
    const plugins = await Promise.all(HOSTILE_PLUGINS.map((id) => pluginCache(id)));
    for (const plugin of plugins) {
      for (const key of ["secret", "*", "}:secret"]) {
        expect(await getString(plugin, key), `${plugin.id} ${key}`).toMatchObject({ exists: false });
        expect(await setString(plugin, key, `${plugin.id}'s ${key}`), `${plugin.id} ${key}`).toMatchObject({ success: true });
      }
    }
    for (const plugin of plugins) {
      for (const key of ["secret", "*", "}:secret"]) {
        expect(await getString(plugin, key), `${plugin.id} ${key}`).toMatchObject({ exists: true, value: `${plugin.id}'s ${key}` });
      }
    }
    expect(await getString(victim, "secret")).toMatchObject({ value: "victim's secret" });
    // One entry key per plugin and key, each under its own plugin's tag.
    const entries = (await allKeys()).filter((key) => key.startsWith(`tonearm:${NAMESPACE}:cache:`));
    for (const plugin of plugins) {
      const prefix = `tonearm:${NAMESPACE}:cache:${tagOf(plugin.id)}:`;
      expect(entries.filter((key) => key.startsWith(prefix)).sort(), plugin.id).toEqual([`${prefix}*`, `${prefix}secret`, `${prefix}}:secret`].sort());
    }
  });

  it("holds a 1 MiB key of glob characters inside the prefix", async () => {
    const plugin = await pluginCache("big-keys");
    const key = `}:{victim}:${"*?[".repeat(MIB / 3)}`;
    expect(await setString(plugin, key, "big")).toMatchObject({ success: true });
    expect(await getString(plugin, key)).toMatchObject({ exists: true, value: "big" });
    expect(await getString(plugin, key.slice(0, -1))).toMatchObject({ exists: false });
    const stored = (await allKeys()).filter((k) => k.length > MIB);
    expect(stored).toEqual([`tonearm:${NAMESPACE}:cache:${tagOf("big-keys")}:${key}`]);
  });

  it("stays inside its prefixes when a quota makes it look through its own entries", async () => {
    const plugin = await pluginCache("quota", { maxEntries: 2 });
    expect(await setString(plugin, "*", "1")).toMatchObject({ success: true });
    expect(await setString(plugin, "}:x", "2")).toMatchObject({ success: true });
    // The refusal path checks each tracked entry still exists (script-side EXISTS on built names).
    expect(await setString(plugin, "[x]", "3")).toMatchObject({ success: false, error: expect.stringMatching(/quota/i) });
    await admin.del(`tonearm:${NAMESPACE}:cache:${tagOf("quota")}:*`);
    expect(await setString(plugin, "[x]", "3")).toMatchObject({ success: true });
  });

  it("refuses a plugin id that is not well-formed Unicode instead of mapping it onto another", async () => {
    const plugin = await pluginCache("plain");
    const broken = { ...plugin, id: "victim\ud800" };
    expect(await setString(broken, "secret", "x")).toMatchObject({ success: false, error: expect.stringMatching(/URI|malformed/i) });
    await expect(getString(broken, "secret")).rejects.toThrow();
    expect(await getString(victim, "secret")).toMatchObject({ value: "victim's secret" });
  });
});

describe("a plugin's cache, across the wasm boundary", () => {
  it("keeps a plugin named like a glob with hostile keys to its own prefix", async () => {
    const id = "host_probe}:{victim*";
    const store = createRedisCacheStore(await confinedClient(id), { namespace: NAMESPACE });
    const fixture = await readFixture("plugins", "host_probe");
    const runtime: Runtime = Runtime.create({
      threads: { min: 1, max: 1 },
      host: createHost({
        plugins: { lookup: (pluginId) => (pluginId === id ? { manifest: fixture.manifest, config: {} } : undefined) },
        services: [createCacheFunctions(store)],
      }),
    });
    try {
      await runtime.load({ ...fixture, id });
      const probe = async (op: string, key: string, value = ""): Promise<string> => {
        const response = (await invokeJson(runtime, id, "MetadataAgent", "GetArtistBiography", { name: op, id: key, mbid: value })) as { biography?: string };
        return response.biography ?? "";
      };
      for (const key of ["*", "secret", "}:{victim}:secret", "nul\0byte", "line\nbreak", "[a-z]*"]) {
        expect(await probe("cache.get.string", key), key).toBe("(missing)");
        expect(await probe("cache.set.string", key, `probe ${key}`), key).toBe("ok");
        expect(await probe("cache.get.string", key), key).toBe(`probe ${key}`);
        expect(await probe("cache.remove", key), key).toBe("ok");
      }
    } finally {
      await runtime.close();
    }
    expect(await getString(victim, "secret")).toMatchObject({ value: "victim's secret" });
  });
});
