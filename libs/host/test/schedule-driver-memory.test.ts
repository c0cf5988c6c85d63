import { afterEach, describe, expect, it, vi } from "vitest";
import { createMemoryScheduleDriver, parseCronSpec, type ScheduleDriver, type ScheduleEntry } from "../src/main/scheduler/index.js";
import { cron, every, FiringLog, oneTime, scheduleDriverContract } from "./schedule-driver-contract.js";

scheduleDriverContract("memory", { create: (options) => Promise.resolve(createMemoryScheduleDriver(options)) });

describe("memory schedule driver", () => {
  const open: ScheduleDriver[] = [];
  const startedDriver = async (): Promise<{ driver: ScheduleDriver; log: FiringLog }> => {
    const driver = createMemoryScheduleDriver();
    open.push(driver);
    const log = new FiringLog();
    await driver.start(log.fire);
    return { driver, log };
  };

  afterEach(async () => {
    await Promise.all(open.splice(0).map((d) => d.close()));
    vi.useRealTimers();
  });

  it("fires a five-field cron pattern at its minute in the zone of its TZ= prefix, and on each match after", async () => {
    vi.useFakeTimers({ now: Date.parse("2026-03-02T22:58:30Z") });
    const { driver, log } = await startedDriver();
    const expression = "CRON_TZ=Asia/Kolkata 30 4 * * *";
    const entry: ScheduleEntry = {
      kind: "recurring",
      pluginId: "p",
      scheduleId: "zoned",
      payload: new Uint8Array([7]),
      createdAt: Date.now(),
      expression,
      spec: parseCronSpec(expression),
    };
    await driver.upsert(entry);
    await vi.advanceTimersByTimeAsync(89_999);
    expect(log.firings).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await vi.advanceTimersByTimeAsync(24 * 60 * 60 * 1000);
    expect(log.firings.map((f) => new Date(f.firedAt).toISOString())).toEqual(["2026-03-02T23:00:00.000Z", "2026-03-03T23:00:00.000Z"]);
  });

  it("waits past setTimeout's longest delay for a far one-time schedule", async () => {
    vi.useFakeTimers({ now: Date.parse("2026-03-01T00:00:00Z") });
    const { driver, log } = await startedDriver();
    const runAt = Date.now() + 40 * 24 * 60 * 60 * 1000;
    await driver.upsert(oneTime("p", "far", runAt));
    await vi.advanceTimersByTimeAsync(runAt - Date.now() - 1);
    expect(log.firings).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(log.firings).toMatchObject([{ scheduleId: "far", firedAt: runAt }]);
  });

  it("fires an overdue `@every` once after a stall, then keeps to its interval", async () => {
    vi.useFakeTimers({ now: Date.parse("2026-03-01T00:00:00Z") });
    const { driver, log } = await startedDriver();
    const createdAt = Date.now();
    await driver.upsert(every("p", "tick", 1_000, new Uint8Array(), createdAt));
    vi.setSystemTime(createdAt + 5_500); // the wall clock jumps; the timer has not run yet
    await vi.advanceTimersByTimeAsync(1_000);
    await vi.advanceTimersByTimeAsync(500);
    expect(log.firings.map((f) => f.firedAt - createdAt)).toEqual([1_000, 7_000]);
  });

  it("stops every timer on close, retries included, and keeps none of croner's own", async () => {
    vi.useFakeTimers();
    const driver = createMemoryScheduleDriver({ backoffMs: 1_000 });
    await driver.start(() => Promise.reject(new Error("down")));
    await driver.upsert(oneTime("p", "now", Date.now()));
    await driver.upsert(oneTime("p", "later", Date.now() + 60_000));
    await driver.upsert(every("p", "tick", 60_000));
    await driver.upsert(cron("p", "hourly", "0 * * * *"));
    await vi.advanceTimersByTimeAsync(0); // "now" fails its first attempt and waits for a retry
    expect(vi.getTimerCount()).toBe(4);
    await driver.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("refuses options it cannot work with", () => {
    expect(() => createMemoryScheduleDriver({ maxAttempts: 0 })).toThrow("schedule maxAttempts must be a whole number of at least 1, got 0");
    expect(() => createMemoryScheduleDriver({ backoffMs: -1 })).toThrow("schedule backoffMs must be a finite number of at least 0, got -1");
    expect(() => createMemoryScheduleDriver({ maxFailures: 1.5 })).toThrow("schedule maxFailures must be a whole number of at least 0, got 1.5");
  });
});
