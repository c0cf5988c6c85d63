/**
 * What the status page shows, as `/status.json` serves it (the HTML page renders the same object).
 * Times are epoch milliseconds; durations are milliseconds; `null` means "not known yet".
 *
 * Versioned by `v`: fields are only ever added within one version.
 */

export const STATUS_VERSION = 1;

/** A part of the page whose source may be missing (no scheduler running, no scrobble consumers…). */
export type Availability<T> =
  | { readonly available: true; readonly items: readonly T[]; /** Items left out past the page's limit. */ readonly omitted: number }
  | { readonly available: false; /** Why, in words an operator can act on. */ readonly reason: string };

export interface CallFigures {
  /** Calls finished since the live workers started, failures included. */
  readonly calls: number;
  readonly errors: number;
  /** Over the last `windowSeconds`; null until a worker has reported twice. */
  readonly callsPerSecond: number | null;
  readonly errorsPerSecond: number | null;
  /** Errors per call over the window (0–1); null without calls in the window. */
  readonly errorRatio: number | null;
  /** Latency percentiles over the window, in milliseconds; null without calls in the window. */
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

export interface MethodStatus extends CallFigures {
  readonly capability: string;
  readonly method: string;
}

export interface PermissionStatus {
  /** The manifest's permission key, e.g. `http`. */
  readonly key: string;
  /** The manifest's reason for it. */
  readonly reason: string;
  /** What else the manifest says (allowed URLs, users…), one line each. */
  readonly details: readonly string[];
}

export interface PluginStatus {
  readonly id: string;
  /** READY, LOADING, FAILED, DISABLED or REMOVED. */
  readonly state: string;
  /** Why the plugin FAILED; empty otherwise. */
  readonly error: string;
  /** Hex SHA-256 of plugin.wasm. */
  readonly sha256: string;
  /** The record's version: increases with every change the registry makes. */
  readonly recordVersion: number;
  readonly updatedAtMs: number;
  /** From the manifest; null when it does not parse. */
  readonly manifest: { readonly name: string; readonly version: string; readonly author: string; readonly description: string; readonly website: string } | null;
  readonly capabilities: readonly string[];
  readonly permissions: readonly PermissionStatus[];
  readonly calls: CallFigures;
  readonly methods: readonly MethodStatus[];
}

export interface WorkerStatus {
  readonly id: string;
  /** When the worker started counting. */
  readonly sinceMs: number;
  /** When its latest report arrived (the registry's clock). */
  readonly lastReportMs: number;
  readonly intervalMs: number;
  readonly calls: number;
}

export interface ScheduleStatus {
  readonly plugin: string;
  readonly scheduleId: string;
  readonly kind: "once" | "cron" | "every";
  /** The plugin's cron expression; empty for one-time schedules. */
  readonly expression: string;
  /** Null when no firing is due any more. */
  readonly nextFireMs: number | null;
  readonly createdAtMs: number;
}

export interface ConnectionStatus {
  readonly plugin: string;
  readonly connectionId: string;
  /** The gateway owning the socket. */
  readonly gateway: string;
  /** False when that gateway has stopped renewing its heartbeat (its sockets are about to be reported lost). */
  readonly gatewayAlive: boolean;
}

/** Lag of one Scrobbler plugin's consumer. */
export interface ScrobbleLag {
  readonly plugin: string;
  /** Events not yet taken by the plugin: not delivered yet, or delivered and not acknowledged. */
  readonly pending: number;
  /** Of those, events delivered more than once. */
  readonly redelivered: number;
  /** Events given up on, waiting in the dead-letter stream. */
  readonly deadLettered: number;
  /** The plugin is gone or not READY: its consumer keeps its place, its events wait. */
  readonly parked: boolean;
  /** Whether a consumer exists for the plugin yet. */
  readonly consumer?: boolean;
}

export interface RegistryStatus {
  /** Whether the registry serving this page holds the lease. */
  readonly serving: boolean;
  /** The lease holder, from the leases bucket; null when nobody holds it. */
  readonly activeRegistry: string | null;
  readonly leaseExpiresAtMs: number | null;
}

export interface StatusSnapshot {
  readonly v: typeof STATUS_VERSION;
  readonly namespace: string;
  readonly generatedAtMs: number;
  /** The span rates and percentiles are computed over. */
  readonly windowSeconds: number;
  readonly registry: RegistryStatus;
  readonly plugins: readonly PluginStatus[];
  readonly workers: readonly WorkerStatus[];
  readonly schedules: Availability<ScheduleStatus>;
  readonly websockets: Availability<ConnectionStatus>;
  readonly scrobbles: Availability<ScrobbleLag>;
}
