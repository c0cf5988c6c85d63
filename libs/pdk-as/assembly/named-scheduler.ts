// Named scheduler callbacks (ABI.md §8), compatible with Navidrome's Go PDK: a schedule set
// through a NamedScheduler carries the ID `<name>\u200b<id>` (also when <id> is empty, so the host
// never invents one), and its callback is routed to the SchedulerCallback registered under
// <name> with the prefix removed. Hosts treat IDs as opaque, so this is purely guest-side.
import * as api from "./gen/navidrome/api/v1/api";
import * as scheduler from "./gen/navidrome/host/scheduler/v1/scheduler";
import { SchedulerCallback, schedulerCallback } from "./capabilities";
import { Result } from "./result";

/** Separates a callback name from a schedule ID: U+200B ZERO WIDTH SPACE. */
export const NAME_SEPARATOR = "\u200b";

const named = new Map<string, SchedulerCallback>();

/** The scheduler functions for one named callback: IDs in and out are without the name. */
export class NamedScheduler {
  constructor(public readonly name: string) {}

  scheduleOneTime(request: scheduler.ScheduleOneTimeRequest): scheduler.ScheduleResponse {
    const req = new scheduler.ScheduleOneTimeRequest(request.delaySeconds, request.payload, this.wrap(request.scheduleId));
    return this.unwrapResponse(scheduler.scheduleOneTime(req));
  }

  scheduleRecurring(request: scheduler.ScheduleRecurringRequest): scheduler.ScheduleResponse {
    const req = new scheduler.ScheduleRecurringRequest(request.cronExpression, request.payload, this.wrap(request.scheduleId));
    return this.unwrapResponse(scheduler.scheduleRecurring(req));
  }

  cancelSchedule(request: scheduler.CancelRequest): scheduler.CancelResponse {
    return scheduler.cancelSchedule(new scheduler.CancelRequest(this.wrap(request.scheduleId)));
  }

  timeNow(): scheduler.TimeNowResponse {
    return scheduler.timeNow();
  }

  private wrap(id: string): string {
    return this.name + NAME_SEPARATOR + id;
  }

  private unwrapResponse(res: scheduler.ScheduleResponse): scheduler.ScheduleResponse {
    const prefix = this.name + NAME_SEPARATOR;
    if (res.scheduleId.startsWith(prefix)) res.scheduleId = res.scheduleId.substring(prefix.length);
    return res;
  }
}

/**
 * Registers `callback` for the schedules made through the returned NamedScheduler. Schedules
 * without a name still go to the callback given to `registerSchedulerCallback`.
 */
export function registerNamedSchedulerCallback(name: string, callback: SchedulerCallback): NamedScheduler {
  named.set(name, callback);
  return new NamedScheduler(name);
}

/** Routes an incoming schedule to its named callback, or to the plain one. */
export function dispatchSchedulerCallback(request: api.SchedulerCallbackRequest): Result {
  const sep = named.size > 0 ? request.scheduleId.indexOf(NAME_SEPARATOR) : -1;
  if (sep >= 0) {
    const name = request.scheduleId.substring(0, sep);
    // A schedule whose callback is gone (e.g. renamed in a newer version) is dropped quietly.
    if (!named.has(name)) return Result.empty();
    request.scheduleId = request.scheduleId.substring(sep + 1);
    return named.get(name).onSchedulerCallback(request);
  }
  const plain = schedulerCallback;
  if (plain === null) return Result.notImplemented();
  return plain.onSchedulerCallback(request);
}

/** True when some scheduler callback, plain or named, is registered. */
export function hasSchedulerCallbacks(): bool {
  return schedulerCallback !== null || named.size > 0;
}
