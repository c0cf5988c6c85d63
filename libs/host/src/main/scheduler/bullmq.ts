/**
 * The cluster schedule driver (DESIGN.md §5): BullMQ 6 on Redis, semantics as in driver.ts.
 *
 * One queue per namespace, its keys under `tonearm:<ns>:{schedules}:` (the hash tag keeps them in one
 * Redis Cluster slot, as BullMQ's scripts need). A schedule's BullMQ identity is `scheduleKey`:
 * base64url of the plugin id and of the schedule id, joined by '.', so any ids are safe in Redis
 * keys and BullMQ ids (which refuse most ':') and no two pairs share a key.
 * - A recurring schedule is a Job Scheduler under that key (`upsertJobScheduler`).
 * - A one-time schedule is a delayed job whose deduplication id is that key. The deduplication
 *   entry points at the pending job, which is how it is found to cancel or replace; the worker
 *   drops it before the callback runs, so the callback can schedule its own id again.
 * Replacing is remove + add, so an `@every` interval restarts from the new schedule's creation.
 *
 * Everything lives in Redis: any driver on the namespace lists, cancels and fires every schedule,
 * schedules outlive restarts, and BullMQ's job lock gives each firing to one worker in the cluster.
 * A failed firing is retried by BullMQ (attempts + exponential backoff) and finally kept in the
 * queue's failed set, the latest `maxFailures` of them: that set is `failures()`. A worker that dies
 * mid-callback has its firing taken over by another once the job's lock expires (so it may repeat).
 */
import { Buffer } from "node:buffer";
import { Queue, Worker, type Job, type JobSchedulerJson, type JobSchedulerTemplateOptions, type RedisOptions } from "bullmq";
import { CronExpressionParser } from "cron-parser";
import {
  alreadyStartedError,
  closedDriverError,
  compileDriverOptions,
  errorOf,
  reportFailure,
  type CompiledScheduleDriverOptions,
  type ScheduleDriver,
  type ScheduleDriverOptions,
  type ScheduleFailure,
  type ScheduleFireCallback,
  type ScheduleFiring,
} from "./driver.js";
import type { OneTimeSchedule, RecurringSchedule, RecurringSpec, ScheduleEntry } from "./store.js";

export interface BullMqScheduleDriverOptions extends ScheduleDriverOptions {
  /** Redis URL or connection options; the driver opens its own connections from them. */
  readonly connection: string | RedisOptions;
  /** Cluster namespace (`<ns>` in every key), so several clusters or test runs share one Redis. */
  readonly namespace: string;
  /** Firings this driver's worker runs at once; firings may overlap, as in Navidrome. @default 32 */
  readonly concurrency?: number;
  /** Told of Redis and worker errors no caller receives. @default process.emitWarning */
  readonly onError?: (error: Error) => void;
}

/** The queue's name; with the namespace prefix its keys are `tonearm:<ns>:{schedules}:…`. */
export const SCHEDULE_QUEUE_NAME = "{schedules}";
const ONCE_JOB = "once";
const RECURRING_JOB = "recurring";
/** Stamped into every job's data, so a later format can tell what it reads. */
const DATA_VERSION = 1;
const DEFAULT_CONCURRENCY = 32;

const LONE_SURROGATE = /\p{Cs}/u;

/** The BullMQ identity of a schedule (scheduler id and deduplication id): see the module comment. */
export function scheduleKey(pluginId: string, scheduleId: string): string {
  // UTF-8 cannot carry a lone surrogate; two such ids would encode alike.
  for (const [what, id] of [["plugin id", pluginId], ["schedule id", scheduleId]] as const) {
    if (LONE_SURROGATE.test(id)) throw new RangeError(`${what} ${JSON.stringify(id)} is not well-formed Unicode`);
  }
  return `${Buffer.from(pluginId, "utf8").toString("base64url")}.${Buffer.from(scheduleId, "utf8").toString("base64url")}`;
}

export function createBullMqScheduleDriver(options: BullMqScheduleDriverOptions): ScheduleDriver {
  return new BullMqScheduleDriver(options);
}

