/**
 * `scheduler` permission (ABI.md §8): `schedule_one_time`, `schedule_recurring`, `cancel_schedule`.
 * These validate and hand schedules to a `ScheduleStore`; firing them is the scheduler service's
 * work. `time_now` needs no I/O and is answered inside the runtime threads (thread/time.ts).
 *
 * Deviation from Navidrome (DESIGN.md §6): a bad cron expression, or a store that cannot take the
 * schedule, is answered in `ScheduleResponse.error` (a Tonearm field) instead of trapping the guest.
 */
import { schedulerHost } from "@tonearm/proto";
import { asyncHandler } from "../../define.js";
import type { MainContext, MainFunctions } from "../../host.js";
import { CronSpecError, parseCronSpec } from "./cron-spec.js";
import { newScheduleId } from "./schedule-id.js";
import type { RecurringSpec, ScheduleStore } from "./store.js";

export interface SchedulerFunctionsOptions {
  /** Wall clock in epoch ms. @default Date.now */
  readonly now?: () => number;
  /** Id for a schedule the plugin did not name. @default 10 random URL-safe characters */
  readonly newId?: () => string;
}

export const SCHEDULE_NOT_FOUND = "schedule not found";

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export function createSchedulerFunctions(store: ScheduleStore, options: SchedulerFunctionsOptions = {}): MainFunctions {
  const now = options.now ?? Date.now;
  const newId = options.newId ?? newScheduleId;

  return {
    schedule_one_time: asyncHandler<MainContext, typeof schedulerHost.ScheduleOneTimeRequestSchema, typeof schedulerHost.ScheduleResponseSchema>(
      "schedule_one_time",
      { input: schedulerHost.ScheduleOneTimeRequestSchema, output: schedulerHost.ScheduleResponseSchema },
      async (ctx, req) => {
        const scheduleId = req.scheduleId === "" ? newId() : req.scheduleId;
        const createdAt = now();
        const runAt = createdAt + Math.max(0, req.delaySeconds) * 1000;
        try {
          await store.upsert({ kind: "once", pluginId: ctx.pluginId, scheduleId, payload: req.payload, createdAt, delaySeconds: req.delaySeconds, runAt });
        } catch (error) {
          return { error: `failed to schedule one-time job: ${messageOf(error)}` };
        }
        return { scheduleId };
      },
    ),

    schedule_recurring: asyncHandler<MainContext, typeof schedulerHost.ScheduleRecurringRequestSchema, typeof schedulerHost.ScheduleResponseSchema>(
      "schedule_recurring",
      { input: schedulerHost.ScheduleRecurringRequestSchema, output: schedulerHost.ScheduleResponseSchema },
      async (ctx, req) => {
        let spec: RecurringSpec;
        try {
          spec = parseCronSpec(req.cronExpression);
        } catch (error) {
          if (!(error instanceof CronSpecError)) throw error;
          return { error: `failed to schedule recurring job: ${error.message}` };
        }
        const scheduleId = req.scheduleId === "" ? newId() : req.scheduleId;
        try {
          await store.upsert({
            kind: "recurring",
            pluginId: ctx.pluginId,
            scheduleId,
            payload: req.payload,
            createdAt: now(),
            expression: req.cronExpression,
            spec,
          });
        } catch (error) {
          return { error: `failed to schedule recurring job: ${messageOf(error)}` };
        }
        return { scheduleId };
      },
    ),

    cancel_schedule: asyncHandler<MainContext, typeof schedulerHost.CancelRequestSchema, typeof schedulerHost.CancelResponseSchema>(
      "cancel_schedule",
      { input: schedulerHost.CancelRequestSchema, output: schedulerHost.CancelResponseSchema },
      async (ctx, req) => {
        let removed: boolean;
        try {
          removed = await store.cancel(ctx.pluginId, req.scheduleId);
        } catch (error) {
          return { success: false, error: `failed to cancel schedule: ${messageOf(error)}` };
        }
        return removed ? { success: true } : { success: false, error: SCHEDULE_NOT_FOUND };
      },
    ),
  };
}
