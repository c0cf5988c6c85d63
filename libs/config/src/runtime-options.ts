import type { RuntimeSettings } from "./types.js";

/**
 * The limit fields of @tonearm/runtime's `RuntimeOptions`, restated here so configuration does not
 * depend on the runtime package; a value of this type can be passed (spread) as runtime options.
 */
export interface RuntimeLimitOptions {
  readonly threads?: { readonly min?: number; readonly max?: number; readonly maxPerPlugin?: number; readonly idleTtlMs?: number };
  readonly pool?: {
    readonly maxIdle?: number;
    readonly maxConcurrent?: number;
    readonly acquireTimeoutMs?: number;
    readonly maxQueued?: number;
    readonly idleTtlMs?: number;
  };
  readonly callTimeoutMs?: number;
  readonly memoryLimitBytes?: number;
  readonly maxResultSize?: number;
}

const MIB = 1024 * 1024;

/** Maps [runtime] settings onto runtime options; unset settings stay unset so the runtime's defaults apply. */
export function toRuntimeOptions(settings: RuntimeSettings): RuntimeLimitOptions {
  const threads = defined({
    min: settings.threadsMin,
    max: settings.threadsMax,
    maxPerPlugin: settings.maxThreadsPerPlugin,
    idleTtlMs: settings.threadIdleTtlMs,
  });
  const pool = defined({
    maxIdle: settings.maxIdleInstances,
    maxConcurrent: settings.maxConcurrentCalls,
    acquireTimeoutMs: settings.acquireTimeoutMs,
    maxQueued: settings.maxQueuedCalls,
    idleTtlMs: settings.instanceIdleTtlMs,
  });
  return defined({
    threads: Object.keys(threads).length > 0 ? threads : undefined,
    pool: Object.keys(pool).length > 0 ? pool : undefined,
    callTimeoutMs: settings.callTimeoutMs,
    memoryLimitBytes: settings.memoryLimitMiB === undefined ? undefined : settings.memoryLimitMiB * MIB,
    maxResultSize: settings.maxResultBytes,
  });
}

type Defined<T> = { [K in keyof T]?: Exclude<T[K], undefined> };

/** The object without its undefined fields, so options show only what was configured. */
function defined<T extends object>(fields: T): Defined<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Defined<T>;
}