class BullMqScheduleDriver implements ScheduleDriver {
  readonly #options: CompiledScheduleDriverOptions;
  readonly #connection: RedisOptions;
  readonly #prefix: string;
  readonly #concurrency: number;
  readonly #onError: (error: Error) => void;
  readonly #queue: Queue<unknown>;
  readonly #jobOptions: JobSchedulerTemplateOptions;
  #worker: Worker<unknown> | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: BullMqScheduleDriverOptions) {
    const { namespace, concurrency = DEFAULT_CONCURRENCY } = options;
    if (!namespace || /[{}]/.test(namespace)) {
      throw new RangeError(`schedule namespace must be non-empty and free of '{' and '}', got ${JSON.stringify(namespace)}`);
    }
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`schedule concurrency must be a whole number of at least 1, got ${concurrency}`);
    }
    this.#options = compileDriverOptions(options);
    this.#connection = typeof options.connection === "string" ? { url: options.connection } : options.connection;
    this.#prefix = `tonearm:${namespace}`;
    this.#concurrency = concurrency;
    this.#onError = options.onError ?? ((error) => process.emitWarning(error));
    this.#jobOptions = {
      attempts: this.#options.maxAttempts,
      backoff: { type: "exponential", delay: this.#options.backoffMs },
      removeOnComplete: true,
      // The failed set is the failure record; BullMQ trims it to the latest ones.
      removeOnFail: { count: this.#options.maxFailures },
    };
    this.#queue = new Queue<unknown>(SCHEDULE_QUEUE_NAME, { connection: this.#connection, prefix: this.#prefix });
    this.#queue.on("error", this.#onError);
  }

  async upsert(entry: ScheduleEntry): Promise<void> {
    this.#assertOpen();
    const key = scheduleKey(entry.pluginId, entry.scheduleId);
    const common = {
      v: DATA_VERSION,
      pluginId: entry.pluginId,
      scheduleId: entry.scheduleId,
      payload: Buffer.from(entry.payload.buffer, entry.payload.byteOffset, entry.payload.byteLength).toString("base64"),
      createdAt: entry.createdAt,
    };
    if (entry.kind === "once") {
      await this.#removeSchedule(key);
      const data = { ...common, delaySeconds: entry.delaySeconds, runAt: entry.runAt };
      await this.#queue.add(ONCE_JOB, data, { ...this.#jobOptions, delay: Math.max(0, entry.runAt - Date.now()), deduplication: { id: key } });
      return;
    }
    // Checked before the old schedule goes, so one BullMQ would refuse leaves it in place.
    const repeat = repeatOptionsOf(entry);
    await this.#removeSchedule(key);
    await this.#queue.upsertJobScheduler(key, repeat, {
      name: RECURRING_JOB,
      data: { ...common, expression: entry.expression },
      opts: this.#jobOptions,
    });
  }

  async cancel(pluginId: string, scheduleId: string): Promise<boolean> {
    this.#assertOpen();
    return this.#removeSchedule(scheduleKey(pluginId, scheduleId));
  }

  async list(pluginId?: string): Promise<ScheduleEntry[]> {
    this.#assertOpen();
    const [schedulers, pending] = await Promise.all([this.#queue.getJobSchedulers(0, -1), this.#queue.getJobs(["delayed", "waiting"], 0, -1)]);
    const entries: ScheduleEntry[] = schedulers.map(recurringEntryOf);
    for (const job of pending) {
      // Recurring iterations belong to their scheduler; a one-time job tried before is firing, not scheduled.
      if (job.name === ONCE_JOB && job.attemptsMade === 0) entries.push(oneTimeEntryOf(job));
    }
    return pluginId === undefined ? entries : entries.filter((e) => e.pluginId === pluginId);
  }

  async cancelPlugin(pluginId: string): Promise<number> {
    const entries = await this.list(pluginId);
    const removed = await Promise.all(entries.map((e) => this.#removeSchedule(scheduleKey(e.pluginId, e.scheduleId))));
    return removed.filter(Boolean).length;
  }

  async failures(pluginId?: string): Promise<ScheduleFailure[]> {
    this.#assertOpen();
    const failed = await this.#queue.getFailed(0, -1);
    return failed
      .map(failureOf)
      .filter((f) => pluginId === undefined || f.pluginId === pluginId)
      .sort((a, b) => a.failedAt - b.failedAt);
  }

  async start(fire: ScheduleFireCallback): Promise<void> {
    this.#assertOpen();
    if (this.#worker) throw alreadyStartedError();
    const worker = new Worker<unknown>(SCHEDULE_QUEUE_NAME, (job) => this.#process(job, fire), {
      connection: this.#connection,
      prefix: this.#prefix,
      concurrency: this.#concurrency,
    });
    this.#worker = worker;
    worker.on("error", this.#onError);
    worker.on("failed", (job) => this.#failed(job));
    await worker.waitUntilReady();
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      // Every step runs even when one fails; the worker first, so callbacks under way finish.
      let failure: unknown;
      for (const step of [() => this.#worker?.close(), () => this.#queue.close()]) {
        try {
          await step();
        } catch (error) {
          failure ??= error;
        }
      }
      if (failure !== undefined) throw errorOf(failure);
    })();
    return this.#closing;
  }

  #assertOpen(): void {
    if (this.#closing) throw closedDriverError();
  }

  async #process(job: Job<unknown>, fire: ScheduleFireCallback): Promise<void> {
    const firing = firingOf(job);
    // Gone before its callback: unlisted already (the job is active), and now free to be scheduled again.
    if (!firing.isRecurring) await job.removeDeduplicationKey();
    try {
      await fire(firing);
    } catch (error) {
      throw errorOf(error); // BullMQ records an Error's message
    }
  }

  /** A failed attempt; the last one (the job has finished) is reported once BullMQ has recorded it. */
  #failed(job: Job<unknown> | undefined): void {
    if (job?.finishedOn === undefined) return;
    try {
      reportFailure(this.#options, failureOf(job));
    } catch (error) {
      this.#onError(errorOf(error));
    }
  }

  /** Removes a schedule of either kind; true when there was one not yet fired. */
  async #removeSchedule(key: string): Promise<boolean> {
    const [scheduler, once] = await Promise.all([this.#removeScheduler(key), this.#removePendingOnce(key)]);
    return scheduler || once;
  }

  async #removeScheduler(key: string): Promise<boolean> {
    const scheduler = await this.#queue.getJobScheduler(key);
    if (!scheduler) return false;
    const removed = await this.#queue.removeJobScheduler(key);
    // BullMQ takes the scheduler's next job along only while it is delayed; one already due and
    // waiting for a worker would still fire.
    if (scheduler.next !== undefined && scheduler.next <= Date.now()) await this.#queue.remove(`repeat:${key}:${scheduler.next}`);
    return removed;
  }

  async #removePendingOnce(key: string): Promise<boolean> {
    const jobId = await this.#queue.getDeduplicationJobId(key);
    if (jobId === null) return false;
    const job = await this.#queue.getJob(jobId);
    if (!job) return false; // an entry outliving its job; BullMQ's next add under the key recovers it
    // 0 means the job is active, i.e. firing: the schedule is gone already.
    const removed = (await this.#queue.remove(jobId)) === 1;
    // Removal takes the entry along; a firing job drops it itself, but perhaps not yet.
    if (!removed) await job.removeDeduplicationKey();
    return removed;
  }
}

function repeatOptionsOf(entry: RecurringSchedule): { pattern: string; tz?: string } | { every: number; startDate: number } {
  const { spec } = entry;
  if (spec.type === "every") {
    if (!Number.isFinite(spec.everyMs) || spec.everyMs <= 0) throw new RangeError(`schedule interval must be positive, got ${spec.everyMs} ms`);
    // robfig counts an interval from when the schedule was made; BullMQ would fire at once.
    return { every: spec.everyMs, startDate: entry.createdAt + spec.everyMs };
  }
  CronExpressionParser.parse(spec.pattern, spec.tz === undefined ? {} : { tz: spec.tz });
  return spec.tz === undefined ? { pattern: spec.pattern } : { pattern: spec.pattern, tz: spec.tz };
}

type StoredCommon = Pick<OneTimeSchedule, "pluginId" | "scheduleId" | "payload" | "createdAt">;

/** Reads job data this driver wrote; `where` names it in the error when it did not. */
function readStored(raw: unknown, where: string): { common: StoredCommon; data: Readonly<Record<string, unknown>> } {
  const data = typeof raw === "object" && raw !== null ? (raw as Readonly<Record<string, unknown>>) : {};
  if (data.v !== DATA_VERSION) throw new Error(`${where} holds data of schedule format ${JSON.stringify(data.v)}, expected ${DATA_VERSION}`);
  return {
    common: {
      pluginId: stringField(data, "pluginId", where),
      scheduleId: stringField(data, "scheduleId", where),
      payload: new Uint8Array(Buffer.from(stringField(data, "payload", where), "base64")),
      createdAt: numberField(data, "createdAt", where),
    },
    data,
  };
}

function stringField(data: Readonly<Record<string, unknown>>, name: string, where: string): string {
  const value = data[name];
  if (typeof value !== "string") throw new Error(`${where} has no string ${name}`);
  return value;
}

function numberField(data: Readonly<Record<string, unknown>>, name: string, where: string): number {
  const value = data[name];
  if (typeof value !== "number") throw new Error(`${where} has no number ${name}`);
  return value;
}

function oneTimeEntryOf(job: Job<unknown>): OneTimeSchedule {
  const where = `schedule job ${job.id ?? "?"}`;
  const { common, data } = readStored(job.data, where);
  return { kind: "once", ...common, delaySeconds: numberField(data, "delaySeconds", where), runAt: numberField(data, "runAt", where) };
}

function recurringEntryOf(scheduler: JobSchedulerJson<unknown>): RecurringSchedule {
  const where = `job scheduler ${scheduler.key}`;
  const { common, data } = readStored(scheduler.template?.data, where);
  let spec: RecurringSpec;
  if (scheduler.pattern !== undefined) {
    spec = scheduler.tz === undefined ? { type: "cron", pattern: scheduler.pattern } : { type: "cron", pattern: scheduler.pattern, tz: scheduler.tz };
  } else if (scheduler.every !== undefined) {
    spec = { type: "every", everyMs: scheduler.every };
  } else {
    throw new Error(`${where} has neither a pattern nor an interval`);
  }
  return { kind: "recurring", ...common, expression: stringField(data, "expression", where), spec };
}

/** When a job's firing came due: a one-time schedule's `runAt`, or the time in a scheduler job's id. */
function firedAtOf(job: Job<unknown>, data: Readonly<Record<string, unknown>>, where: string): number {
  if (job.name !== RECURRING_JOB) return numberField(data, "runAt", where);
  // BullMQ names each iteration `repeat:<scheduler id>:<due ms>`.
  const id = job.id ?? "";
  const due = Number(id.slice(id.lastIndexOf(":") + 1));
  if (!Number.isSafeInteger(due)) throw new Error(`${where} has no due time in its id`);
  return due;
}

function firingOf(job: Job<unknown>): ScheduleFiring {
  const where = `schedule job ${job.id ?? "?"}`;
  const { common, data } = readStored(job.data, where);
  return {
    pluginId: common.pluginId,
    scheduleId: common.scheduleId,
    payload: common.payload,
    isRecurring: job.name === RECURRING_JOB,
    firedAt: firedAtOf(job, data, where),
    attempt: job.attemptsMade + 1,
  };
}

function failureOf(job: Job<unknown>): ScheduleFailure {
  const where = `schedule job ${job.id ?? "?"}`;
  const { common, data } = readStored(job.data, where);
  return {
    pluginId: common.pluginId,
    scheduleId: common.scheduleId,
    isRecurring: job.name === RECURRING_JOB,
    firedAt: firedAtOf(job, data, where),
    attempts: job.attemptsMade,
    error: job.failedReason,
    failedAt: job.finishedOn ?? job.timestamp,
  };
}
