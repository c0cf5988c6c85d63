/**
 * The embedded-mode schedule driver (DESIGN.md §7): schedules held in process memory and fired by
 * timers in this process. croner reads cron patterns, in their zone; `@every` and one-time
 * schedules are plain arithmetic on the clock. Timers are unref'd, so pending schedules never keep
 * the process alive. Semantics are those of `ScheduleDriver` (driver.ts).
 */
import { Cron } from "croner";
import {
  alreadyStartedError,
  closedDriverError,
  compileDriverOptions,
  errorOf,
  reportFailure,
  retryDelayMs,
  type CompiledScheduleDriverOptions,
  type ScheduleDriver,
  type ScheduleDriverOptions,
  type ScheduleFailure,
  type ScheduleFireCallback,
  type ScheduleFiring,
} from "./driver.js";
import type { ScheduleEntry, ScheduleStore } from "./store.js";

export interface MemoryScheduleDriverOptions extends ScheduleDriverOptions {
  /**
   * Wall clock in epoch ms. Timers wait for the differences it gives, so a replacement must move
   * with the timers (fake timers that fake both do). @default Date.now
   */
  readonly now?: () => number;
}

// setTimeout's longest delay; a longer wait (a yearly cron, a far one-time schedule) is taken in steps.
const MAX_TIMER_MS = 2 ** 31 - 1;

type Timer = ReturnType<typeof setTimeout>;
type FiringBase = Omit<ScheduleFiring, "attempt">;

interface Slot {
  readonly entry: ScheduleEntry;
  /** croner reading the entry's cron pattern; absent for other entries. */
  readonly cron: Cron | undefined;
  /** When the armed timer is for. */
  due?: number;
  timer?: Timer;
}

export function createMemoryScheduleDriver(options: MemoryScheduleDriverOptions = {}): ScheduleDriver {
  return new MemoryScheduleDriver(options);
}

/** Schedules kept in process memory and never fired: a memory driver nobody starts. */
export function createMemoryScheduleStore(): ScheduleStore {
  return createMemoryScheduleDriver();
}

