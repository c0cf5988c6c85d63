/**
 * The scheduler role: fires the schedules plugins made (a `ScheduleDriver`: BullMQ in a cluster,
 * timers in memory) as calls of their `SchedulerCallback.OnSchedulerCallback`, through any worker.
 * A failed callback rejects, so the driver retries it with backoff and finally records it. It also
 * answers listings of the schedules (schedule-listing.ts).
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { callPlugin, type Bus, type Subscription } from "@tonearm/bus";
import type { ScheduleDriver, ScheduleFiring } from "@tonearm/host";
import { api } from "@tonearm/proto";
import type { Logger, Metrics } from "@tonearm/telemetry";
import { serveScheduleListing } from "./schedule-listing.js";

/** What the scheduler needs to know of a plugin: its declared capabilities, or undefined when unknown. */
export type CapabilityLookup = (pluginId: string) => readonly string[] | undefined;

export interface SchedulerServiceOptions {
  readonly bus: Bus;
  readonly namespace: string;
  readonly driver: ScheduleDriver;
  readonly capabilities: CapabilityLookup;
  readonly callTimeoutMs?: number;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
}

export interface SchedulerService {
  start(): Promise<void>;
  /** Cancels every schedule of a plugin that is gone. */
  pluginRemoved(pluginId: string): Promise<void>;
  stop(): Promise<void>;
}

export function createSchedulerService(options: SchedulerServiceOptions): SchedulerService {
  const { bus, namespace, driver, logger, metrics } = options;

  async function fire(firing: ScheduleFiring): Promise<void> {
    const capabilities = options.capabilities(firing.pluginId);
    const log = logger?.child({ plugin: firing.pluginId, scheduleId: firing.scheduleId, attempt: firing.attempt });
    if (!capabilities?.includes("SchedulerCallback")) {
      log?.warn(capabilities ? "plugin does not declare SchedulerCallback; schedule dropped" : "plugin is not loaded; schedule dropped");
      metrics?.schedulerFires.inc({ plugin: firing.pluginId, outcome: "dropped" });
      return;
    }
    const request = create(api.SchedulerCallbackRequestSchema, {
      scheduleId: firing.scheduleId,
      payload: firing.payload,
      isRecurring: firing.isRecurring,
    });
    try {
      const bytes = await callPlugin(bus, namespace, {
        plugin: firing.pluginId,
        capability: "SchedulerCallback",
        method: "OnSchedulerCallback",
        request: toBinary(api.SchedulerCallbackRequestSchema, request),
        caller: "scheduler",
        ...(options.callTimeoutMs ? { timeoutMs: options.callTimeoutMs } : {}),
      });
      const response = fromBinary(api.SchedulerCallbackResponseSchema, bytes);
      if (response.error !== "") throw new Error(response.error);
      metrics?.schedulerFires.inc({ plugin: firing.pluginId, outcome: "ok" });
    } catch (err) {
      metrics?.schedulerFires.inc({ plugin: firing.pluginId, outcome: "failed" });
      log?.warn({ err: (err as Error).message }, "scheduler callback failed");
      throw err;
    }
  }

  let listing: Subscription | undefined;
  return {
    async start() {
      await driver.start(fire);
      listing = serveScheduleListing(bus, namespace, driver, logger);
    },
    async pluginRemoved(pluginId) {
      const cancelled = await driver.cancelPlugin(pluginId);
      if (cancelled > 0) logger?.info({ plugin: pluginId, cancelled }, "cancelled the schedules of a removed plugin");
    },
    async stop() {
      await listing?.drain();
      await driver.close();
    },
  };
}
