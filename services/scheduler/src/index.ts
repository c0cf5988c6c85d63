export { createSchedulerService, type CapabilityLookup, type SchedulerService, type SchedulerServiceOptions } from "./scheduler.js";
