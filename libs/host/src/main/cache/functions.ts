/**
 * `cache` permission: the `env` imports `set_string`/`get_string`, `set_int`/`get_int`,
 * `set_float`/`get_float`, `set_bytes`/`get_bytes`, `has` and `remove` (ABI.md §2.1, §10), scoped
 * to the calling plugin.
 *
 * Responses follow Navidrome: a read of a missing, expired or differently typed key is
 * `exists: false`; `has` is true for any type; writes and `remove` answer `success: true`. Where
 * Tonearm can fail and Navidrome cannot, a refused write answers `success: false` with the reason
 * in `error` (quota exceeded, Redis unreachable). A failed read or `remove` has no field for a
 * reason, so it throws and the plugin call fails with the cause (as a failing Navidrome host
 * function does).
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { cacheHost } from "@tonearm/proto";
import { asyncHandler } from "../../define.js";
import type { MainContext, MainFunctions } from "../../host.js";
import { CacheQuotaExceededError, MAX_TTL_MS, type CacheStore, type CacheValue } from "./store.js";

const MAX_TTL_SECONDS = BigInt(Math.floor(MAX_TTL_MS / 1000));

/** `ttl_seconds` as milliseconds; ≤ 0 stays ≤ 0 so the store applies the 24 h default. */
function ttlMs(ttlSeconds: bigint): number {
  if (ttlSeconds <= 0n) return 0;
  return Number(ttlSeconds > MAX_TTL_SECONDS ? MAX_TTL_SECONDS : ttlSeconds) * 1000;
}

function writeFailure(err: unknown): string {
  if (err instanceof CacheQuotaExceededError) return err.message;
  return `cache write failed: ${err instanceof Error ? err.message : String(err)}`;
}

export function createCacheFunctions(store: CacheStore): MainFunctions {
  async function write(ctx: MainContext, key: string, value: CacheValue, ttlSeconds: bigint): Promise<MessageInitShape<typeof cacheHost.SetResponseSchema>> {
    try {
      await store.set(ctx.pluginId, key, value, ttlMs(ttlSeconds));
      return { success: true };
    } catch (err) {
      return { success: false, error: writeFailure(err) };
    }
  }

  async function read<T extends CacheValue["type"]>(ctx: MainContext, key: string, type: T): Promise<Extract<CacheValue, { type: T }> | undefined> {
    const value = await store.get(ctx.pluginId, key);
    return value?.type === type ? (value as Extract<CacheValue, { type: T }>) : undefined;
  }

  return {
    set_string: asyncHandler("set_string", { input: cacheHost.SetStringRequestSchema, output: cacheHost.SetResponseSchema }, (ctx: MainContext, req) =>
      write(ctx, req.key, { type: "string", value: req.value }, req.ttlSeconds),
    ),
    set_int: asyncHandler("set_int", { input: cacheHost.SetIntRequestSchema, output: cacheHost.SetResponseSchema }, (ctx: MainContext, req) =>
      write(ctx, req.key, { type: "int", value: req.value }, req.ttlSeconds),
    ),
    set_float: asyncHandler("set_float", { input: cacheHost.SetFloatRequestSchema, output: cacheHost.SetResponseSchema }, (ctx: MainContext, req) =>
      write(ctx, req.key, { type: "float", value: req.value }, req.ttlSeconds),
    ),
    set_bytes: asyncHandler("set_bytes", { input: cacheHost.SetBytesRequestSchema, output: cacheHost.SetResponseSchema }, (ctx: MainContext, req) =>
      write(ctx, req.key, { type: "bytes", value: req.value }, req.ttlSeconds),
    ),
    get_string: asyncHandler("get_string", { input: cacheHost.GetRequestSchema, output: cacheHost.GetStringResponseSchema }, async (ctx: MainContext, req) => {
      const hit = await read(ctx, req.key, "string");
      return hit ? { exists: true, value: hit.value } : { exists: false };
    }),
    get_int: asyncHandler("get_int", { input: cacheHost.GetRequestSchema, output: cacheHost.GetIntResponseSchema }, async (ctx: MainContext, req) => {
      const hit = await read(ctx, req.key, "int");
      return hit ? { exists: true, value: hit.value } : { exists: false };
    }),
    get_float: asyncHandler("get_float", { input: cacheHost.GetRequestSchema, output: cacheHost.GetFloatResponseSchema }, async (ctx: MainContext, req) => {
      const hit = await read(ctx, req.key, "float");
      return hit ? { exists: true, value: hit.value } : { exists: false };
    }),
    get_bytes: asyncHandler("get_bytes", { input: cacheHost.GetRequestSchema, output: cacheHost.GetBytesResponseSchema }, async (ctx: MainContext, req) => {
      const hit = await read(ctx, req.key, "bytes");
      return hit ? { exists: true, value: hit.value } : { exists: false };
    }),
    has: asyncHandler("has", { input: cacheHost.HasRequestSchema, output: cacheHost.HasResponseSchema }, async (ctx: MainContext, req) => ({
      exists: await store.has(ctx.pluginId, req.key),
    })),
    remove: asyncHandler("remove", { input: cacheHost.RemoveRequestSchema, output: cacheHost.RemoveResponseSchema }, async (ctx: MainContext, req) => {
      await store.remove(ctx.pluginId, req.key);
      return { success: true };
    }),
  };
}
