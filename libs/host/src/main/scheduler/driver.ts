/**
 * The port the scheduler service fires plugin schedules through (ABI.md §8, DESIGN.md §5 and §7): a
 * `ScheduleStore` that also runs what it stores. Two drivers implement it, BullMQ for a cluster and
 * timers for embedded mode, and both pass one contract suite.
 *
 * Semantics both keep:
 * - the same `(pluginId, scheduleId)` replaces the earlier schedule, whatever its kind;
 * - a one-time schedule leaves `list()` (and can no longer be cancelled) before its callback runs;
 * - a recurring one fires on every match until cancelled; firings may overlap;
 * - a firing whose callback rejects is tried again after `backoffMs`, doubling each time, up to
 *   `maxAttempts` in all, then recorded in `failures()` and reported to `onFailure`;
 * - cancelling stops future firings; a firing already under way (its retries included) finishes.
 */
import type { ScheduleStore } from "./store.js";

/** One firing of a schedule, as handed to the callback that delivers it to the plugin. */
export interface ScheduleFiring {
  readonly pluginId: string;
  readonly scheduleId: string;
  readonly payload: Uint8Array;
  readonly isRecurring: boolean;
  /**
   * When this firing came due (epoch ms): a one-time schedule's `runAt`, a recurring one's matched
   * time. The same for every attempt, so it tells firings of one schedule apart.
   */
  readonly firedAt: number;
  /** 1 for the first try, counting up on each retry. */
  readonly attempt: number;
}

/** Delivers a firing; rejecting means the delivery failed and should be tried again. */
export type ScheduleFireCallback = (firing: ScheduleFiring) => Promise<void>;

/** A firing whose every attempt failed. */
export interface ScheduleFailure {
  readonly pluginId: string;
  readonly scheduleId: string;
  readonly isRecurring: boolean;
  /** As in `ScheduleFiring.firedAt`. */
  readonly firedAt: number;
  /** Attempts made, the last one included. */
  readonly attempts: number;
  /** The last attempt's error message. */
  readonly error: string;
  /** When the last attempt failed (epoch ms). */
  readonly failedAt: number;
}

export interface ScheduleDriver extends ScheduleStore {
  /**
   * Starts firing schedules (those stored before included) through `fire`. Once per driver; a
   * driver never started only keeps schedules.
   */
  start(fire: ScheduleFireCallback): Promise<void>;
  /** Cancels every schedule of a plugin (it was removed); the number cancelled. */
  cancelPlugin(pluginId: string): Promise<number>;
  /** Recorded failed firings of one plugin or all, oldest first; only the latest `maxFailures` are kept. */
  failures(pluginId?: string): Promise<ScheduleFailure[]>;
  /** Stops firing and waits for callbacks under way. Idempotent; nothing else may be called after it. */
  close(): Promise<void>;
}

export interface ScheduleDriverOptions {
  /** Attempts per firing, the first included. @default 3 */
  readonly maxAttempts?: number;
  /** Wait before the second attempt; each later wait doubles. @default 1000 */
  readonly backoffMs?: number;
  /** How many failed firings `failures()` keeps (the latest). @default 100 */
  readonly maxFailures?: number;
  /** Told of each firing whose attempts all failed, once it is recorded. */
  readonly onFailure?: (failure: ScheduleFailure) => void;
}

export interface CompiledScheduleDriverOptions {
  readonly maxAttempts: number;
  readonly backoffMs: number;
  readonly maxFailures: number;
  readonly onFailure: (failure: ScheduleFailure) => void;
}

export const DEFAULT_MAX_ATTEMPTS = 3;
export const DEFAULT_BACKOFF_MS = 1_000;
export const DEFAULT_MAX_FAILURES = 100;

export function compileDriverOptions(options: ScheduleDriverOptions): CompiledScheduleDriverOptions {
  const {
    maxAttempts = DEFAULT_MAX_ATTEMPTS,
    backoffMs = DEFAULT_BACKOFF_MS,
    maxFailures = DEFAULT_MAX_FAILURES,
    onFailure = () => undefined,
  } = options;
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError(`schedule maxAttempts must be a whole number of at least 1, got ${maxAttempts}`);
  }
  if (!Number.isFinite(backoffMs) || backoffMs < 0) {
    throw new RangeError(`schedule backoffMs must be a finite number of at least 0, got ${backoffMs}`);
  }
  if (!Number.isSafeInteger(maxFailures) || maxFailures < 0) {
    throw new RangeError(`schedule maxFailures must be a whole number of at least 0, got ${maxFailures}`);
  }
  return { maxAttempts, backoffMs, maxFailures, onFailure };
}

/** The wait after attempt `failedAttempt` (1-based) failed: BullMQ's exponential backoff. */
export function retryDelayMs(backoffMs: number, failedAttempt: number): number {
  return Math.round(backoffMs * 2 ** (failedAttempt - 1));
}

/** Tells `onFailure` without letting a broken hook change what happens to the firing. */
export function reportFailure(options: CompiledScheduleDriverOptions, failure: ScheduleFailure): void {
  try {
    options.onFailure(failure);
  } catch {
    // The hook only reports; the failure is already recorded.
  }
}

export function errorOf(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

export function closedDriverError(): Error {
  return new Error("schedule driver is closed");
}

export function alreadyStartedError(): Error {
  return new Error("schedule driver is already started");
}
