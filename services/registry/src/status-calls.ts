/**
 * Cluster-wide call figures from the workers' statistics reports (WorkerStatsReport on
 * `tonearm.<ns>.stats.worker.*`, published by services/worker/src/stats-publisher.ts).
 *
 * Each report holds a worker's counts since it started. The reports of one worker over the window
 * give its calls in the window (latest minus the one at the window's start), on that worker's own
 * clock; the figures of all live workers are summed. A worker silent for three of its intervals, or
 * one that said it is stopping, is left out, its counts with it.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { subjects, type Bus, type BusLogger, type Subscription } from "@tonearm/bus";
import { bus as busProto } from "@tonearm/proto";
import type { CallFigures, MethodStatus, WorkerStatus } from "./status-model.js";

export const DEFAULT_WINDOW_MS = 60_000;
/** Reports a worker may miss before it counts as gone. */
const MISSED_REPORTS = 3;

export interface CallStatisticsOptions {
  /** The span of rates and percentiles. @default 60000 */
  readonly windowMs?: number;
  /** The registry's clock, for liveness. @default Date.now */
  readonly now?: () => number;
}

interface Counts {
  readonly capability: string;
  readonly method: string;
  readonly plugin: string;
  readonly calls: number;
  readonly errors: number;
  /** Calls per latency bucket, by the bucket's upper bound in seconds (Infinity last). */
  readonly buckets: ReadonlyMap<number, number>;
}

interface Sample {
  /** The worker's clock. */
  readonly atMs: number;
  readonly methods: ReadonlyMap<string, Counts>;
}

interface WorkerHistory {
  readonly id: string;
  readonly sinceMs: number;
  intervalMs: number;
  /** The registry's clock. */
  receivedMs: number;
  /** Oldest first; the first one is at or before the window's start when the history reaches that far. */
  samples: Sample[];
}

/** A method's figures before they are summed into a plugin's. */
interface Contribution {
  readonly calls: number;
  readonly errors: number;
  readonly windowCalls: number;
  readonly windowErrors: number;
  /** Seconds the window actually spans for this worker; 0 when it has one sample only. */
  readonly windowSeconds: number;
  readonly windowBuckets: ReadonlyMap<number, number>;
}

export class CallStatistics {
  readonly windowMs: number;
  readonly #now: () => number;
  readonly #workers = new Map<string, WorkerHistory>();

  constructor(options: CallStatisticsOptions = {}) {
    this.windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
    this.#now = options.now ?? Date.now;
  }

  /** Takes in one report; older or repeated reports of a worker change nothing. */
  record(report: busProto.WorkerStatsReport): void {
    const id = report.workerId;
    if (report.stopping) {
      this.#workers.delete(id);
      return;
    }
    const sinceMs = Number(report.sinceMs);
    const sample: Sample = { atMs: Number(report.atMs), methods: countsOf(report) };
    let history = this.#workers.get(id);
    if (history === undefined || history.sinceMs !== sinceMs) {
      // Counting started at `sinceMs` from zero: when that is inside the window, it is the baseline.
      const samples = sinceMs < sample.atMs && sample.atMs - sinceMs <= this.windowMs ? [{ atMs: sinceMs, methods: new Map() }] : [];
      history = { id, sinceMs, intervalMs: report.intervalMs, receivedMs: 0, samples };
      this.#workers.set(id, history);
    }
    const latest = history.samples.at(-1);
    if (latest !== undefined && sample.atMs <= latest.atMs) return;
    history.samples.push(sample);
    history.intervalMs = report.intervalMs;
    history.receivedMs = this.#now();
    // Keep the newest sample at or before the window's start, and everything after it.
    const windowStart = sample.atMs - this.windowMs;
    let first = 0;
    while (first + 1 < history.samples.length && (history.samples[first + 1] as Sample).atMs <= windowStart) first++;
    if (first > 0) history.samples = history.samples.slice(first);
  }

  workers(): WorkerStatus[] {
    return this.#live().map((w) => ({
      id: w.id,
      sinceMs: w.sinceMs,
      lastReportMs: w.receivedMs,
      intervalMs: w.intervalMs,
      calls: sum([...latestOf(w).methods.values()].map((c) => c.calls)),
    }));
  }

  /** Per plugin id: its figures and those of each method called, methods sorted. */
  plugins(): Map<string, { calls: CallFigures; methods: MethodStatus[] }> {
    const byMethod = new Map<string, { counts: Counts; parts: Contribution[] }>();
    for (const worker of this.#live()) {
      const latest = latestOf(worker);
      const baseline = worker.samples[0] as Sample;
      const windowSeconds = (latest.atMs - baseline.atMs) / 1000;
      for (const [key, counts] of latest.methods) {
        const before = baseline === latest ? undefined : baseline.methods.get(key);
        const entry = byMethod.get(key) ?? { counts, parts: [] };
        entry.parts.push({
          calls: counts.calls,
          errors: counts.errors,
          windowCalls: baseline === latest ? 0 : counts.calls - (before?.calls ?? 0),
          windowErrors: baseline === latest ? 0 : counts.errors - (before?.errors ?? 0),
          windowSeconds,
          windowBuckets: baseline === latest ? new Map() : difference(counts.buckets, before?.buckets),
        });
        byMethod.set(key, entry);
      }
    }
    const plugins = new Map<string, { calls: CallFigures; methods: MethodStatus[]; parts: Contribution[] }>();
    for (const { counts, parts } of byMethod.values()) {
      const plugin = plugins.get(counts.plugin) ?? { calls: figures([]), methods: [], parts: [] };
      plugin.methods.push({ capability: counts.capability, method: counts.method, ...figures(parts) });
      plugin.parts.push(...parts);
      plugins.set(counts.plugin, plugin);
    }
    const result = new Map<string, { calls: CallFigures; methods: MethodStatus[] }>();
    for (const [id, plugin] of plugins) {
      plugin.methods.sort((a, b) => (a.capability + "." + a.method < b.capability + "." + b.method ? -1 : 1));
      result.set(id, { calls: figures(plugin.parts), methods: plugin.methods });
    }
    return result;
  }

  #live(): WorkerHistory[] {
    const now = this.#now();
    for (const [id, worker] of this.#workers) {
      if (now - worker.receivedMs > MISSED_REPORTS * worker.intervalMs) this.#workers.delete(id);
    }
    return [...this.#workers.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  }
}

