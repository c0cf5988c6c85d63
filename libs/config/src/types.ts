/** Where Tonearm runs its services: all in one process, or spread over NATS and Redis. */
export type Mode = "embedded" | "cluster";

/** `[log] format`. */
export type LogFormat = "json" | "pretty";

/**
 * Limits of the plugin runtime, as written under [runtime]. A field left unset takes the runtime's
 * own default; `toRuntimeOptions` turns these into the runtime's options.
 */
export interface RuntimeSettings {
  /** Worker threads kept running. Runtime default: the number of CPUs. */
  readonly threadsMin?: number;
  /** Worker threads at most. Runtime default: max(4, 4 × threadsMin). */
  readonly threadsMax?: number;
  /** Worker threads one plugin may hold at once. Runtime default: half of threadsMax, rounded up. */
  readonly maxThreadsPerPlugin?: number;
  /** Threads above threadsMin idle this long are stopped. Runtime default 60 000. */
  readonly threadIdleTtlMs?: number;
  /** Idle instances kept per plugin and thread. Runtime default 8. */
  readonly maxIdleInstances?: number;
  /** Calls of one plugin running at once. Runtime default 10. */
  readonly maxConcurrentCalls?: number;
  /** How long a call waits for a free slot of its plugin. Runtime default 5 000. */
  readonly acquireTimeoutMs?: number;
  /** Calls of one plugin waiting for a slot at most; more are refused as `unavailable`. Runtime default 100. */
  readonly maxQueuedCalls?: number;
  /** Idle instances unused this long are dropped. Runtime default 60 000. */
  readonly instanceIdleTtlMs?: number;
  /** Deadline of one plugin call, queueing included. Runtime default 30 000. */
  readonly callTimeoutMs?: number;
  /** Linear-memory ceiling per instance, in MiB. Runtime default 256. */
  readonly memoryLimitMiB?: number;
  /** Largest response a plugin may return, in bytes. Runtime default 16 MiB. */
  readonly maxResultBytes?: number;
}

/** [nats]: where the cluster's NATS is and how this process authenticates to it. File paths are absolute. */
export interface NatsSettings {
  servers: string[];
  /** With `password`; at most one kind of credentials (user/password, token, credsFile, nkeySeedFile). */
  user?: string;
  password?: string;
  token?: string;
  credsFile?: string;
  nkeySeedFile?: string;
  /** Reply inbox prefix; unset: `_INBOX.tonearm.<ns>[.<user>]`. */
  inboxPrefix?: string;
  /** PEM files; any of them makes TLS required. */
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
}

/** [redis]: where Redis is and how this process authenticates to it. File paths are absolute. */
export interface RedisSettings {
  url: string;
  /** ACL user, with `password`. */
  username?: string;
  password?: string;
  /** PEM files; any of them connects with TLS. */
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
}

export interface ScrobbleSettings {
  /** Submits and dead letters kept, and parked consumers kept, this long. @default 7 days */
  readonly retentionMs: number;
  /** Epoch ms a new plugin's consumer starts at; undefined: at events published after it appears. */
  readonly backfillFromMs?: number;
  /** @default 10 */
  readonly maxDeliveries: number;
  /** @default 5000 */
  readonly retryInitialMs: number;
  /** @default 240000 */
  readonly retryMaxMs: number;
  /** @default 1000 */
  readonly maxInFlight: number;
}

/** The configuration of a Tonearm process: the TOML file, overridden by the environment. */
export interface TonearmConfig {
  /** Separates clusters sharing one NATS and one Redis; part of subjects and keys. @default "default" */
  readonly namespace: string;
  /** @default "embedded", or "cluster" when NATS_URL or REDIS_URL is set */
  readonly mode: Mode;
  readonly plugins: {
    /** Absolute path of the plugins folder. @default "./plugins" next to the config file (or the cwd) */
    folder: string;
    /** Navidrome's Plugins.Enabled: false loads no plugin. @default true */
    enabled: boolean;
    /** Reload plugins whose files change. @default true */
    autoReload: boolean;
    /** Quiet time after the last change before a reload. @default 500 */
    reloadDebounceMs: number;
    /**
     * Plugin settings to treat as secret besides those whose names look secret, as `<key>` (every
     * plugin) or `<pluginId>.<key>`; see `isSecretSetting`. @default []
     */
    secretKeys: readonly string[];
  };
  /** Settings per plugin id: keys lower-cased, values as strings, as plugins receive them. */
  readonly pluginConfig: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Navidrome's BaseURL (a URL or only a path). @default "" */
  readonly baseUrl: string;
  /** Navidrome's ShareURL, base of artwork URLs. @default "" */
  readonly shareUrl: string;
  /** Navidrome's Agents, split: metadata agents in the order they are asked. @default [] */
  readonly agents: readonly string[];
  readonly artwork: {
    /**
     * HS256 key of artwork URLs. Empty means none was configured: the process should generate a
     * random one at start and log a warning (URLs then stop working after a restart).
     * @default ""
     */
    secret: string;
  };
  /** The Subsonic server the subsonicapi host service forwards to; unset when not configured. */
  readonly subsonic: { url?: string; username?: string; password?: string };
  /** @default { servers: ["nats://127.0.0.1:4222"] }, no credentials */
  readonly nats: NatsSettings;
  /** @default { url: "redis://127.0.0.1:6379" }, no credentials */
  readonly redis: RedisSettings;
  readonly runtime: RuntimeSettings;
  /** Outbound HTTP of plugins. @default { timeoutMs: 10 000, maxResponseBytes: 10 MiB } */
  readonly http: { timeoutMs: number; maxResponseBytes: number };
  /** Scrobble delivery to Scrobbler plugins. */
  readonly scrobbles: ScrobbleSettings;
  /** Per-plugin cache quota; a missing field means no limit. */
  readonly cache: { maxEntries?: number; maxBytes?: number };
  /** @default { level: "info" } */
  readonly log: {
    readonly level: string;
    /** How lines are written: JSON objects for collectors, or coloured text for a terminal. */
    readonly format: LogFormat;
  };
  /** Port of the Prometheus endpoint; no metrics server when unset. */
  readonly metrics: { port?: number };
  readonly security: {
    /**
     * Key sealing secret plugin settings on the bus, 32 bytes in base64; the same on every process
     * of a cluster. Empty: a key of the process alone (embedded mode). @default ""
     */
    clusterKey: string;
  };
}
