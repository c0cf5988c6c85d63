// infra/redis-users.acl on a real redis-server: each role reaches only the keys and commands it
// uses (plugin caches and BullMQ schedules under tonearm:default:), and everything else answers
// NOPERM. The roles doing their whole job with these users is shown by locked-cluster.test.ts.
import { createConnection } from "node:net";
import { createBullMqScheduleDriver, createRedisCacheStore, type ScheduleFiring } from "@tonearm/host";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NAMESPACE, REDIS_ROLES, startLockedRedis, type LockedRedis, type RedisRole } from "./locked-servers.js";

let redis: LockedRedis;
const clients: Redis[] = [];

function connect(role: RedisRole | "admin"): Redis {
  const user = role === "admin" ? redis.admin : redis.users[role];
  const client = new Redis(redis.url, { username: user.username, password: user.password, maxRetriesPerRequest: 1 });
  clients.push(client);
  return client;
}

const NOPERM = /^NOPERM/;
const cacheKey = `tonearm:${NAMESPACE}:cache:{p}:k`;
const scheduleKey = `tonearm:${NAMESPACE}:{schedules}:meta`;

beforeAll(async () => {
  redis = await startLockedRedis();
});

afterAll(async () => {
  for (const client of clients) client.disconnect();
  await redis?.dispose();
});

describe("infra/redis-users.acl", () => {
  it("turns the default user off: an unauthenticated client can do nothing", async () => {
    expect(await firstReply(["GET", "x"])).toMatch(/^-NOAUTH/);
    expect(await firstReply(["AUTH", "default", ""])).toMatch(/^-WRONGPASS/);
  });

  it.each(REDIS_ROLES)("refuses the %s user a wrong password", async (role) => {
    expect(await firstReply(["AUTH", redis.users[role].username, "not-it"])).toMatch(/^-WRONGPASS/);
    expect(await firstReply(["AUTH", redis.users[role].username, redis.users[role].password])).toBe("+OK");
  });

  it("lets a worker keep plugin caches and enqueue schedules", async () => {
    const worker = connect("worker");
    const cache = createRedisCacheStore(worker, { namespace: NAMESPACE, maxEntries: 10 });
    await cache.set("p", "k", { type: "string", value: "v" }, 60_000);
    expect(await cache.get("p", "k")).toEqual({ type: "string", value: "v" });
    expect(await cache.usage("p")).toEqual({ entries: 1, bytes: 2 });
    await cache.remove("p", "k");

    const schedules = createBullMqScheduleDriver({ connection: { url: redis.url, ...credentialsOf("worker") }, namespace: NAMESPACE });
    try {
      await schedules.upsert(once("p", "later", Date.now() + 3_600_000));
      expect((await schedules.list("p")).map((s) => s.scheduleId)).toEqual(["later"]);
      expect(await schedules.cancel("p", "later")).toBe(true);
    } finally {
      await schedules.close();
    }
  });

  it("lets the scheduler fire what a worker scheduled, but not touch plugin caches", async () => {
    const fired: ScheduleFiring[] = [];
    const worker = createBullMqScheduleDriver({ connection: { url: redis.url, ...credentialsOf("worker") }, namespace: NAMESPACE });
    const scheduler = createBullMqScheduleDriver({ connection: { url: redis.url, ...credentialsOf("scheduler") }, namespace: NAMESPACE });
    try {
      await scheduler.start((firing) => Promise.resolve(void fired.push(firing)));
      await worker.upsert(once("p", "now", Date.now()));
      await expect.poll(() => fired.map((f) => f.scheduleId), { timeout: 10_000 }).toEqual(["now"]);
    } finally {
      await Promise.all([worker.close(), scheduler.close()]);
    }
    const client = connect("scheduler");
    await expect(client.get(cacheKey)).rejects.toThrow(NOPERM);
    await expect(createRedisCacheStore(client, { namespace: NAMESPACE }).get("p", "k")).rejects.toThrow(NOPERM);
  });

  it.each(["worker", "scheduler"] as const)("confines the %s to tonearm:default: keys and to the commands it uses", async (role) => {
    const client = connect(role);
    // Keys outside its prefixes: another namespace, the root, a look-alike prefix.
    for (const key of ["tonearm:prod:cache:{p}:k", "tonearm:default:leases", "other", "tonearm:default:cache", `${scheduleKey}x`.replace("{schedules}", "schedules")]) {
      await expect(client.set(key, "x"), key).rejects.toThrow(NOPERM);
      await expect(client.get(key), key).rejects.toThrow(NOPERM);
    }
    // A script is held to the same keys, declared or not.
    await expect(client.eval("return redis.call('GET', KEYS[1])", 1, "other")).rejects.toThrow(NOPERM);
    await expect(client.eval("return redis.call('GET', 'other')", 0)).rejects.toThrow(/can't access at least one of the keys/);
    // Commands that list, move or wipe keys it cannot name, or reach the server itself.
    for (const [command, ...args] of [
      ["keys", "*"],
      ["scan", "0"],
      ["randomkey"],
      ["flushdb"],
      ["flushall"],
      ["config", "get", "*"],
      ["acl", "list"],
      ["client", "list"],
      ["shutdown", "nosave"],
      ["save"],
      ["monitor"],
      ["function", "flush"],
      ["script", "flush"],
      ["publish", "channel", "x"],
      ["sort", scheduleKey, "by", "nosort", "get", "*"],
    ] as const) {
      await expect(client.call(command, ...args), command).rejects.toThrow(NOPERM);
    }
    expect(await client.ping()).toBe("PONG");
  });

  it.each(["gateway", "registry"] as const)("lets the %s only connect: it uses no key", async (role) => {
    const client = connect(role);
    expect(await client.ping()).toBe("PONG");
    await expect(client.get(cacheKey)).rejects.toThrow(NOPERM);
    await expect(client.set(scheduleKey, "x")).rejects.toThrow(NOPERM);
    await expect(client.eval("return 1", 0)).rejects.toThrow(NOPERM);
  });

  it("left no key outside tonearm:default:{schedules}: and the caches (checked as admin)", async () => {
    const keys = await connect("admin").keys("*");
    expect(keys.filter((key) => !key.startsWith(`tonearm:${NAMESPACE}:{schedules}:`) && !key.startsWith(`tonearm:${NAMESPACE}:cache`))).toEqual([]);
  });
});

/** The first reply line to one command on a fresh, unauthenticated connection (RESP2, no client library in between). */
async function firstReply(command: readonly string[]): Promise<string> {
  const { hostname, port } = new URL(redis.url);
  const socket = createConnection({ host: hostname, port: Number(port) });
  try {
    const reply = new Promise<string>((resolve, reject) => {
      let text = "";
      socket.on("data", (chunk: Buffer) => {
        text += chunk.toString("utf8");
        const end = text.indexOf("\r\n");
        if (end >= 0) resolve(text.slice(0, end));
      });
      socket.once("error", reject);
    });
    socket.write(`*${command.length}\r\n${command.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join("")}`);
    return await reply;
  } finally {
    socket.destroy();
  }
}

function credentialsOf(role: RedisRole): { username: string; password: string } {
  return { username: redis.users[role].username, password: redis.users[role].password };
}

function once(pluginId: string, scheduleId: string, runAt: number) {
  return { kind: "once" as const, pluginId, scheduleId, payload: new Uint8Array([1]), createdAt: Date.now(), delaySeconds: 0, runAt };
}