/** The figures when none of the workers called the plugin. */
export const NO_CALLS: CallFigures = Object.freeze({ calls: 0, errors: 0, callsPerSecond: null, errorsPerSecond: null, errorRatio: null, p50Ms: null, p99Ms: null });

/** Feeds every worker report of `namespace` into `statistics` until unsubscribed. */
export function followWorkerStats(bus: Bus, namespace: string, statistics: CallStatistics, logger: BusLogger): Subscription {
  return bus.subscribe(subjects(namespace).allWorkerStats, {}, (message) => {
    let report: busProto.WorkerStatsReport;
    try {
      report = fromBinary(busProto.WorkerStatsReportSchema, message.data);
    } catch (err) {
      logger.warn({ subject: message.subject, err: err instanceof Error ? err.message : String(err) }, "ignoring a worker statistics report that does not decode");
      return;
    }
    statistics.record(report);
  });
}

/**
 * The value below which a fraction `q` of the calls fell, interpolated inside its bucket as
 * Prometheus' histogram_quantile does; a value in the last (+Inf) bucket reads as the largest bound.
 */
export function quantileMs(buckets: ReadonlyMap<number, number>, q: number): number | null {
  const sorted = [...buckets.entries()].filter(([, count]) => count > 0).sort(([a], [b]) => a - b);
  const bounds = [...buckets.keys()].filter(Number.isFinite).sort((a, b) => a - b);
  const total = sum(sorted.map(([, count]) => count));
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (const [upper, count] of sorted) {
    if (below + count >= rank) {
      if (!Number.isFinite(upper)) return (bounds.at(-1) ?? 0) * 1000;
      const lower = [...bounds].reverse().find((bound) => bound < upper) ?? 0;
      return (lower + ((upper - lower) * (rank - below)) / count) * 1000;
    }
    below += count;
  }
  return (bounds.at(-1) ?? 0) * 1000;
}

function figures(parts: readonly Contribution[]): CallFigures {
  if (parts.length === 0) return NO_CALLS;
  const timed = parts.filter((p) => p.windowSeconds > 0);
  const windowCalls = sum(timed.map((p) => p.windowCalls));
  const windowErrors = sum(timed.map((p) => p.windowErrors));
  const buckets = new Map<number, number>();
  for (const part of timed) {
    for (const [bound, count] of part.windowBuckets) buckets.set(bound, (buckets.get(bound) ?? 0) + count);
  }
  return {
    calls: sum(parts.map((p) => p.calls)),
    errors: sum(parts.map((p) => p.errors)),
    callsPerSecond: timed.length === 0 ? null : sum(timed.map((p) => p.windowCalls / p.windowSeconds)),
    errorsPerSecond: timed.length === 0 ? null : sum(timed.map((p) => p.windowErrors / p.windowSeconds)),
    errorRatio: windowCalls === 0 ? null : windowErrors / windowCalls,
    p50Ms: quantileMs(buckets, 0.5),
    p99Ms: quantileMs(buckets, 0.99),
  };
}

function countsOf(report: busProto.WorkerStatsReport): Map<string, Counts> {
  const bounds = [...report.bucketBoundsSeconds, Infinity];
  const methods = new Map<string, Counts>();
  for (const m of report.methods) {
    const buckets = new Map<number, number>();
    m.bucketCounts.forEach((count, i) => {
      const bound = bounds[i];
      if (bound !== undefined && count > 0n) buckets.set(bound, Number(count));
    });
    // Every bound is known even where no call fell, so percentiles interpolate from the right lower bound.
    for (const bound of bounds) if (!buckets.has(bound)) buckets.set(bound, 0);
    methods.set(JSON.stringify([m.plugin, m.capability, m.method]), {
      plugin: m.plugin,
      capability: m.capability,
      method: m.method,
      calls: Number(m.calls),
      errors: Number(m.errors),
      buckets,
    });
  }
  return methods;
}

function latestOf(worker: WorkerHistory): Sample {
  return worker.samples.at(-1) as Sample;
}

function difference(now: ReadonlyMap<number, number>, before: ReadonlyMap<number, number> | undefined): Map<number, number> {
  const result = new Map<number, number>();
  for (const [bound, count] of now) result.set(bound, Math.max(0, count - (before?.get(bound) ?? 0)));
  return result;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
