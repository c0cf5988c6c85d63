// The scheduler host functions through their byte-level `env` contract (ABI.md §8 and the
// host_scheduler lines of §4.2), against the memory store.
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { schedulerHost } from "@tonearm/proto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { MainContext, MainFunctions } from "../src/host.js";
import { timeFunctions } from "../src/thread/time.js";
import {
  createMemoryScheduleStore,
  createSchedulerFunctions,
  newScheduleId,
  type ScheduleEntry,
  type ScheduleStore,
} from "../src/main/scheduler/index.js";

const NOW = Date.parse("2026-03-01T12:00:00Z");
const URL_SAFE_ID = /^[A-Za-z0-9_-]{10}$/;

function contextFor(pluginId: string): MainContext {
  return { pluginId, permissions: { scheduler: { reason: "tests" } }, config: {}, signal: new AbortController().signal };
}

async function invoke<I extends DescMessage, O extends DescMessage>(
  functions: MainFunctions,
  name: string,
  schemas: { input: I; output: O },
  request: MessageInitShape<I>,
  pluginId = "test_plugin",
): Promise<MessageShape<O>> {
  const fn = functions[name];
  if (!fn) throw new Error(`no env.${name}`);
  const answer = await fn(contextFor(pluginId), toBinary(schemas.input, create(schemas.input, request)));
  return fromBinary(schemas.output, answer);
}

function scheduler(store: ScheduleStore = createMemoryScheduleStore(), newId?: () => string) {
  const functions = createSchedulerFunctions(store, { now: () => NOW, ...(newId ? { newId } : {}) });
  return {
    store,
    functions,
    oneTime: (request: MessageInitShape<typeof schedulerHost.ScheduleOneTimeRequestSchema>, pluginId?: string) =>
      invoke(functions, "schedule_one_time", { input: schedulerHost.ScheduleOneTimeRequestSchema, output: schedulerHost.ScheduleResponseSchema }, request, pluginId),
    recurring: (request: MessageInitShape<typeof schedulerHost.ScheduleRecurringRequestSchema>, pluginId?: string) =>
      invoke(functions, "schedule_recurring", { input: schedulerHost.ScheduleRecurringRequestSchema, output: schedulerHost.ScheduleResponseSchema }, request, pluginId),
    cancel: (scheduleId: string, pluginId?: string) =>
      invoke(functions, "cancel_schedule", { input: schedulerHost.CancelRequestSchema, output: schedulerHost.CancelResponseSchema }, { scheduleId }, pluginId),
  };
}

const find = async (store: ScheduleStore, pluginId: string, scheduleId: string): Promise<ScheduleEntry | undefined> =>
  (await store.list(pluginId)).find((e) => e.scheduleId === scheduleId);

describe("schedule_one_time", () => {
  it("registers the plugin's id under that plugin, as a one-time schedule", async () => {
    const s = scheduler();
    const payload = new TextEncoder().encode("test-payload");
    expect(await s.oneTime({ scheduleId: "test-job", delaySeconds: 6, payload })).toMatchObject({ scheduleId: "test-job", error: "" });
    expect(await s.store.list()).toEqual([
      { kind: "once", pluginId: "test_plugin", scheduleId: "test-job", payload, createdAt: NOW, delaySeconds: 6, runAt: NOW + 6_000 },
    ]);
  });

  it("generates a 10-character URL-safe id when the plugin gives none", async () => {
    const s = scheduler();
    const { scheduleId } = await s.oneTime({ delaySeconds: 10 });
    expect(scheduleId).toMatch(URL_SAFE_ID);
    expect(await find(s.store, "test_plugin", scheduleId)).toMatchObject({ kind: "once" });
  });

  it("uses the injected id generator", async () => {
    const s = scheduler(createMemoryScheduleStore(), () => "fixed-id-1");
    expect((await s.oneTime({})).scheduleId).toBe("fixed-id-1");
  });

  it.each([0, -5])("a delay of %i s fires at once", async (delaySeconds) => {
    const s = scheduler();
    await s.oneTime({ scheduleId: "now", delaySeconds });
    expect(await find(s.store, "test_plugin", "now")).toMatchObject({ delaySeconds, runAt: NOW });
  });

  it("re-scheduling the same id replaces it (10 s → 60 s), count unchanged", async () => {
    const s = scheduler();
    await s.oneTime({ scheduleId: "test-job", delaySeconds: 10 });
    await s.oneTime({ scheduleId: "other", delaySeconds: 10 });
    await s.oneTime({ scheduleId: "test-job", delaySeconds: 60 });
    expect(await s.store.list()).toHaveLength(2);
    expect(await find(s.store, "test_plugin", "test-job")).toMatchObject({ delaySeconds: 60, runAt: NOW + 60_000 });
  });

  it("echoes a named-callback id (name, zero-width space, id) byte-exactly", async () => {
    const s = scheduler();
    const id = "close-activity\u200balice";
    expect((await s.oneTime({ scheduleId: id, delaySeconds: 1 })).scheduleId).toBe(id);
    expect(await find(s.store, "test_plugin", id)).toBeDefined();
  });

  it("keeps each plugin's schedules apart", async () => {
    const s = scheduler();
    await s.oneTime({ scheduleId: "job", delaySeconds: 1 }, "plugin_a");
    await s.oneTime({ scheduleId: "job", delaySeconds: 2 }, "plugin_b");
    expect(await s.store.list("plugin_a")).toMatchObject([{ pluginId: "plugin_a", delaySeconds: 1 }]);
    expect(await s.store.list("plugin_b")).toMatchObject([{ pluginId: "plugin_b", delaySeconds: 2 }]);
    expect(await s.cancel("job", "plugin_a")).toMatchObject({ success: true });
    expect(await s.store.list("plugin_b")).toHaveLength(1);
  });

  it("answers a store failure in the response's error", async () => {
    const failing: ScheduleStore = {
      upsert: () => Promise.reject(new Error("connection refused")),
      cancel: () => Promise.reject(new Error("connection refused")),
      list: () => Promise.resolve([]),
    };
    const s = scheduler(failing);
    expect(await s.oneTime({ scheduleId: "x" })).toMatchObject({ scheduleId: "", error: "failed to schedule one-time job: connection refused" });
    expect(await s.recurring({ cronExpression: "@daily" })).toMatchObject({ error: "failed to schedule recurring job: connection refused" });
    expect(await s.cancel("x")).toMatchObject({ success: false, error: "failed to cancel schedule: connection refused" });
  });
});

