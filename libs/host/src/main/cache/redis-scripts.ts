/**
 * Lua scripts of the Redis cache store. Each one runs atomically, so an entry and the per-plugin
 * usage accounting never disagree. Every script takes the same four keys, all carrying the
 * plugin's hash tag (one cluster slot per plugin):
 *
 *   KEYS[1] entry    hash { t = value type, v = encoded value, ttl = TTL in ms }, expires with the entry
 *   KEYS[2] expiry   sorted set: member = cache key, score = expiry time (ms) of that entry
 *   KEYS[3] sizes    hash: cache key -> bytes charged for it
 *   KEYS[4] bytes    string: sum of `sizes`
 *
 * The set script may also probe the plugin's other entry keys; they share the hash tag, so the
 * same slot.
 *
 * Expiry times come from the Redis server clock (TIME), so hosts with skewed clocks agree.
 * Entries whose score has passed are dropped from the accounting before any quota decision, so
 * an expired entry never counts. The three accounting keys expire with the plugin's
 * last-expiring entry and are deleted when the plugin holds nothing.
 *
 * Names carry a version: change a script's contract, bump its name.
 */

const COMMON = `
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function forget(member)
  local size = redis.call('HGET', KEYS[3], member)
  if size then
    redis.call('HDEL', KEYS[3], member)
    redis.call('DECRBY', KEYS[4], size)
  end
  redis.call('ZREM', KEYS[2], member)
end

local function forgetExpired(now)
  for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)) do
    forget(member)
  end
end

local function keepAccountingWhileEntriesLive()
  local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
  if last[2] then
    for i = 2, 4 do redis.call('PEXPIREAT', KEYS[i], last[2]) end
  else
    redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
  end
end
`;

/**
 * ARGV: key, type, encoded value, ttl ms (> 0), size, max entries (0 = none), max bytes (0 = none),
 * entry key prefix (KEYS[1] without the key). Returns 0 when stored, 1 when the entry quota refused
 * it, 2 when the byte quota refused it (the previous value then stays).
 *
 * Before refusing, entries that vanished without expiring (maxmemory eviction, deleted by hand)
 * are dropped from the accounting; that costs one EXISTS per entry of the plugin, paid only by
 * writes the quota is about to refuse.
 */
export const SET_SCRIPT = {
  name: "tonearmCacheSetV1",
  lua: `${COMMON}
local member, size, prefix = ARGV[1], tonumber(ARGV[5]), ARGV[8]
local maxEntries, maxBytes = tonumber(ARGV[6]), tonumber(ARGV[7])
local now = nowMs()

local function verdict()
  local oldSize = tonumber(redis.call('HGET', KEYS[3], member))
  local entries = redis.call('ZCARD', KEYS[2]) + (oldSize and 0 or 1)
  local bytes = (tonumber(redis.call('GET', KEYS[4])) or 0) - (oldSize or 0) + size
  if maxEntries > 0 and entries > maxEntries then return 1, bytes end
  if maxBytes > 0 and bytes > maxBytes then return 2, bytes end
  return 0, bytes
end

forgetExpired(now)
local refused, bytes = verdict()
if refused ~= 0 then
  for _, tracked in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
    if redis.call('EXISTS', prefix .. tracked) == 0 then forget(tracked) end
  end
  refused, bytes = verdict()
  if refused ~= 0 then return refused end
end

local expiresAt = now + tonumber(ARGV[4])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 't', ARGV[2], 'v', ARGV[3], 'ttl', ARGV[4])
redis.call('PEXPIREAT', KEYS[1], expiresAt)
redis.call('ZADD', KEYS[2], expiresAt, member)
redis.call('HSET', KEYS[3], member, size)
redis.call('SET', KEYS[4], bytes)
keepAccountingWhileEntriesLive()
return 0
`,
} as const;

/**
 * ARGV: key, "value" | "exists". A live entry's expiry restarts at now + its stored TTL.
 * Returns nil when absent; else `{type, value}` ("value") or 1 ("exists").
 */
export const TOUCH_SCRIPT = {
  name: "tonearmCacheTouchV1",
  lua: `${COMMON}
local fields = redis.call('HMGET', KEYS[1], 't', 'v', 'ttl')
if not fields[1] then return false end
local expiresAt = nowMs() + tonumber(fields[3])
redis.call('PEXPIREAT', KEYS[1], expiresAt)
redis.call('ZADD', KEYS[2], 'XX', expiresAt, ARGV[1])
keepAccountingWhileEntriesLive()
if ARGV[2] == 'exists' then return 1 end
return {fields[1], fields[2]}
`,
} as const;

/** ARGV: key. Deletes the entry and its accounting; returns 0. */
export const REMOVE_SCRIPT = {
  name: "tonearmCacheRemoveV1",
  lua: `${COMMON}
redis.call('DEL', KEYS[1])
forget(ARGV[1])
keepAccountingWhileEntriesLive()
return 0
`,
} as const;

/** No ARGV; KEYS[1] is unused. Returns `{live entries, bytes}` after dropping expired ones. */
export const USAGE_SCRIPT = {
  name: "tonearmCacheUsageV1",
  lua: `${COMMON}
forgetExpired(nowMs())
keepAccountingWhileEntriesLive()
return {redis.call('ZCARD', KEYS[2]), tonumber(redis.call('GET', KEYS[4])) or 0}
`,
} as const;

export const CACHE_SCRIPTS = [SET_SCRIPT, TOUCH_SCRIPT, REMOVE_SCRIPT, USAGE_SCRIPT] as const;
