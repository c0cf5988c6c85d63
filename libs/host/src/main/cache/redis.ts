/**
 * Redis cache store for cluster mode. An entry lives at `tonearm:<ns>:cache:{<plugin>}:<key>`: the
 * hash tag puts all of a plugin's keys in one cluster slot, and since the plugin id inside it is
 * percent-encoded, the first `}` always closes it, so no key (with `}`, `:` or anything else) can
 * reach another plugin's entries. Per-plugin accounting lives under
 * `tonearm:<ns>:cache-usage:{<plugin>}:*` and is kept exact by the scripts in `redis-scripts.ts`.
 */
import type { Redis } from "ioredis";
import { CACHE_SCRIPTS, REMOVE_SCRIPT, SET_SCRIPT, TOUCH_SCRIPT, USAGE_SCRIPT } from "./redis-scripts.js";
import {
  CacheQuotaExceededError,
  closedStoreError,
  compileQuota,
  effectiveTtlMs,
  entrySize,
  type CacheQuota,
  type CacheStore,
  type CacheValue,
} from "./store.js";

export interface RedisCacheStoreOptions extends CacheQuota {
  /** Cluster namespace (`<ns>` in every key), so several clusters or test runs share one Redis. */
  readonly namespace: string;
}

type ScriptArg = string | number | Buffer;
type ScriptCommand = (...keysThenArgs: ScriptArg[]) => Promise<unknown>;

/** What `defineCommand` adds to the client for each script: the string and the Buffer-reply form. */
type ScriptCommands = Record<string, ScriptCommand>;

function encodeValue(value: CacheValue): Buffer {
  switch (value.type) {
    case "string":
      return Buffer.from(value.value, "utf8");
    case "int": {
      const out = Buffer.alloc(8);
      out.writeBigInt64BE(value.value);
      return out;
    }
    case "float": {
      // Binary, not text: keeps -0, NaN and every double exact.
      const out = Buffer.alloc(8);
      out.writeDoubleBE(value.value);
      return out;
    }
    case "bytes":
      return Buffer.from(value.value.buffer, value.value.byteOffset, value.value.byteLength);
  }
}

function decodeValue(type: string, payload: Buffer, where: string): CacheValue {
  const fixedWidth = (): void => {
    if (payload.length !== 8) throw new Error(`cache entry ${where} holds a ${type} of ${payload.length} bytes, expected 8`);
  };
  switch (type) {
    case "string":
      return { type, value: payload.toString("utf8") };
    case "int":
      fixedWidth();
      return { type, value: payload.readBigInt64BE() };
    case "float":
      fixedWidth();
      return { type, value: payload.readDoubleBE() };
    case "bytes":
      return { type, value: new Uint8Array(payload) };
    default:
      throw new Error(`cache entry ${where} has unknown value type ${JSON.stringify(type)}`);
  }
}

export function createRedisCacheStore(redis: Redis, options: RedisCacheStoreOptions): CacheStore {
  const { namespace } = options;
  if (!namespace || /[{}]/.test(namespace)) {
    throw new RangeError(`cache namespace must be non-empty and free of '{' and '}', got ${JSON.stringify(namespace)}`);
  }
  // The set script builds entry keys itself; a client-side prefix would make them miss.
  if (redis.options.keyPrefix) throw new RangeError("the cache's Redis client must not use keyPrefix; the namespace scopes its keys");
  const { maxEntries, maxBytes } = compileQuota(options);
  for (const script of CACHE_SCRIPTS) {
    redis.defineCommand(script.name, { lua: script.lua, numberOfKeys: 4 });
  }
  const commands = redis as unknown as ScriptCommands;
  let closed = false;

  const tagOf = (pluginId: string): string => `{${encodeURIComponent(pluginId)}}`;
  const entryPrefix = (pluginId: string): string => `tonearm:${namespace}:cache:${tagOf(pluginId)}:`;

  function keysOf(pluginId: string, key: string): [string, string, string, string] {
    const usage = `tonearm:${namespace}:cache-usage:${tagOf(pluginId)}`;
    return [`${entryPrefix(pluginId)}${key}`, `${usage}:expiry`, `${usage}:sizes`, `${usage}:bytes`];
  }

  function command(name: string): ScriptCommand {
    if (closed) throw closedStoreError();
    const fn = commands[name];
    if (typeof fn !== "function") throw new Error(`redis client lost the ${name} script command`);
    return fn.bind(redis);
  }

  async function touch(pluginId: string, key: string, mode: "value" | "exists"): Promise<unknown> {
    return command(`${TOUCH_SCRIPT.name}Buffer`)(...keysOf(pluginId, key), key, mode);
  }

  return {
    async set(pluginId, key, value, ttlMs) {
      const refused = await command(SET_SCRIPT.name)(
        ...keysOf(pluginId, key),
        key,
        value.type,
        encodeValue(value),
        effectiveTtlMs(ttlMs),
        entrySize(key, value),
        maxEntries ?? 0,
        maxBytes ?? 0,
        entryPrefix(pluginId),
      );
      if (refused === 1) throw new CacheQuotaExceededError(pluginId, "entries", maxEntries ?? 0);
      if (refused === 2) throw new CacheQuotaExceededError(pluginId, "bytes", maxBytes ?? 0);
    },
    async get(pluginId, key) {
      const reply = await touch(pluginId, key, "value");
      if (reply === null) return undefined;
      const [type, payload] = reply as [Buffer, Buffer];
      return decodeValue(type.toString("utf8"), payload, `${JSON.stringify(key)} of plugin ${pluginId}`);
    },
    async has(pluginId, key) {
      return (await touch(pluginId, key, "exists")) === 1;
    },
    async remove(pluginId, key) {
      await command(REMOVE_SCRIPT.name)(...keysOf(pluginId, key), key);
    },
    async usage(pluginId) {
      const [entries, bytes] = (await command(USAGE_SCRIPT.name)(...keysOf(pluginId, ""))) as [number, number];
      return { entries, bytes };
    },
    close() {
      closed = true;
      return Promise.resolve();
    },
  };
}