describe("schedule_recurring", () => {
  it("registers `* * * * *` with the plugin's id as a recurring schedule", async () => {
    const s = scheduler();
    const payload = new TextEncoder().encode("every minute");
    expect(await s.recurring({ scheduleId: "test-cron", cronExpression: "* * * * *", payload })).toMatchObject({ scheduleId: "test-cron", error: "" });
    expect(await s.store.list()).toEqual([
      {
        kind: "recurring",
        pluginId: "test_plugin",
        scheduleId: "test-cron",
        payload,
        createdAt: NOW,
        expression: "* * * * *",
        spec: { type: "cron", pattern: "* * * * *" },
      },
    ]);
  });

  it("generates an id when the plugin gives none (multi_plugin's `@every 5s` in OnInit)", async () => {
    const s = scheduler();
    const { scheduleId } = await s.recurring({ cronExpression: "@every 5s", payload: new TextEncoder().encode("every 5 seconds") });
    expect(scheduleId).toMatch(URL_SAFE_ID);
    expect(await find(s.store, "test_plugin", scheduleId)).toMatchObject({ spec: { type: "every", everyMs: 5_000 } });
  });

  it("re-scheduling the same id replaces it (`0 * * * *` → `*/5 * * * *`), count unchanged", async () => {
    const s = scheduler();
    await s.recurring({ scheduleId: "test-cron", cronExpression: "0 * * * *" });
    await s.oneTime({ scheduleId: "one-off", delaySeconds: 30 });
    await s.recurring({ scheduleId: "test-cron", cronExpression: "*/5 * * * *" });
    expect(await s.store.list()).toHaveLength(2);
    expect(await find(s.store, "test_plugin", "test-cron")).toMatchObject({
      expression: "*/5 * * * *",
      spec: { type: "cron", pattern: "0,5,10,15,20,25,30,35,40,45,50,55 * * * *" },
    });
  });

  it("a recurring schedule replaces a one-time one of the same id, and back", async () => {
    const s = scheduler();
    await s.oneTime({ scheduleId: "same", delaySeconds: 30 });
    await s.recurring({ scheduleId: "same", cronExpression: "@hourly" });
    expect(await s.store.list()).toMatchObject([{ kind: "recurring" }]);
    await s.oneTime({ scheduleId: "same", delaySeconds: 30 });
    expect(await s.store.list()).toMatchObject([{ kind: "once" }]);
  });

  it("keeps the zone of a TZ= prefix", async () => {
    const s = scheduler();
    await s.recurring({ scheduleId: "tz", cronExpression: "CRON_TZ=Asia/Tokyo 0 9 * * MON-FRI" });
    expect(await find(s.store, "test_plugin", "tz")).toMatchObject({ spec: { type: "cron", pattern: "0 9 * * 1-5", tz: "Asia/Tokyo" } });
  });

  it("refuses a 6-field cron (the crypto-ticker example) in the response, storing nothing", async () => {
    const s = scheduler();
    expect(await s.recurring({ scheduleId: "crypto-ticker-reconnect", cronExpression: "*/2 * * * * *" })).toMatchObject({
      scheduleId: "",
      error: "failed to schedule recurring job: expected exactly 5 fields, found 6: [*/2 * * * * *]",
    });
    expect(await s.store.list()).toEqual([]);
  });

  it("a refused expression leaves an existing schedule of that id in place", async () => {
    const s = scheduler();
    await s.recurring({ scheduleId: "keep", cronExpression: "@daily" });
    expect((await s.recurring({ scheduleId: "keep", cronExpression: "@every 0s" })).error).toBe(
      "failed to schedule recurring job: failed to parse duration @every 0s: duration must be greater than zero",
    );
    expect(await find(s.store, "test_plugin", "keep")).toMatchObject({ expression: "@daily" });
  });
});

