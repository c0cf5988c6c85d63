/**
 * Prometheus instruments of a Tonearm process. Each `Metrics` owns its registry (never prom-client's
 * global one), so several services, or tests, in one process do not collide.
 *
 * Labels carry plugin ids, capabilities, methods and outcomes: small, known sets. Never put user
 * names, URLs or error texts in a label.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface MetricsOptions {
  /** Prefix of every series name, default process metrics included. @default "tonearm_" */
  readonly prefix?: string;
}

/** Label value of `pluginCalls.code` for a call that succeeded. */
export const CALL_OK = "ok";

export interface Metrics {
  readonly registry: Registry;
  /** Plugin calls finished; `code` is "ok" or the error code (timeout, not_found, plugin_error, …). */
  readonly pluginCalls: Counter<"plugin" | "capability" | "method" | "code">;
  /** Time from accepting a plugin call to its answer, in seconds. */
  readonly pluginCallDuration: Histogram<"plugin" | "capability" | "method">;
  /** Host functions called by plugins and answered on the event loop; `outcome` ok or error. */
  readonly hostCalls: Counter<"plugin" | "function" | "outcome">;
  /** Worker threads running plugin code. */
  readonly runtimeThreads: Gauge;
  /** Of those, threads busy with a call. */
  readonly runtimeThreadsBusy: Gauge;
  /** Calls waiting for a free thread or instance. */
  readonly runtimeCallsQueued: Gauge;
  /** Plugin versions loaded in this process. */
  readonly pluginsLoaded: Gauge;
  /** Calls of a plugin running or waiting in this process. */
  readonly pluginCallsInFlight: Gauge<"plugin">;
  /** Requests answered on the bus; `subject_kind` e.g. call, agents; `outcome` ok or an error code. */
  readonly busRequests: Counter<"subject_kind" | "outcome">;
  /** Scrobble and now-playing events handed to a plugin; `outcome` e.g. ok, error, parked. */
  readonly scrobbleEvents: Counter<"plugin" | "outcome">;
  /** Schedules fired into a plugin; `outcome` ok or an error code. */
  readonly schedulerFires: Counter<"plugin" | "outcome">;
  /**
   * Registers a function that sets the runtime gauges; it runs at every scrape, so the gauges show
   * the state of that moment. Returns the function that unregisters it.
   */
  addGaugeSource(refresh: () => void): () => void;
}

/** Plugin calls last from microseconds (warm instance) to the 30 s deadline. */
const CALL_DURATION_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const prefix = options.prefix ?? "tonearm_";
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix });
  const registers = [registry];
  const gaugeSources = new Set<() => void>();
  // Every runtime gauge refreshes them all: cheap, and whichever the registry collects first wins.
  const collect = (): void => gaugeSources.forEach((refresh) => refresh());
  return {
    registry,
    pluginCalls: new Counter({
      name: `${prefix}plugin_calls_total`,
      help: "Plugin calls finished, by outcome code (ok on success).",
      labelNames: ["plugin", "capability", "method", "code"],
      registers,
    }),
    pluginCallDuration: new Histogram({
      name: `${prefix}plugin_call_duration_seconds`,
      help: "Duration of plugin calls, queueing included.",
      labelNames: ["plugin", "capability", "method"],
      buckets: CALL_DURATION_BUCKETS,
      registers,
    }),
    hostCalls: new Counter({
      name: `${prefix}host_calls_total`,
      help: "Host functions called by plugins (those answered on the event loop), by outcome.",
      labelNames: ["plugin", "function", "outcome"],
      registers,
    }),
    runtimeThreads: new Gauge({
      name: `${prefix}runtime_threads`,
      collect,
      help: "Worker threads running plugin code.",
      registers,
    }),
    runtimeThreadsBusy: new Gauge({
      name: `${prefix}runtime_threads_busy`,
      collect,
      help: "Worker threads busy with a plugin call.",
      registers,
    }),
    runtimeCallsQueued: new Gauge({
      name: `${prefix}runtime_calls_queued`,
      collect,
      help: "Plugin calls waiting for a free thread or instance.",
      registers,
    }),
    pluginsLoaded: new Gauge({
      name: `${prefix}plugins_loaded`,
      collect,
      help: "Plugin versions loaded in this process.",
      registers,
    }),
    pluginCallsInFlight: new Gauge({
      name: `${prefix}plugin_calls_in_flight`,
      collect,
      help: "Calls of a plugin running or waiting in this process.",
      labelNames: ["plugin"],
      registers,
    }),
    busRequests: new Counter({
      name: `${prefix}bus_requests_total`,
      help: "Requests answered on the message bus.",
      labelNames: ["subject_kind", "outcome"],
      registers,
    }),
    scrobbleEvents: new Counter({
      name: `${prefix}scrobble_events_total`,
      help: "Scrobble and now-playing events delivered to plugins.",
      labelNames: ["plugin", "outcome"],
      registers,
    }),
    addGaugeSource: (refresh) => {
      gaugeSources.add(refresh);
      return () => gaugeSources.delete(refresh);
    },
    schedulerFires: new Counter({
      name: `${prefix}scheduler_fires_total`,
      help: "Scheduled callbacks fired into plugins.",
      labelNames: ["plugin", "outcome"],
      registers,
    }),
  };
}

/** A finished plugin call, in the shape the runtime reports it. */
export interface PluginCallRecord {
  readonly pluginId: string;
  readonly capability: string;
  readonly method: string;
  readonly durationMs: number;
  /** The error code; undefined on success. */
  readonly code?: string;
}

/** The label objects of one plugin method's series, and of its calls by code. */
interface CallSeries {
  readonly labels: Readonly<Record<"plugin" | "capability" | "method", string>>;
  readonly byCode: Map<string, Readonly<Record<"plugin" | "capability" | "method" | "code", string>>>;
}

/**
 * Label objects made once per plugin method and code: every call records two series, and building
 * their labels anew each time cost more than prom-client's update. The sets are as small as the
 * series themselves.
 */
const callSeries = new WeakMap<Metrics, Map<string, CallSeries>>();

/** Counts a finished call and records its duration. */
export function recordPluginCall(metrics: Metrics, call: PluginCallRecord): void {
  let ofMetrics = callSeries.get(metrics);
  if (ofMetrics === undefined) callSeries.set(metrics, (ofMetrics = new Map<string, CallSeries>()));
  const key = `${call.pluginId}\u0000${call.capability}\u0000${call.method}`;
  let series = ofMetrics.get(key);
  if (series === undefined) {
    series = { labels: { plugin: call.pluginId, capability: call.capability, method: call.method }, byCode: new Map() };
    ofMetrics.set(key, series);
  }
  const code = call.code ?? CALL_OK;
  let counted = series.byCode.get(code);
  if (counted === undefined) series.byCode.set(code, (counted = { ...series.labels, code }));
  metrics.pluginCalls.inc(counted);
  metrics.pluginCallDuration.observe(series.labels, call.durationMs / 1000);
}
