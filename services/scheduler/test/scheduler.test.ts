// The scheduler role on the in-memory bus and schedule driver: a fake plugin answers the callback
// subject, as a worker would.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { createMemoryBus, encodeCallError, subjects, type Bus } from "@tonearm/bus";
import { CallError } from "@tonearm/abi";
import { createMemoryScheduleDriver, type ScheduleDriver, type ScheduleFailure } from "@tonearm/host";
import { api } from "@tonearm/proto";
import { createSchedulerService, type SchedulerService } from "@tonearm/scheduler";
import { afterEach, describe, expect, it } from "vitest";

const NS = "sched";
let bus: Bus;
let driver: ScheduleDriver;
let service: SchedulerService;
const failures: ScheduleFailure[] = [];

function setUp(capabilities: Record<string, string[]>, answer: (request: api.SchedulerCallbackRequest) => "ok" | "error" | "fail") {
  bus = createMemoryBus({ namespace: NS });
  driver = createMemoryScheduleDriver({ backoffMs: 20, maxAttempts: 3, onFailure: (f) => failures.push(f) });
  const received: api.SchedulerCallbackRequest[] = [];
  bus.subscribe(subjects(NS).call("p1", "SchedulerCallback", "OnSchedulerCallback"), { queue: "workers" }, (message) => {
    const request = fromBinary(api.SchedulerCallbackRequestSchema, message.data);
    received.push(request);
    const outcome = answer(request);
    if (outcome === "fail") {
      const wire = encodeCallError(new CallError("plugin_error", "wasm trap: unreachable"));
      bus.respond(message, wire.data, { headers: wire.headers });
      return;
    }
    const response = create(api.SchedulerCallbackResponseSchema, outcome === "error" ? { error: "not now" } : {});
    bus.respond(message, toBinary(api.SchedulerCallbackResponseSchema, response));
  });
  service = createSchedulerService({ bus, namespace: NS, driver, capabilities: (id) => capabilities[id], callTimeoutMs: 1_000 });
  return received;
}

afterEach(async () => {
  await service?.stop();
  await bus?.close();
  failures.length = 0;
});

const once = (pluginId: string, scheduleId: string, payload = "p") =>
  driver.upsert({ pluginId, scheduleId, kind: "once", delaySeconds: 0, runAt: Date.now(), payload: new TextEncoder().encode(payload), createdAt: Date.now() });

describe("scheduler service", () => {
  it("calls OnSchedulerCallback with the schedule id byte for byte, the payload and is_recurring", async () => {
    const received = setUp({ p1: ["SchedulerCallback"] }, () => "ok");
    await service.start();
    const id = "\u200bnamed\u200bschedule:ü";
    await once("p1", id, "payload-1");
    await expect.poll(() => received.length).toBe(1);
    expect(received[0]).toMatchObject({ scheduleId: id, isRecurring: false });
    expect(new TextDecoder().decode(received[0]!.payload)).toBe("payload-1");
    expect(await driver.list("p1")).toEqual([]);
  });

  it("drops schedules of plugins without SchedulerCallback, and of unknown plugins", async () => {
    const received = setUp({ p1: ["MetadataAgent"] }, () => "ok");
    await service.start();
    await once("p1", "a");
    await once("ghost", "b");
    await new Promise((r) => setTimeout(r, 100));
    expect(received).toEqual([]);
    expect(failures).toEqual([]);
  });

  it("retries a failing callback with backoff, then records the failure", async () => {
    const received = setUp({ p1: ["SchedulerCallback"] }, () => "fail");
    await service.start();
    await once("p1", "flaky");
    await expect.poll(() => failures.length, { timeout: 3_000 }).toBe(1);
    expect(received).toHaveLength(3);
    expect(failures[0]).toMatchObject({ pluginId: "p1", scheduleId: "flaky", attempts: 3 });
    expect(failures[0]!.error).toContain("wasm trap: unreachable");
  });

  it("treats an error in the callback response as a failure to retry", async () => {
    let calls = 0;
    const received = setUp({ p1: ["SchedulerCallback"] }, () => (++calls === 1 ? "error" : "ok"));
    await service.start();
    await once("p1", "second-time-lucky");
    await expect.poll(() => received.length).toBe(2);
    expect(failures).toEqual([]);
  });

  it("cancels the schedules of a removed plugin", async () => {
    setUp({ p1: ["SchedulerCallback"] }, () => "ok");
    await driver.upsert({ pluginId: "p1", scheduleId: "r", kind: "recurring", expression: "@every 1h", spec: { type: "every", everyMs: 3_600_000 }, payload: new Uint8Array(), createdAt: Date.now() });
    await service.pluginRemoved("p1");
    expect(await driver.list("p1")).toEqual([]);
  });
});
