/** The `scheduler` host functions and the store they hand schedules to (ABI.md §8). */
export { createSchedulerFunctions, SCHEDULE_NOT_FOUND, type SchedulerFunctionsOptions } from "./functions.js";
export { CronSpecError, parseCronSpec } from "./cron-spec.js";
export { newScheduleId, SCHEDULE_ID_LENGTH } from "./schedule-id.js";
export {
  createMemoryScheduleStore,
  type OneTimeSchedule,
  type RecurringSchedule,
  type RecurringSpec,
  type ScheduleEntry,
  type ScheduleStore,
} from "./store.js";
