import { availableParallelism } from "node:os";
import type { ThreadInit } from "./thread-protocol.js";
import type { HostHandler } from "./thread-pool.js";

/** Limits and sizes of the runtime. Every field is optional; defaults follow Navidrome where it has one. */
export interface RuntimeOptions {
  readonly threads?: {
    /** Threads kept running. @default os.availableParallelism() */
    readonly min?: number;
    /** Threads at most; a guest blocked in a host call holds its thread. @default max(4, 4 × min) */
    readonly max?: number;
    /**
     * Threads one plugin may hold at once (its calls running, looping or blocked in host calls), so
     * one slow or hostile plugin never holds every thread. @default max(1, ⌈max / 2⌉)
     */
    readonly maxPerPlugin?: number;
    /** Extra threads idle this long are stopped. @default 60 000 */
    readonly idleTtlMs?: number;
  };
  readonly pool?: {
    /** Idle instances kept per plugin version and thread. @default 8 */
    readonly maxIdle?: number;
    /** Calls of one plugin running at once. @default 10 */
    readonly maxConcurrent?: number;
    /** How long a call waits for one of those slots. @default 5 000 */
    readonly acquireTimeoutMs?: number;
    /** Calls of one plugin waiting for a slot at most; more are refused with `unavailable` at once. @default 100 */
    readonly maxQueued?: number;
    /** Idle instances unused this long are dropped. @default 60 000 */
    readonly idleTtlMs?: number;
  };
  /** Deadline of a call, queueing included; a thread past it is terminated. @default 30 000 */
  readonly callTimeoutMs?: number;
  /** Linear-memory ceiling per instance, in bytes (rounded down to 64 KiB pages). @default 256 MiB */
  readonly memoryLimitBytes?: number;
  /** Largest response a plugin may return, in bytes. @default 16 MiB */
  readonly maxResultSize?: number;
  /** Answers `env` imports; see `RuntimeHost`. Without one, every host import fails. */
  readonly host?: RuntimeHost;
  /** Receives each line a plugin writes to stderr. @default drop */
  readonly onPluginLog?: (pluginId: string, line: string) => void;
  /** Told about every finished call, e.g. to record metrics. */
  readonly onCallComplete?: (event: CallCompleteEvent) => void;
}

/** Where host imports are answered: on the event loop, and optionally inside each thread. */
export interface RuntimeHost {
  readonly handleHostCall: HostHandler;
  /** A module whose default export builds a `ThreadHost` from `data` (see thread-protocol). */
  readonly threadHost?: ThreadInit["threadHost"];
}

export interface CallCompleteEvent {
  readonly pluginId: string;
  readonly capability: string;
  readonly method: string;
  readonly durationMs: number;
  /** The error code; undefined on success. */
  readonly code?: string;
}

export interface CompiledRuntimeOptions {
  readonly minThreads: number;
  readonly maxThreads: number;
  readonly maxThreadsPerPlugin: number;
  readonly threadIdleTtlMs: number;
  readonly maxIdle: number;
  readonly maxConcurrent: number;
  readonly acquireTimeoutMs: number;
  readonly maxQueued: number;
  readonly idleTtlMs: number;
  readonly callTimeoutMs: number;
  readonly memoryLimitPages: number;
  readonly maxResultSize: number;
}

const MIB = 1024 * 1024;

export function compileOptions(o: RuntimeOptions): CompiledRuntimeOptions {
  const minThreads = positive(o.threads?.min ?? availableParallelism(), "threads.min");
  const maxThreads = Math.max(minThreads, positive(o.threads?.max ?? Math.max(4, 4 * minThreads), "threads.max"));
  return {
    minThreads,
    maxThreads,
    maxThreadsPerPlugin: Math.min(maxThreads, positive(o.threads?.maxPerPlugin ?? Math.max(1, Math.ceil(maxThreads / 2)), "threads.maxPerPlugin")),
    threadIdleTtlMs: positive(o.threads?.idleTtlMs ?? 60_000, "threads.idleTtlMs"),
    maxIdle: nonNegative(o.pool?.maxIdle ?? 8, "pool.maxIdle"),
    maxConcurrent: positive(o.pool?.maxConcurrent ?? 10, "pool.maxConcurrent"),
    acquireTimeoutMs: positive(o.pool?.acquireTimeoutMs ?? 5_000, "pool.acquireTimeoutMs"),
    maxQueued: nonNegative(o.pool?.maxQueued ?? 100, "pool.maxQueued"),
    idleTtlMs: positive(o.pool?.idleTtlMs ?? 60_000, "pool.idleTtlMs"),
    callTimeoutMs: positive(o.callTimeoutMs ?? 30_000, "callTimeoutMs"),
    memoryLimitPages: Math.max(1, Math.floor(positive(o.memoryLimitBytes ?? 256 * MIB, "memoryLimitBytes") / 65_536)),
    maxResultSize: positive(o.maxResultSize ?? 16 * MIB, "maxResultSize"),
  };
}

function positive(n: number, name: string): number {
  if (!Number.isFinite(n) || n <= 0) throw new RangeError(`runtime option ${name} must be a positive number, got ${n}`);
  return n;
}

function nonNegative(n: number, name: string): number {
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`runtime option ${name} must be zero or more, got ${n}`);
  return n;
}
