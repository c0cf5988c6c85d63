import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisUrl, testNamespace } from "@tonearm/test-harness";
import { createBullMqScheduleDriver, parseCronSpec, type ScheduleDriver, type ScheduleEntry, type ScheduleFiring } from "../src/main/scheduler/index.js";
import { SCHEDULE_QUEUE_NAME } from "../src/main/scheduler/bullmq.js";
import { cron, every, FiringLog, oneTime, scheduleDriverContract } from "./schedule-driver-contract.js";

let url: string;
const namespaces: string[] = [];
/** A namespace of its own for each driver (or group of drivers), obliterated after the file. */
const freshNamespace = (): string => {
  const namespace = testNamespace("sched");
  namespaces.push(namespace);
  return namespace;
};
const queueOf = (namespace: string): Queue => new Queue(SCHEDULE_QUEUE_NAME, { connection: { url }, prefix: `tonearm:${namespace}` });

beforeAll(async () => {
  url = await redisUrl();
});

afterAll(async () => {
  for (const namespace of namespaces) {
    const queue = queueOf(namespace);
    await queue.obliterate({ force: true });
    await queue.close();
  }
});

scheduleDriverContract("bullmq", {
  create: (options) => Promise.resolve(createBullMqScheduleDriver({ connection: url, namespace: freshNamespace(), ...options })),
});

