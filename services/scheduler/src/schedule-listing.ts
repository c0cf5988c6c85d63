/**
 * Lists the schedules plugins made, for the status page and operators, from the scheduler's store
 * (BullMQ in a cluster, so any scheduler sees every schedule; timers when embedded).
 *
 *   Subject  tonearm.<ns>.scheduler.list (request-reply, queue group `schedulers`)
 *   Request  tonearm.bus.v1.ListSchedulesRequest (protobuf); an empty `plugin` lists every plugin's
 *   Reply    tonearm.bus.v1.ListSchedulesResponse, sorted by plugin then schedule id; when the store
 *            cannot be read, a call-protocol error (`unavailable`); an undecodable request,
 *            `bad_request`
 *
 * The next firing is computed from the schedule as both drivers run it: a one-time schedule at its
 * `runAt`, `@every` intervals counted from when the schedule was accepted, cron patterns in their
 * zone (or the scheduler's local one).
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { CallError, CallErrorCode } from "@tonearm/abi";
import { BusError, decodeCallReply, encodeCallError, subjects, type Bus, type Subscription } from "@tonearm/bus";
import type { ScheduleEntry, ScheduleStore } from "@tonearm/host";
import { bus as busProto } from "@tonearm/proto";
import type { Logger } from "@tonearm/telemetry";
import { Cron } from "croner";

/** Queue group of the schedulers' listing subscription: one of them answers. */
export const SCHEDULER_QUEUE = "schedulers";

export type ScheduleInfo = busProto.ScheduleInfo;
export const ScheduleKind = busProto.ScheduleInfo_Kind;

/** Answers listing requests from `store` until the subscription is ended. */
export function serveScheduleListing(bus: Bus, namespace: string, store: ScheduleStore, logger?: Logger): Subscription {
  return bus.subscribe(subjects(namespace).schedulerList, { queue: SCHEDULER_QUEUE }, async (message) => {
    let plugin: string;
    try {
      plugin = fromBinary(busProto.ListSchedulesRequestSchema, message.data).plugin;
    } catch (err) {
      const wire = encodeCallError(new CallError(CallErrorCode.BadRequest, `a schedule listing request must be a ListSchedulesRequest: ${describe(err)}`));
      bus.respond(message, wire.data, { headers: wire.headers });
      return;
    }
    try {
      const entries = await store.list(plugin === "" ? undefined : plugin);
      const now = Date.now();
      const schedules = entries.map((entry) => describeSchedule(entry, now)).sort(byPluginThenId);
      bus.respond(message, toBinary(busProto.ListSchedulesResponseSchema, create(busProto.ListSchedulesResponseSchema, { schedules })));
    } catch (err) {
      logger?.warn({ err: describe(err) }, "listing schedules failed");
      const wire = encodeCallError(new CallError(CallErrorCode.Unavailable, `the schedules cannot be read: ${describe(err)}`));
      bus.respond(message, wire.data, { headers: wire.headers });
    }
  });
}

export interface ListSchedulesOptions {
  /** Only this plugin's schedules. */
  readonly plugin?: string;
  /** @default 2000 */
  readonly timeoutMs?: number;
}

/**
 * Asks any scheduler for the schedules. Fails with `CallError` `unavailable` when no scheduler
 * runs or the store cannot be read, `timeout` when none answers in time.
 */
export async function listSchedules(bus: Bus, namespace: string, options: ListSchedulesOptions = {}): Promise<ScheduleInfo[]> {
  const timeoutMs = options.timeoutMs ?? 2_000;
  const request = create(busProto.ListSchedulesRequestSchema, { plugin: options.plugin ?? "" });
  let reply;
  try {
    reply = await bus.request(subjects(namespace).schedulerList, toBinary(busProto.ListSchedulesRequestSchema, request), { timeoutMs });
  } catch (err) {
    if (BusError.is(err, "timeout")) throw new CallError(CallErrorCode.Timeout, `no scheduler listed the schedules within ${timeoutMs} ms`, { cause: err });
    if (BusError.is(err, "no_responders")) throw new CallError(CallErrorCode.Unavailable, "no scheduler is running", { cause: err });
    throw new CallError(CallErrorCode.Unavailable, `the schedules cannot be listed: ${describe(err)}`, { cause: err });
  }
  return fromBinary(busProto.ListSchedulesResponseSchema, decodeCallReply(reply)).schedules;
}

/** A stored schedule as the listing shows it, its next firing after `nowMs` included. */
export function describeSchedule(entry: ScheduleEntry, nowMs: number): ScheduleInfo {
  const common = { plugin: entry.pluginId, scheduleId: entry.scheduleId, createdAtMs: BigInt(entry.createdAt) };
  if (entry.kind === "once") {
    return create(busProto.ScheduleInfoSchema, { ...common, kind: ScheduleKind.ONCE, nextFireMs: BigInt(entry.runAt) });
  }
  const { spec } = entry;
  const next = spec.type === "every" ? nextInterval(entry.createdAt, spec.everyMs, nowMs) : nextCronMatch(spec.pattern, spec.tz, nowMs);
  return create(busProto.ScheduleInfoSchema, {
    ...common,
    kind: spec.type === "every" ? ScheduleKind.EVERY : ScheduleKind.CRON,
    expression: entry.expression,
    nextFireMs: BigInt(next ?? 0),
  });
}

/** The first `createdAt + k·everyMs` (k ≥ 1) after `nowMs`. */
function nextInterval(createdAt: number, everyMs: number, nowMs: number): number | undefined {
  if (!(everyMs > 0)) return undefined;
  const steps = Math.max(1, Math.floor((nowMs - createdAt) / everyMs) + 1);
  return createdAt + steps * everyMs;
}

function nextCronMatch(pattern: string, tz: string | undefined, nowMs: number): number | undefined {
  try {
    // Paused and without a function, croner only reads the pattern and keeps no timer.
    const cron = new Cron(pattern, tz === undefined ? { paused: true } : { paused: true, timezone: tz });
    return cron.nextRun(new Date(nowMs))?.getTime();
  } catch {
    return undefined;
  }
}

function byPluginThenId(a: ScheduleInfo, b: ScheduleInfo): number {
  return a.plugin === b.plugin ? compare(a.scheduleId, b.scheduleId) : compare(a.plugin, b.plugin);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
