/**
 * `tonearm start`: the chosen roles (all by default) in one process. Embedded mode runs them on the
 * in-memory bus, cache and schedule timers; cluster mode on NATS (JetStream) and Redis. Both wire
 * the same services. One operations port answers /healthz, /readyz, /metrics and plugin calls
 * over HTTP (`POST /v1/call/<plugin>/<Capability>/<Method>`); with the registry role, also the
 * status page (`/status`, `/status.json`).
 */
import { PluginState, connectNatsBus, createMemoryBus, recordCapabilities, scrobbleStatus, type Bus } from "@tonearm/bus";
import { pluginSecretsFor, toNatsOptions, toRedisOptions, toRuntimeOptions, type TonearmConfig } from "@tonearm/config";
import { createBusGatewayClient, startGateway } from "@tonearm/gateway";
import {
  createBullMqScheduleDriver,
  createMemoryCacheStore,
  createMemoryScheduleDriver,
  createRedisCacheStore,
  hostSettings,
  type CacheStore,
  type ScheduleDriver,
} from "@tonearm/host";
import { startRegistry, startStatusPage } from "@tonearm/registry";
import { createSchedulerService } from "@tonearm/scheduler";
import { createLogger, createMetrics, startMetricsServer, type ExtraRoutes, type Logger } from "@tonearm/telemetry";
import { startWorker, watchPluginCatalog } from "@tonearm/worker";
import { Redis } from "ioredis";
import { httpCallRoutes } from "./http-calls.js";
import { httpScrobbleRoutes } from "./http-scrobbles.js";

export const ROLES = ["registry", "worker", "scheduler", "gateway"] as const;
export type Role = (typeof ROLES)[number];

export function parseRoles(text: string | undefined): Set<Role> {
  if (text === undefined || text.trim() === "" || text.trim() === "all") return new Set(ROLES);
  const roles = new Set<Role>();
  for (const name of text.split(",").map((r) => r.trim())) {
    if (!(ROLES as readonly string[]).includes(name)) throw new Error(`unknown role "${name}"; roles are ${ROLES.join(", ")} (or all)`);
    roles.add(name as Role);
  }
  return roles;
}

interface Drivers {
  readonly bus: Bus;
  readonly cache: CacheStore;
  readonly schedules: ScheduleDriver;
  close(): Promise<void>;
}

async function openDrivers(config: TonearmConfig, logger: Logger): Promise<Drivers> {
  if (config.mode === "embedded") {
    const bus = createMemoryBus({ namespace: config.namespace });
    const cache = createMemoryCacheStore(config.cache);
    const schedules = createMemoryScheduleDriver();
    return { bus, cache, schedules, close: async () => void (await Promise.all([cache.close(), schedules.close(), bus.close()])) };
  }
  const redisOptions = await toRedisOptions(config.redis);
  const bus = await connectNatsBus({ ...toNatsOptions(config.nats), namespace: config.namespace, name: "tonearm", logger });
  const redis = new Redis(redisOptions.url, { ...redisOptions, maxRetriesPerRequest: 3, lazyConnect: false });
  const cache = createRedisCacheStore(redis, { namespace: config.namespace, ...config.cache });
  const schedules = createBullMqScheduleDriver({
    connection: redisOptions,
    namespace: config.namespace,
    onError: (err) => logger.warn({ err: err.message }, "schedule driver"),
  });
  return {
    bus,
    cache,
    schedules,
    // Every role holds the schedule driver's Redis connection (plugins schedule from any worker),
    // not only the scheduler: closing it here lets every process end after SIGTERM.
    async close() {
      await schedules.close();
      await cache.close();
      redis.disconnect();
      await bus.close();
    },
  };
}

export interface StartOptions {
  readonly roles: Set<Role>;
  /** Operations port; 0 picks a free one. */
  readonly port: number;
  readonly host?: string;
}

export interface RunningTonearm {
  readonly port: number;
  readonly roles: ReadonlySet<Role>;
  /** Stops taking work, lets calls in flight finish, then closes everything. */
  stop(): Promise<void>;
}