describe("cancel_schedule", () => {
  it("cancels a one-time schedule: success, entry gone", async () => {
    const s = scheduler();
    await s.oneTime({ scheduleId: "test-job", delaySeconds: 60 });
    expect(await s.cancel("test-job")).toMatchObject({ success: true, error: "" });
    expect(await s.store.list()).toEqual([]);
  });

  it("cancels a recurring schedule: success, entry gone", async () => {
    const s = scheduler();
    const { scheduleId } = await s.recurring({ cronExpression: "* * * * *" });
    expect(await s.cancel(scheduleId)).toMatchObject({ success: true });
    expect(await s.store.list()).toEqual([]);
  });

  it("an unknown id → schedule not found", async () => {
    const s = scheduler();
    expect(await s.cancel("nope")).toMatchObject({ success: false, error: "schedule not found" });
  });

  it("cancelling twice → the second finds nothing", async () => {
    const s = scheduler();
    await s.oneTime({ scheduleId: "once", delaySeconds: 60 });
    await s.cancel("once");
    expect(await s.cancel("once")).toMatchObject({ success: false, error: "schedule not found" });
  });

  it("a plugin cannot cancel another plugin's schedule", async () => {
    const s = scheduler();
    await s.oneTime({ scheduleId: "mine", delaySeconds: 60 }, "plugin_a");
    expect(await s.cancel("mine", "plugin_b")).toMatchObject({ success: false, error: "schedule not found" });
    expect(await s.store.list("plugin_a")).toHaveLength(1);
  });
});

describe("the function set", () => {
  it("holds the scheduler imports except time_now, which runtime threads answer", () => {
    expect(Object.keys(createSchedulerFunctions(createMemoryScheduleStore())).sort()).toEqual([
      "cancel_schedule",
      "schedule_one_time",
      "schedule_recurring",
    ]);
  });
});

describe("time_now (answered inside runtime threads, not by these functions)", () => {
  it("unix_milli ≥ now, the RFC 3339 text carries the same instant, the zone is the host's", () => {
    const before = Date.now();
    const answer = fromBinary(
      schedulerHost.TimeNowResponseSchema,
      timeFunctions.time_now({ pluginId: "test_plugin", config: {} }, new Uint8Array()),
    );
    expect(Number(answer.unixMilli)).toBeGreaterThanOrEqual(before);
    expect(answer.rfc3339Nano).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?(Z|[+-]\d\d:\d\d)$/);
    expect(Date.parse(answer.rfc3339Nano)).toBe(Number(answer.unixMilli));
    expect(answer.localTimeZone).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
  });
});

describe("generated ids", () => {
  it("are 10 URL-safe characters and do not repeat", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2_000 }), (count) => {
        const ids = Array.from({ length: count }, newScheduleId);
        expect(ids.every((id) => URL_SAFE_ID.test(id))).toBe(true);
        expect(new Set(ids).size).toBe(count);
      }),
      { numRuns: 50 },
    );
  });

  it("use the whole alphabet", () => {
    const seen = new Set(Array.from({ length: 2_000 }, newScheduleId).join(""));
    expect(seen.size).toBe(64);
  });

  it("any id a plugin gives is kept as given", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "grapheme", minLength: 1 }), async (scheduleId) => {
        const s = scheduler();
        expect((await s.oneTime({ scheduleId, delaySeconds: 1 })).scheduleId).toBe(scheduleId);
        expect((await s.store.list())[0]?.scheduleId).toBe(scheduleId);
      }),
      { numRuns: 200 },
    );
  });
});

describe("the memory store", () => {
  it("hands out copies: changing a listed payload changes nothing stored", async () => {
    const store = createMemoryScheduleStore();
    const payload = new Uint8Array([1, 2, 3]);
    await store.upsert({ kind: "once", pluginId: "p", scheduleId: "s", payload, createdAt: NOW, delaySeconds: 1, runAt: NOW + 1_000 });
    payload[0] = 9;
    const [listed] = await store.list();
    listed?.payload.set([7], 0);
    expect((await store.list())[0]?.payload).toEqual(new Uint8Array([1, 2, 3]));
  });

  it("lists one plugin or all", async () => {
    const store = createMemoryScheduleStore();
    const entry = (pluginId: string, scheduleId: string): ScheduleEntry => ({
      kind: "recurring",
      pluginId,
      scheduleId,
      payload: new Uint8Array(),
      createdAt: NOW,
      expression: "@hourly",
      spec: { type: "cron", pattern: "0 * * * *" },
    });
    await store.upsert(entry("a", "1"));
    await store.upsert(entry("b", "1"));
    await store.upsert(entry("a", "2"));
    expect((await store.list("a")).map((e) => e.scheduleId)).toEqual(["1", "2"]);
    expect(await store.list()).toHaveLength(3);
    expect(await store.list("c")).toEqual([]);
    expect(await store.cancel("c", "1")).toBe(false);
  });
});
