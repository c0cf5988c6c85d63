/**
 * The behaviour every `ScheduleDriver` must have (ABI.md §8, driver.ts), run against each driver by
 * its own test file. Time is real: schedules are set a few hundred milliseconds ahead, and "did not
 * fire" is checked against a later sentinel schedule having fired, not against a sleep.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { ScheduleDriver, ScheduleDriverOptions, ScheduleEntry, ScheduleFailure, ScheduleFiring } from "../src/main/scheduler/index.js";

export interface ScheduleDriverFactory {
  /** A driver sharing schedules with no other; the suite closes it after the test. */
  create(options?: ScheduleDriverOptions): Promise<ScheduleDriver>;
}

/** Every firing a driver delivered, with the wall time it arrived, and waits on them. */
export class FiringLog {
  readonly firings: (ScheduleFiring & { readonly arrivedAt: number })[] = [];
  readonly #waiters = new Set<() => void>();

  constructor(private readonly behaviour: (firing: ScheduleFiring) => Promise<void> = () => Promise.resolve()) {}

  readonly fire = async (firing: ScheduleFiring): Promise<void> => {
    this.firings.push({ ...firing, arrivedAt: Date.now() });
    for (const wake of this.#waiters) wake();
    await this.behaviour(firing);
  };

  of(scheduleId: string): ScheduleFiring[] {
    return this.firings.filter((f) => f.scheduleId === scheduleId);
  }

  /** Resolves once `scheduleId` has fired `count` times (attempts included). */
  until(scheduleId: string, count = 1, timeoutMs = 6_000): Promise<ScheduleFiring[]> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const seen = this.of(scheduleId);
        if (seen.length < count) return;
        cleanup();
        resolve(seen);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${scheduleId} fired ${this.of(scheduleId).length} times in ${timeoutMs} ms, expected ${count}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);

export function oneTime(pluginId: string, scheduleId: string, runAt: number, payload = bytes(scheduleId)): ScheduleEntry {
  const createdAt = Date.now();
  return { kind: "once", pluginId, scheduleId, payload, createdAt, delaySeconds: Math.max(0, Math.round((runAt - createdAt) / 1000)), runAt };
}

export function every(pluginId: string, scheduleId: string, everyMs: number, payload = bytes(scheduleId), createdAt = Date.now()): ScheduleEntry {
  return { kind: "recurring", pluginId, scheduleId, payload, createdAt, expression: `@every ${everyMs}ms`, spec: { type: "every", everyMs } };
}

export function cron(pluginId: string, scheduleId: string, pattern: string, tz?: string): ScheduleEntry {
  return {
    kind: "recurring",
    pluginId,
    scheduleId,
    payload: bytes(scheduleId),
    createdAt: Date.now(),
    expression: pattern,
    spec: tz === undefined ? { type: "cron", pattern } : { type: "cron", pattern, tz },
  };
}

const byId = (a: ScheduleEntry, b: ScheduleEntry): number =>
  a.pluginId === b.pluginId ? (a.scheduleId < b.scheduleId ? -1 : 1) : a.pluginId < b.pluginId ? -1 : 1;

export function scheduleDriverContract(driverName: string, factory: ScheduleDriverFactory): void {
  describe(`ScheduleDriver contract: ${driverName}`, () => {
    const open: ScheduleDriver[] = [];
    const create = async (options?: ScheduleDriverOptions): Promise<ScheduleDriver> => {
      const driver = await factory.create(options);
      open.push(driver);
      return driver;
    };
    /** A started driver and the log of what it fired. */
    const started = async (options?: ScheduleDriverOptions, behaviour?: (firing: ScheduleFiring) => Promise<void>) => {
      const driver = await create(options);
      const log = new FiringLog(behaviour);
      await driver.start(log.fire);
      return { driver, log };
    };
    /** Schedules a one-time sentinel `afterMs` ahead and waits for it: everything due before it has fired by then. */
    const passes = async (driver: ScheduleDriver, log: FiringLog, afterMs: number): Promise<void> => {
      await driver.upsert(oneTime("sentinel", "sentinel", Date.now() + afterMs));
      await log.until("sentinel");
    };

    afterEach(async () => {
      await Promise.all(open.splice(0).map((d) => d.close()));
    });

    // The slow ones wait on whole seconds; they run side by side, each closing its own driver.
    describe.concurrent("recurring firings", () => {
      const withStarted = async (
        options: ScheduleDriverOptions,
        behaviour: ((firing: ScheduleFiring) => Promise<void>) | undefined,
        body: (driver: ScheduleDriver, log: FiringLog) => Promise<void>,
      ): Promise<void> => {
        const driver = await factory.create(options);
        try {
          const log = new FiringLog(behaviour);
          await driver.start(log.fire);
          await body(driver, log);
        } finally {
          await driver.close();
        }
      };

      it("fires `@every` repeatedly, counting intervals from the schedule's creation, as recurring", async ({ expect }) => {
        await withStarted({}, undefined, async (driver, log) => {
          const createdAt = Date.now();
          await driver.upsert(every("p", "tick", 1_000, ALL_BYTES, createdAt));
          const firings = await log.until("tick", 2);
          expect(firings.slice(0, 2)).toEqual([
            { pluginId: "p", scheduleId: "tick", payload: ALL_BYTES, isRecurring: true, firedAt: createdAt + 1_000, attempt: 1, arrivedAt: expect.any(Number) },
            { pluginId: "p", scheduleId: "tick", payload: ALL_BYTES, isRecurring: true, firedAt: createdAt + 2_000, attempt: 1, arrivedAt: expect.any(Number) },
          ]);
          expect(await driver.list("p")).toMatchObject([{ kind: "recurring", scheduleId: "tick" }]);
        });
      });

      it("fires a cron pattern at the times its fields match", async ({ expect }) => {
        // A five-field pattern's finest grain is a minute; the seconds field that croner and
        // cron-parser both accept keeps this short (five-field patterns and zones: per driver).
        await withStarted({}, undefined, async (driver, log) => {
          const first = Math.ceil((Date.now() + 1_000) / 1_000) * 1_000;
          const second = (ms: number): number => (ms / 1_000) % 60;
          await driver.upsert(cron("p", "on-the-seconds", `${second(first)},${second(first + 1_000)} * * * * *`));
          const firings = await log.until("on-the-seconds", 2);
          expect(firings.map((f) => [f.firedAt, f.isRecurring])).toEqual([
            [first, true],
            [first + 1_000, true],
          ]);
        });
      });

      it("retries a failing recurring firing under its own due time, and goes on firing", async ({ expect }) => {
        const flaky = (firing: ScheduleFiring): Promise<void> => (firing.attempt === 1 ? Promise.reject(new Error("not yet")) : Promise.resolve());
        await withStarted({ maxAttempts: 2, backoffMs: 100 }, flaky, async (driver, log) => {
          const createdAt = Date.now();
          await driver.upsert(every("p", "tick", 500, bytes("tick"), createdAt));
          const firings = await log.until("tick", 3);
          expect(firings.slice(0, 3).map((f) => [f.firedAt - createdAt, f.attempt, f.isRecurring])).toEqual([
            [500, 1, true],
            [500, 2, true],
            [1_000, 1, true],
          ]);
          expect(await driver.failures()).toEqual([]);
        });
      });
    });

    it("fires a one-time schedule once, after it has left the list and can no longer be cancelled", async () => {
      const seenFromCallback: { listed: ScheduleEntry[]; cancelled: boolean }[] = [];
      const { driver, log } = await started({}, async (firing) => {
        if (firing.scheduleId !== "once") return;
        seenFromCallback.push({ listed: await driver.list("p"), cancelled: await driver.cancel("p", "once") });
      });
      const runAt = Date.now() + 200;
      const entry = oneTime("p", "once", runAt, ALL_BYTES);
      await driver.upsert(entry);
      expect(await driver.list("p")).toEqual([entry]);
      await passes(driver, log, 450);
      expect(log.of("once")).toEqual([{ pluginId: "p", scheduleId: "once", payload: ALL_BYTES, isRecurring: false, firedAt: runAt, attempt: 1, arrivedAt: expect.any(Number) }]);
      expect(seenFromCallback).toEqual([{ listed: [], cancelled: false }]);
      expect(await driver.list("p")).toEqual([]);
    });

    it("lets a one-time callback schedule its own id again", async () => {
      const { driver, log } = await started({}, async (firing) => {
        if (firing.scheduleId === "again" && firing.payload[0] === 1) {
          await driver.upsert(oneTime("p", "again", Date.now() + 100, new Uint8Array([2])));
        }
      });
      await driver.upsert(oneTime("p", "again", Date.now() + 100, new Uint8Array([1])));
      const firings = await log.until("again", 2);
      expect(firings.map((f) => [...f.payload])).toEqual([[1], [2]]);
      expect(await driver.list("p")).toEqual([]);
    });

    it("fires a schedule stored before start once the driver starts", async () => {
      const driver = await create();
      await driver.upsert(oneTime("p", "early", Date.now() - 1_000));
      const log = new FiringLog();
      await driver.start(log.fire);
      expect(await log.until("early")).toMatchObject([{ isRecurring: false, attempt: 1 }]);
    });

    it("never fires a schedule cancelled while it was due and waiting for the driver to start", async () => {
      const driver = await create();
      const past = Date.now() - 1_000;
      await driver.upsert(oneTime("p", "once", past));
      await driver.upsert(every("p", "tick", 100, bytes("tick"), past));
      expect(await driver.cancel("p", "once")).toBe(true);
      expect(await driver.cancel("p", "tick")).toBe(true);
      const log = new FiringLog();
      await driver.start(log.fire);
      await passes(driver, log, 300);
      expect(log.firings.filter((f) => f.pluginId === "p")).toEqual([]);
    });

    it("keeps ids and payloads exactly, and each plugin's schedules apart", async () => {
      const driver = await create();
      const runAt = Date.now() + 60_000;
      const entries: ScheduleEntry[] = [
        oneTime("p", "close-activity\u200balice", runAt, ALL_BYTES),
        oneTime("p", "日本語 🎵 \u0000 end", runAt, new Uint8Array()),
        oneTime("p", "a:b:c", runAt),
        oneTime("p:a", "b", runAt),
        oneTime("p", "a:b", runAt),
        oneTime("plügin.{x}", "  ", runAt),
        every("p", "every\u200bsecond", 1_000, ALL_BYTES),
        cron("p", "zoned", "30 4 * * *", "Asia/Kolkata"),
        cron("q", "zoned", "0 * * * *"),
      ];
      for (const entry of entries) await driver.upsert(entry);
      expect((await driver.list()).sort(byId)).toEqual([...entries].sort(byId));
      expect((await driver.list("q")).map((e) => e.scheduleId)).toEqual(["zoned"]);
      expect(await driver.list("nobody")).toEqual([]);
    });

    it("delivers a unicode id and every byte value unchanged", async () => {
      const { driver, log } = await started();
      const id = "heartbeat\u200b🎵 user:1";
      await driver.upsert(oneTime("plügin:x", id, Date.now(), ALL_BYTES));
      expect(await log.until(id)).toMatchObject([{ pluginId: "plügin:x", scheduleId: id, payload: ALL_BYTES }]);
    });

    it("replaces a schedule of the same id, whatever the kinds, and fires only the latest", async () => {
      const { driver, log } = await started();
      const later = Date.now() + 60_000;
      await driver.upsert(oneTime("p", "job", later));
      await driver.upsert(oneTime("p", "other", later));
      await driver.upsert(oneTime("p", "job", later + 60_000));
      expect(await driver.list("p")).toHaveLength(2);
      expect((await driver.list("p")).find((e) => e.scheduleId === "job")).toMatchObject({ kind: "once", runAt: later + 60_000 });
      await driver.upsert(cron("p", "job", "0 * * * *"));
      await driver.upsert(cron("p", "job", "0,5,10,15,20,25,30,35,40,45,50,55 * * * *"));
      expect(await driver.list("p")).toHaveLength(2);
      expect((await driver.list("p")).find((e) => e.scheduleId === "job")).toMatchObject({
        kind: "recurring",
        spec: { type: "cron", pattern: "0,5,10,15,20,25,30,35,40,45,50,55 * * * *" },
      });

      const soon = Date.now() + 200;
      await driver.upsert(oneTime("p", "swapped", soon, bytes("old")));
      await driver.upsert(oneTime("p", "swapped", soon, bytes("new")));
      await driver.upsert(every("p", "was-recurring", 150));
      await driver.upsert(oneTime("p", "was-recurring", later));
      await passes(driver, log, 500);
      expect(log.of("swapped").map((f) => new TextDecoder().decode(f.payload))).toEqual(["new"]);
      expect(log.of("was-recurring")).toEqual([]);
    });

    it("refuses a pattern it cannot run, leaving the schedule it would have replaced", async () => {
      const driver = await create();
      const kept = cron("p", "kept", "0 * * * *");
      await driver.upsert(kept);
      await expect(driver.upsert(cron("p", "kept", "61 * * * *"))).rejects.toThrow();
      expect(await driver.list("p")).toEqual([kept]);
    });

    it("cancels a schedule of either kind; an unknown or already cancelled id gives false", async () => {
      const { driver, log } = await started();
      await driver.upsert(oneTime("p", "once", Date.now() + 300));
      await driver.upsert(every("p", "tick", 200));
      expect(await driver.cancel("q", "once")).toBe(false);
      expect(await driver.cancel("p", "once")).toBe(true);
      expect(await driver.cancel("p", "tick")).toBe(true);
      expect(await driver.cancel("p", "once")).toBe(false);
      expect(await driver.cancel("p", "never-made")).toBe(false);
      expect(await driver.list("p")).toEqual([]);
      await passes(driver, log, 500);
      expect(log.of("once")).toEqual([]);
      expect(log.of("tick")).toEqual([]);
    });

    it("cancels every schedule of a removed plugin, and no other plugin's", async () => {
      const { driver, log } = await started();
      const later = Date.now() + 60_000;
      await driver.upsert(oneTime("gone", "a", later));
      await driver.upsert(oneTime("gone", "soon", Date.now() + 300));
      await driver.upsert(every("gone", "tick", 200));
      await driver.upsert(oneTime("stays", "a", later));
      expect(await driver.cancelPlugin("gone")).toBe(3);
      expect(await driver.list("gone")).toEqual([]);
      expect(await driver.list()).toMatchObject([{ pluginId: "stays", scheduleId: "a" }]);
      expect(await driver.cancelPlugin("gone")).toBe(0);
      await passes(driver, log, 500);
      expect(log.firings.filter((f) => f.pluginId === "gone")).toEqual([]);
    });

    it("retries a failing callback with doubling waits, then records and reports the failure", async () => {
      const reported: ScheduleFailure[] = [];
      const { driver, log } = await started({ maxAttempts: 3, backoffMs: 150, onFailure: (f) => reported.push(f) }, (firing) =>
        firing.scheduleId === "failing" ? Promise.reject(new Error("plugin said no")) : Promise.resolve(),
      );
      const runAt = Date.now();
      await driver.upsert(oneTime("p", "failing", runAt));
      await log.until("failing", 1);
      // Fired is fired: a retry is not a schedule to list or cancel.
      expect(await driver.list("p")).toEqual([]);
      expect(await driver.cancel("p", "failing")).toBe(false);
      const attempts = await log.until("failing", 3);
      expect(attempts.map((f) => [f.attempt, f.firedAt, f.isRecurring])).toEqual([
        [1, runAt, false],
        [2, runAt, false],
        [3, runAt, false],
      ]);
      const arrived = log.firings.filter((f) => f.scheduleId === "failing").map((f) => f.arrivedAt);
      // Lower bounds only (timers never fire early by more than a clock tick); upper ones depend on load.
      expect((arrived[1] ?? 0) - (arrived[0] ?? 0)).toBeGreaterThanOrEqual(150 - 2);
      expect((arrived[2] ?? 0) - (arrived[1] ?? 0)).toBeGreaterThanOrEqual(300 - 2);

      await passes(driver, log, 300);
      await expect.poll(() => reported.length).toBe(1);
      const expected = { pluginId: "p", scheduleId: "failing", isRecurring: false, firedAt: runAt, attempts: 3, error: "plugin said no", failedAt: expect.any(Number) };
      expect(reported).toEqual([expected]);
      expect(await driver.failures("p")).toEqual([expected]);
      expect(await driver.failures()).toEqual([expected]);
      expect(await driver.failures("other")).toEqual([]);
      expect(log.of("failing")).toHaveLength(3);
    });

    it("records nothing when a retry succeeds", async () => {
      const reported: ScheduleFailure[] = [];
      const { driver, log } = await started({ maxAttempts: 3, backoffMs: 50, onFailure: (f) => reported.push(f) }, (firing) =>
        firing.attempt === 1 ? Promise.reject(new Error("once only")) : Promise.resolve(),
      );
      await driver.upsert(oneTime("p", "flaky", Date.now()));
      expect((await log.until("flaky", 2)).map((f) => f.attempt)).toEqual([1, 2]);
      await passes(driver, log, 300);
      expect(log.of("flaky")).toHaveLength(2);
      expect(reported).toEqual([]);
      expect(await driver.failures()).toEqual([]);
    });

    it("keeps only the latest maxFailures failures", async () => {
      const { driver, log } = await started({ maxAttempts: 1, maxFailures: 2 }, (firing) =>
        firing.pluginId === "p" ? Promise.reject(new Error(`no ${firing.scheduleId}`)) : Promise.resolve(),
      );
      const now = Date.now();
      for (const [i, id] of ["a", "b", "c"].entries()) await driver.upsert(oneTime("p", id, now + i * 150));
      await log.until("c");
      await expect.poll(async () => (await driver.failures("p")).map((f) => [f.scheduleId, f.attempts, f.error])).toEqual([
        ["b", 1, "no b"],
        ["c", 1, "no c"],
      ]);
    });

    it("refuses a second start, and everything after close; close waits for callbacks under way", async () => {
      let release = (): void => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      const { driver, log } = await started({}, () => held);
      await expect(driver.start(log.fire)).rejects.toThrow("schedule driver is already started");
      await driver.upsert(oneTime("p", "slow", Date.now()));
      await log.until("slow");
      let closed = false;
      const closing = driver.close().then(() => (closed = true));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(closed).toBe(false);
      release();
      await closing;
      await driver.close();
      await expect(driver.upsert(oneTime("p", "x", Date.now()))).rejects.toThrow("schedule driver is closed");
      await expect(driver.list()).rejects.toThrow("schedule driver is closed");
      await expect(driver.start(log.fire)).rejects.toThrow("schedule driver is closed");
    });
  });
}
