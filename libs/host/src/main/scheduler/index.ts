/** The `scheduler` host functions, the store they hand schedules to, and the drivers that fire them (ABI.md §8). */
export { createSchedulerFunctions, SCHEDULE_NOT_FOUND, type SchedulerFunctionsOptions } from "./functions.js";
export { CronSpecError, parseCronSpec } from "./cron-spec.js";
export { newScheduleId, SCHEDULE_ID_LENGTH } from "./schedule-id.js";
export type { OneTimeSchedule, RecurringSchedule, RecurringSpec, ScheduleEntry, ScheduleStore } from "./store.js";
export {
  DEFAULT_BACKOFF_MS,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_MAX_FAILURES,
  type ScheduleDriver,
  type ScheduleDriverOptions,
  type ScheduleFailure,
  type ScheduleFireCallback,
  type ScheduleFiring,
} from "./driver.js";
export { createMemoryScheduleDriver, createMemoryScheduleStore, type MemoryScheduleDriverOptions } from "./memory-driver.js";
export { createBullMqScheduleDriver, type BullMqScheduleDriverOptions } from "./bullmq.js";
