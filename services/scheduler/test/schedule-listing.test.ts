// Listing the schedules plugins made, as the status page asks for them: through a running scheduler
// service, from the in-memory driver and from BullMQ on the real Redis.
import { CallError } from "@tonearm/abi";
import { connectNatsBus, createMemoryBus, subjects, type Bus } from "@tonearm/bus";
import { createBullMqScheduleDriver, createMemoryScheduleDriver, type ScheduleDriver, type ScheduleEntry } from "@tonearm/host";
import { ScheduleKind, createSchedulerService, listSchedules, type SchedulerService } from "@tonearm/scheduler";
import { natsUrl, redisUrl, testNamespace } from "@tonearm/test-harness";
import { afterEach, describe, expect, it } from "vitest";

const HOUR = 3_600_000;
const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups.length = 0;
});

async function running(bus: Bus, driver: ScheduleDriver): Promise<SchedulerService> {
  const service = createSchedulerService({ bus, namespace: bus.namespace, driver, capabilities: () => ["SchedulerCallback"] });
  await service.start();
  cleanups.push(() => service.stop());
  return service;
}

/** One schedule of each kind, none due while the test runs. */
function entries(createdAt: number): ScheduleEntry[] {
  const payload = new Uint8Array();
  return [
    { pluginId: "b_plugin", scheduleId: "later", kind: "once", delaySeconds: 7_200, runAt: createdAt + 2 * HOUR, payload, createdAt },
    { pluginId: "a_plugin", scheduleId: "tick", kind: "recurring", expression: "@every 1h", spec: { type: "every", everyMs: HOUR }, payload, createdAt },
    {
      pluginId: "a_plugin",
      scheduleId: "nightly",
      kind: "recurring",
      expression: "CRON_TZ=UTC 30 3 * * *",
      spec: { type: "cron", pattern: "30 3 * * *", tz: "UTC" },
      payload,
      createdAt,
    },
  ];
}

function nextUtc0330(after: number): number {
  const day = new Date(after);
  const candidate = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), 3, 30);
  return candidate > after ? candidate : candidate + 24 * HOUR;
}

async function expectListing(bus: Bus, createdAt: number): Promise<void> {
  const listed = await listSchedules(bus, bus.namespace);
  expect(listed.map((s) => [s.plugin, s.scheduleId, s.kind, s.expression])).toEqual([
    ["a_plugin", "nightly", ScheduleKind.CRON, "CRON_TZ=UTC 30 3 * * *"],
    ["a_plugin", "tick", ScheduleKind.EVERY, "@every 1h"],
    ["b_plugin", "later", ScheduleKind.ONCE, ""],
  ]);
  const [nightly, tick, later] = listed;
  expect(Number(nightly!.nextFireMs)).toBe(nextUtc0330(Date.now()));
  expect(Number(tick!.nextFireMs)).toBe(createdAt + HOUR);
  expect(Number(later!.nextFireMs)).toBe(createdAt + 2 * HOUR);
  expect(Number(later!.createdAtMs)).toBe(createdAt);

  const onlyB = await listSchedules(bus, bus.namespace, { plugin: "b_plugin" });
  expect(onlyB.map((s) => s.scheduleId)).toEqual(["later"]);
}

describe("schedule listing", () => {
  it("lists every kind with its next firing, sorted, from the in-memory driver", async () => {
    const bus = createMemoryBus({ namespace: "list", logger: quiet });
    cleanups.push(() => bus.close());
    const driver = createMemoryScheduleDriver();
    const createdAt = Date.now();
    for (const entry of entries(createdAt)) await driver.upsert(entry);
    await running(bus, driver);
    await expectListing(bus, createdAt);
  });

  it("counts an @every interval from the schedule's creation, past firings skipped", async () => {
    const bus = createMemoryBus({ namespace: "list", logger: quiet });
    cleanups.push(() => bus.close());
    const driver = createMemoryScheduleDriver();
    const createdAt = Date.now() - 2.5 * HOUR;
    await driver.upsert({ pluginId: "p", scheduleId: "s", kind: "recurring", expression: "@every 1h", spec: { type: "every", everyMs: HOUR }, payload: new Uint8Array(), createdAt });
    await running(bus, driver);
    const [listed] = await listSchedules(bus, bus.namespace);
    expect(Number(listed!.nextFireMs)).toBe(createdAt + 3 * HOUR);
  });

  it("says no scheduler is running when none answers, and refuses a request it cannot read", async () => {
    const bus = createMemoryBus({ namespace: "list", logger: quiet });
    cleanups.push(() => bus.close());
    const missing = await listSchedules(bus, bus.namespace).catch((err: unknown) => err);
    expect(missing).toBeInstanceOf(CallError);
    expect(missing).toMatchObject({ code: "unavailable", message: "no scheduler is running" });

    await running(bus, createMemoryScheduleDriver());
    const reply = await bus.request(subjects(bus.namespace).schedulerList, Uint8Array.of(0xff, 0xff), { timeoutMs: 1_000 });
    expect(reply.headers["Tonearm-Error-Code"]).toBe("bad_request");
  });

  it("lists what BullMQ keeps in Redis, answered by one of two schedulers on NATS", async () => {
    const namespace = testNamespace("sl");
    const createdAt = Date.now();
    const seed = createBullMqScheduleDriver({ connection: await redisUrl(), namespace });
    for (const entry of entries(createdAt)) await seed.upsert(entry);
    await seed.close();
    // Runs last: nothing stays behind in the shared Redis.
    cleanups.push(async () => {
      const cleaner = createBullMqScheduleDriver({ connection: await redisUrl(), namespace });
      await cleaner.cancelPlugin("a_plugin");
      await cleaner.cancelPlugin("b_plugin");
      await cleaner.close();
    });
    for (let i = 0; i < 2; i++) {
      const bus = await connectNatsBus({ servers: [await natsUrl()], namespace, logger: quiet });
      cleanups.push(() => bus.close());
      await running(bus, createBullMqScheduleDriver({ connection: await redisUrl(), namespace }));
    }
    const caller = await connectNatsBus({ servers: [await natsUrl()], namespace, logger: quiet });
    cleanups.push(() => caller.close());
    await expectListing(caller, createdAt);
  });
});
