/**
 * The hand-over point between the scheduler host functions (which validate what a plugin asks for)
 * and the drivers that keep and fire schedules (driver.ts: BullMQ in a cluster, timers when
 * embedded). Entries are keyed by `(pluginId, scheduleId)`; schedule ids are opaque and compared
 * byte-exactly.
 */

interface ScheduleCommon {
  readonly pluginId: string;
  /** As the plugin gave it (or as generated for it); echoed unchanged in callbacks. */
  readonly scheduleId: string;
  /** Handed back in `OnSchedulerCallback`. */
  readonly payload: Uint8Array;
  /** When the host accepted the schedule (epoch ms): where an `@every` interval starts counting. */
  readonly createdAt: number;
}

/** A callback fired once, then forgotten. */
export interface OneTimeSchedule extends ScheduleCommon {
  readonly kind: "once";
  /** As requested; zero or less fires at once. */
  readonly delaySeconds: number;
  /** When to fire (epoch ms). */
  readonly runAt: number;
}

/**
 * When a recurring schedule fires. `cron` patterns are normalised to five numeric fields that mean
 * the same to cron-parser (BullMQ's parser) as the plugin's expression meant to Navidrome's.
 */
export type RecurringSpec =
  | {
      readonly type: "cron";
      readonly pattern: string;
      /** IANA zone from a `TZ=`/`CRON_TZ=` prefix; absent means the scheduler's local zone. */
      readonly tz?: string;
    }
  | { readonly type: "every"; readonly everyMs: number };

/** A callback fired on every match of its spec until cancelled. */
export interface RecurringSchedule extends ScheduleCommon {
  readonly kind: "recurring";
  /** The plugin's `cron_expression`, kept for operators reading the schedule. */
  readonly expression: string;
  readonly spec: RecurringSpec;
}

export type ScheduleEntry = OneTimeSchedule | RecurringSchedule;

export interface ScheduleStore {
  /** Adds the entry, replacing any entry of the same plugin with the same schedule id. */
  upsert(entry: ScheduleEntry): Promise<void>;
  /** Removes a schedule; false when the plugin has none with that id. */
  cancel(pluginId: string, scheduleId: string): Promise<boolean>;
  /** The schedules of one plugin, or of all plugins. */
  list(pluginId?: string): Promise<ScheduleEntry[]>;
}