describe("bullmq schedule driver", () => {
  const byId = (a: ScheduleEntry, b: ScheduleEntry): number => (a.scheduleId < b.scheduleId ? -1 : 1);

  it("gives each firing to exactly one of two drivers on the namespace", async () => {
    const namespace = freshNamespace();
    const drivers = [0, 1].map(() => createBullMqScheduleDriver({ connection: url, namespace }));
    const log = new FiringLog();
    const firedBy: number[] = [];
    try {
      for (const [i, driver] of drivers.entries()) {
        await driver.start((firing) => {
          firedBy.push(i);
          return log.fire(firing);
        });
      }
      const runAt = Date.now() + 300;
      const ids = Array.from({ length: 10 }, (_, i) => `once-${i}`);
      for (const [i, id] of ids.entries()) await drivers[i % 2]?.upsert(oneTime("p", id, runAt));
      await drivers[0]?.upsert(every("p", "tick", 300));
      await log.until("tick", 4);
      await drivers[1]?.upsert(oneTime("p", "sentinel", Date.now() + 200));
      await log.until("sentinel");
      for (const id of ids) expect(log.of(id)).toHaveLength(1);
      const ticks = log.of("tick").map((f) => f.firedAt);
      expect(new Set(ticks).size).toBe(ticks.length);
      expect(firedBy).toHaveLength(log.firings.length);
    } finally {
      await Promise.all(drivers.map((d) => d.close()));
    }
  });

  it("keeps schedules across a restart: a new driver lists them from Redis and fires them", async () => {
    const namespace = freshNamespace();
    const runAt = Date.now() + 800;
    const entries = [oneTime("p", "once", runAt), every("p", "tick", 400), cron("p", "zoned", "30 4 * * *", "Asia/Kolkata")];
    const before = createBullMqScheduleDriver({ connection: url, namespace });
    for (const entry of entries) await before.upsert(entry);
    await before.close();

    const after: ScheduleDriver = createBullMqScheduleDriver({ connection: url, namespace });
    try {
      expect((await after.list()).sort(byId)).toEqual([...entries].sort(byId));
      const log = new FiringLog();
      await after.start(log.fire);
      expect(await log.until("once")).toMatchObject([{ firedAt: runAt, isRecurring: false }]);
      expect(await log.until("tick", 2)).toMatchObject([{ isRecurring: true }, { isRecurring: true }]);
    } finally {
      await after.close();
    }
  });

  it("hands BullMQ the cron pattern and zone, so its next run is the pattern's next match in that zone", async () => {
    const namespace = freshNamespace();
    const driver = createBullMqScheduleDriver({ connection: url, namespace });
    const queue = queueOf(namespace);
    try {
      const expression = "CRON_TZ=Asia/Kolkata 30 4 * * *";
      const createdAt = Date.now();
      const base = { pluginId: "p", payload: new Uint8Array(), createdAt, expression };
      await driver.upsert({ kind: "recurring", scheduleId: "zoned", ...base, spec: parseCronSpec(expression) });
      await driver.upsert({ kind: "recurring", scheduleId: "interval", ...base, spec: { type: "every", everyMs: 60_000 } });
      // 04:30 in Kolkata (UTC+05:30, no daylight saving) is 23:00 UTC.
      const expected = new Date(createdAt);
      expected.setUTCHours(23, 0, 0, 0);
      if (expected.getTime() <= createdAt) expected.setUTCDate(expected.getUTCDate() + 1);
      const schedulers = await queue.getJobSchedulers();
      expect(schedulers.find((s) => s.pattern !== undefined)).toMatchObject({ pattern: "30 4 * * *", tz: "Asia/Kolkata", next: expected.getTime() });
      expect(schedulers.find((s) => s.every !== undefined)).toMatchObject({ every: 60_000, next: createdAt + 60_000 });
    } finally {
      await queue.close();
      await driver.close();
    }
  });

  it("keeps its keys under tonearm:<ns>:", async () => {
    const namespace = freshNamespace();
    const driver = createBullMqScheduleDriver({ connection: url, namespace });
    const redis = new Redis(url);
    try {
      await driver.upsert(oneTime("p", "k", Date.now() + 60_000));
      await driver.upsert(every("p", "t", 60_000));
      const keys = await redis.keys(`*${namespace}*`);
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.filter((k) => !k.startsWith(`tonearm:${namespace}:{schedules}:`))).toEqual([]);
    } finally {
      redis.disconnect();
      await driver.close();
    }
  });

  it("refuses an id that is not well-formed Unicode, which no key could keep apart", async () => {
    const driver = createBullMqScheduleDriver({ connection: url, namespace: freshNamespace() });
    try {
      await expect(driver.upsert(oneTime("p", "half \ud800", Date.now()))).rejects.toThrow('schedule id "half \\ud800" is not well-formed Unicode');
      await expect(driver.cancel("\udc00", "x")).rejects.toThrow("plugin id");
    } finally {
      await driver.close();
    }
  });

  it("refuses a namespace that could break the hash tag", () => {
    expect(() => createBullMqScheduleDriver({ connection: url, namespace: "a{b" })).toThrow("schedule namespace must be non-empty and free of '{' and '}'");
    expect(() => createBullMqScheduleDriver({ connection: url, namespace: "" })).toThrow("schedule namespace must be non-empty");
  });

  it("reports a firing's data it cannot read instead of guessing", async () => {
    const namespace = freshNamespace();
    const queue = queueOf(namespace);
    const errors: Error[] = [];
    const driver = createBullMqScheduleDriver({ connection: url, namespace, maxAttempts: 1, onError: (e) => errors.push(e) });
    try {
      await queue.add("once", { v: 99 });
      const fired: ScheduleFiring[] = [];
      await driver.start((f) => Promise.resolve(void fired.push(f)));
      const unreadable = /^schedule job \d+ holds data of schedule format 99, expected 1$/;
      await expect.poll(async () => (await queue.getFailed()).map((j) => j.failedReason)).toEqual([expect.stringMatching(unreadable)]);
      // Its failure cannot be read either: told to onError, not to onFailure.
      await expect.poll(() => errors.map((e) => e.message)).toEqual([expect.stringMatching(unreadable)]);
      await expect(driver.failures()).rejects.toThrow(unreadable);
      expect(fired).toEqual([]);
    } finally {
      await queue.close();
      await driver.close();
    }
  });
});
