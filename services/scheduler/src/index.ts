export { createSchedulerService, type CapabilityLookup, type SchedulerService, type SchedulerServiceOptions } from "./scheduler.js";
export {
  SCHEDULER_QUEUE,
  ScheduleKind,
  describeSchedule,
  listSchedules,
  serveScheduleListing,
  type ListSchedulesOptions,
  type ScheduleInfo,
} from "./schedule-listing.js";