class MemoryScheduleDriver implements ScheduleDriver {
  readonly #options: CompiledScheduleDriverOptions;
  readonly #now: () => number;
  // Nested maps rather than a joined "<plugin>:<id>" key, so no id can collide with another plugin's.
  readonly #byPlugin = new Map<string, Map<string, Slot>>();
  readonly #retryTimers = new Set<Timer>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #failures: ScheduleFailure[] = [];
  #state: "created" | "started" | "closed" = "created";
  #fire: ScheduleFireCallback | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: MemoryScheduleDriverOptions) {
    this.#options = compileDriverOptions(options);
    this.#now = options.now ?? Date.now;
  }

  upsert(entry: ScheduleEntry): Promise<void> {
    return this.#whileOpen(() => {
      const stored = snapshot(entry);
      // Read the pattern before touching the old schedule, so an unreadable one leaves it in place.
      const cron = stored.kind === "recurring" && stored.spec.type === "cron" ? readCron(stored.spec.pattern, stored.spec.tz) : undefined;
      let schedules = this.#byPlugin.get(stored.pluginId);
      if (!schedules) {
        schedules = new Map();
        this.#byPlugin.set(stored.pluginId, schedules);
      }
      const previous = schedules.get(stored.scheduleId);
      if (previous) disarm(previous);
      const slot: Slot = { entry: stored, cron };
      schedules.set(stored.scheduleId, slot);
      if (this.#state === "started") this.#armFirst(slot);
    });
  }

  cancel(pluginId: string, scheduleId: string): Promise<boolean> {
    return this.#whileOpen(() => {
      const schedules = this.#byPlugin.get(pluginId);
      const slot = schedules?.get(scheduleId);
      if (!schedules || !slot) return false;
      this.#forget(slot);
      return true;
    });
  }

  list(pluginId?: string): Promise<ScheduleEntry[]> {
    return this.#whileOpen(() => {
      const groups = pluginId === undefined ? [...this.#byPlugin.values()] : [this.#byPlugin.get(pluginId) ?? new Map<string, Slot>()];
      return groups.flatMap((schedules) => [...schedules.values()].map((slot) => snapshot(slot.entry)));
    });
  }

  cancelPlugin(pluginId: string): Promise<number> {
    return this.#whileOpen(() => {
      const schedules = this.#byPlugin.get(pluginId);
      if (!schedules) return 0;
      for (const slot of schedules.values()) disarm(slot);
      this.#byPlugin.delete(pluginId);
      return schedules.size;
    });
  }

  failures(pluginId?: string): Promise<ScheduleFailure[]> {
    return this.#whileOpen(() => this.#failures.filter((f) => pluginId === undefined || f.pluginId === pluginId));
  }

  start(fire: ScheduleFireCallback): Promise<void> {
    return this.#whileOpen(() => {
      if (this.#state === "started") throw alreadyStartedError();
      this.#fire = fire;
      this.#state = "started";
      for (const schedules of this.#byPlugin.values()) {
        for (const slot of schedules.values()) this.#armFirst(slot);
      }
    });
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#state = "closed";
      for (const schedules of this.#byPlugin.values()) {
        for (const slot of schedules.values()) disarm(slot);
      }
      for (const timer of this.#retryTimers) clearTimeout(timer);
      this.#retryTimers.clear();
      await Promise.all(this.#inFlight);
    })();
    return this.#closing;
  }

  /** Runs `work` unless the driver is closed, answering as the async port does. */
  #whileOpen<T>(work: () => T): Promise<T> {
    try {
      if (this.#state === "closed") throw closedDriverError();
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(errorOf(error));
    }
  }

  /**
   * A recurring schedule's first firing counts from when it was accepted, so one stored before
   * `start` and already overdue fires once at start, as a job waiting in BullMQ would.
   */
  #armFirst(slot: Slot): void {
    const { entry } = slot;
    if (entry.kind === "once") this.#arm(slot, entry.runAt);
    else if (entry.spec.type === "every") this.#arm(slot, entry.createdAt + entry.spec.everyMs);
    else this.#arm(slot, nextCronRun(slot.cron, entry.createdAt));
  }

  #arm(slot: Slot, due: number | undefined): void {
    slot.due = due;
    if (due === undefined) return; // a cron pattern with no time left to match
    const wait = Math.min(Math.max(0, due - this.#now()), MAX_TIMER_MS);
    slot.timer = setTimeout(() => this.#wake(slot, due), wait);
    slot.timer.unref();
  }

  #wake(slot: Slot, due: number): void {
    slot.timer = undefined;
    if (this.#now() < due) {
      this.#arm(slot, due); // one step of a long wait (or a timer a hair early)
      return;
    }
    const { entry } = slot;
    if (entry.kind === "once") this.#forget(slot);
    else this.#arm(slot, this.#nextRecurringDue(slot, due));
    const firing: FiringBase = {
      pluginId: entry.pluginId,
      scheduleId: entry.scheduleId,
      payload: entry.payload,
      isRecurring: entry.kind === "recurring",
      firedAt: due,
    };
    this.#attempt(firing, 1);
  }

  /** The due time after `previous`; times missed while the process was busy or asleep are skipped. */
  #nextRecurringDue(slot: Slot, previous: number): number | undefined {
    const now = this.#now();
    const { entry } = slot;
    if (entry.kind === "recurring" && entry.spec.type === "every") {
      const { everyMs } = entry.spec;
      const steps = Math.max(1, Math.floor((now - previous) / everyMs) + 1);
      return previous + steps * everyMs;
    }
    return nextCronRun(slot.cron, Math.max(previous, now));
  }

  #attempt(base: FiringBase, attempt: number): void {
    const fire = this.#fire;
    if (!fire || this.#state === "closed") return;
    // Each attempt gets its own payload copy: a callback cannot change what later ones receive.
    const firing: ScheduleFiring = { ...base, payload: base.payload.slice(), attempt };
    const tracked: Promise<void> = (async () => fire(firing))()
      .then(
        () => undefined,
        (reason: unknown) => this.#attemptFailed(base, attempt, reason),
      )
      .finally(() => this.#inFlight.delete(tracked));
    this.#inFlight.add(tracked);
  }

  #attemptFailed(base: FiringBase, attempt: number, reason: unknown): void {
    if (attempt < this.#options.maxAttempts) {
      if (this.#state === "closed") return;
      const timer = setTimeout(() => {
        this.#retryTimers.delete(timer);
        this.#attempt(base, attempt + 1);
      }, retryDelayMs(this.#options.backoffMs, attempt));
      timer.unref();
      this.#retryTimers.add(timer);
      return;
    }
    const failure: ScheduleFailure = Object.freeze({
      pluginId: base.pluginId,
      scheduleId: base.scheduleId,
      isRecurring: base.isRecurring,
      firedAt: base.firedAt,
      attempts: attempt,
      error: errorOf(reason).message,
      failedAt: this.#now(),
    });
    this.#failures.push(failure);
    this.#failures.splice(0, this.#failures.length - this.#options.maxFailures);
    reportFailure(this.#options, failure);
  }

  /** Removes a slot, if it is still the one stored for its id, and stops its timer. */
  #forget(slot: Slot): void {
    disarm(slot);
    const { pluginId, scheduleId } = slot.entry;
    const schedules = this.#byPlugin.get(pluginId);
    if (schedules?.get(scheduleId) !== slot) return;
    schedules.delete(scheduleId);
    if (schedules.size === 0) this.#byPlugin.delete(pluginId);
  }
}

function disarm(slot: Slot): void {
  if (slot.timer !== undefined) clearTimeout(slot.timer);
  slot.timer = undefined;
}

/** A pattern reader only: without a function to run, croner keeps no timer of its own. */
function readCron(pattern: string, tz: string | undefined): Cron {
  return new Cron(pattern, tz === undefined ? { paused: true } : { paused: true, timezone: tz });
}

function nextCronRun(cron: Cron | undefined, after: number): number | undefined {
  return cron?.nextRun(new Date(after))?.getTime();
}

/** A copy with its own payload bytes, so neither the caller nor a reader can change what is stored. */
function snapshot(entry: ScheduleEntry): ScheduleEntry {
  const payload = entry.payload.slice();
  return entry.kind === "once"
    ? Object.freeze({ ...entry, payload })
    : Object.freeze({ ...entry, payload, spec: Object.freeze({ ...entry.spec }) });
}