export async function startTonearm(config: TonearmConfig, options: StartOptions): Promise<RunningTonearm> {
  const logger = createLogger({ level: config.log.level, format: config.log.format, name: "tonearm" });
  const metrics = createMetrics();
  const drivers = await openDrivers(config, logger);
  const { bus } = drivers;
  const stops: (() => Promise<void>)[] = [];
  const notReady = new Set<string>();
  let statusRoutes: ExtraRoutes | undefined;

  try {
    if (options.roles.has("gateway")) {
      const gateway = await startGateway({ bus, namespace: config.namespace, logger: logger.child({ role: "gateway" }) });
      stops.push(() => gateway.stop());
    }
    if (options.roles.has("worker")) {
      notReady.add("worker starting");
      const worker = await startWorker({
        bus,
        namespace: config.namespace,
        runtimeOptions: toRuntimeOptions(config.runtime),
        hostSettings: hostSettings(config, (message) => logger.warn(message)),
        hostDrivers: { cache: drivers.cache, schedules: drivers.schedules, websocket: createBusGatewayClient(bus, config.namespace) },
        agents: config.agents,
        scrobbles: config.scrobbles,
        secrets: pluginSecretsFor(config),
        logger: logger.child({ role: "worker" }),
        metrics,
      });
      notReady.delete("worker starting");
      stops.push(() => worker.drain());
    }
    if (options.roles.has("scheduler")) {
      const catalog = watchPluginCatalog(bus, config.namespace);
      await catalog.ready;
      const scheduler = createSchedulerService({
        bus,
        namespace: config.namespace,
        driver: drivers.schedules,
        capabilities: (id) => {
          const record = catalog.get(id);
          return record && recordCapabilities(record);
        },
        logger: logger.child({ role: "scheduler" }),
        metrics,
      });
      const unwatch = catalog.onChange((record) => {
        if (record.state === PluginState.REMOVED) void scheduler.pluginRemoved(record.id);
      });
      await scheduler.start();
      stops.push(async () => {
        unwatch();
        await scheduler.stop();
        catalog.close();
      });
    }
    if (options.roles.has("registry")) {
      notReady.add("registry starting");
      const registry = await startRegistry({ bus, config, logger: logger.child({ role: "registry" }) });
      notReady.delete("registry starting");
      stops.push(() => registry.stop());
      // The status page (GET /status, /status.json) is served wherever a registry runs.
      const status = await startStatusPage({
        bus,
        namespace: config.namespace,
        registry,
        scrobbles: (records) => scrobbleStatus(bus, records),
        logger: logger.child({ role: "status" }),
      });
      stops.push(() => Promise.resolve(status.close()));
      statusRoutes = status.routes;
    }
  } catch (err) {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await drivers.close();
    throw err;
  }

  const scrobbleRoutes = httpScrobbleRoutes(bus);
  stops.unshift(() => Promise.resolve(scrobbleRoutes.close()));
  const server = await startMetricsServer(metrics, options.port, {
    readiness: () => (notReady.size > 0 ? [...notReady].join(", ") : undefined),
    routes: withStatus(statusRoutes, firstOf(scrobbleRoutes.routes, httpCallRoutes(bus, config.namespace))),
    ...(options.host ? { host: options.host } : {}),
  });

  let stopping: Promise<void> | undefined;
  return {
    port: server.port,
    roles: options.roles,
    stop() {
      stopping ??= (async () => {
        // Registry first (no new versions), workers last (calls in flight finish).
        for (const stop of stops.reverse()) {
          await stop().catch((err: unknown) => logger.warn({ err: (err as Error).message }, "stopping a role failed"));
        }
        await server.close();
        await drivers.close();
      })();
      return stopping;
    },
  };
}

function withStatus(status: ExtraRoutes | undefined, calls: ExtraRoutes): ExtraRoutes {
  if (status === undefined) return calls;
  return async (request, response) => (await status(request, response)) || calls(request, response);
}

function firstOf(...routes: ExtraRoutes[]): ExtraRoutes {
  return async (request, response) => {
    for (const route of routes) if (await route(request, response)) return true;
    return false;
  };
}


