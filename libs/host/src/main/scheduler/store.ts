/**
 * The hand-over point between the scheduler host functions (which validate what a plugin asks for)
 * and the service that keeps and fires schedules (BullMQ in a cluster, timers when embedded).
 * Entries are keyed by `(pluginId, scheduleId)`; schedule ids are opaque and compared byte-exactly.
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

/** Entries held in process memory: for tests and the embedded scheduler's bookkeeping. */
export function createMemoryScheduleStore(): ScheduleStore {
  return new MemoryScheduleStore();
}

class MemoryScheduleStore implements ScheduleStore {
  // Nested maps rather than a joined "<plugin>:<id>" key, so no id can collide with another plugin's.
  readonly #byPlugin = new Map<string, Map<string, ScheduleEntry>>();

  upsert(entry: ScheduleEntry): Promise<void> {
    let schedules = this.#byPlugin.get(entry.pluginId);
    if (!schedules) {
      schedules = new Map();
      this.#byPlugin.set(entry.pluginId, schedules);
    }
    schedules.set(entry.scheduleId, snapshot(entry));
    return Promise.resolve();
  }

  cancel(pluginId: string, scheduleId: string): Promise<boolean> {
    const schedules = this.#byPlugin.get(pluginId);
    const removed = schedules?.delete(scheduleId) ?? false;
    if (schedules?.size === 0) this.#byPlugin.delete(pluginId);
    return Promise.resolve(removed);
  }

  list(pluginId?: string): Promise<ScheduleEntry[]> {
    const groups = pluginId === undefined ? [...this.#byPlugin.values()] : [this.#byPlugin.get(pluginId) ?? new Map()];
    return Promise.resolve(groups.flatMap((schedules) => [...schedules.values()].map(snapshot)));
  }
}

/** A copy with its own payload bytes, so neither the caller nor a reader can change what the store holds. */
function snapshot(entry: ScheduleEntry): ScheduleEntry {
  const payload = entry.payload.slice();
  return entry.kind === "once"
    ? Object.freeze({ ...entry, payload })
    : Object.freeze({ ...entry, payload, spec: Object.freeze({ ...entry.spec }) });
}
