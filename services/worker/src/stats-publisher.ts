/**
 * A worker's periodic call statistics, so a status page sees calls cluster-wide: every interval the
 * worker publishes what its plugin calls did since it started, read from the process's metrics
 * (`tonearm_plugin_calls_total` and `tonearm_plugin_call_duration_seconds`).
 *
 *   Subject  tonearm.<ns>.stats.worker.<workerId> (publish, no reply)
 *   Data     tonearm.bus.v1.WorkerStatsReport: per plugin method, calls, errors and latency buckets
 *            counted since `since_ms`, so a lost report loses nothing; `stopping` on the last one
 *
 * Counts are cumulative: whoever reads two reports of one worker gets the calls between them.
 */
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { subjects, type Bus } from "@tonearm/bus";
import { bus as busProto } from "@tonearm/proto";
import { CALL_OK, type Logger, type Metrics } from "@tonearm/telemetry";

export const DEFAULT_STATS_INTERVAL_MS = 2_000;

export interface StatsPublisherOptions {
  readonly bus: Bus;
  readonly namespace: string;
  /** Where the counts come from: the metrics the worker records its calls in. */
  readonly metrics: Metrics;
  /** @default `<hostname>-<pid>-<random>` */
  readonly workerId?: string;
  /** @default 2000 */
  readonly intervalMs?: number;
  readonly logger?: Logger;
}

export interface StatsPublisher {
  readonly workerId: string;
  /** Publishes a report now, besides the periodic ones. */
  publish(): Promise<void>;
  /** Stops the timer and publishes the last report, marked `stopping`. Idempotent. */
  stop(): Promise<void>;
}

/** Takes the starting counts, publishes a first report, then one every interval. */
export async function startStatsPublisher(options: StatsPublisherOptions): Promise<StatsPublisher> {
  const { bus, metrics, logger } = options;
  const workerId = options.workerId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
  const intervalMs = options.intervalMs ?? DEFAULT_STATS_INTERVAL_MS;
  if (!(intervalMs > 0)) throw new RangeError(`the stats interval must be positive, got ${intervalMs}`);
  const subject = subjects(options.namespace).workerStats(workerId);
  const sinceMs = Date.now();
  // Calls counted in these metrics before this worker started are not this worker's.
  const baseline = await readCallCounts(metrics);

  const publish = async (stopping: boolean): Promise<void> => {
    const current = await readCallCounts(metrics);
    const report = create(busProto.WorkerStatsReportSchema, {
      workerId,
      sinceMs: BigInt(sinceMs),
      atMs: BigInt(Date.now()),
      intervalMs,
      bucketBoundsSeconds: current.bounds,
      methods: [...current.methods.values()]
        .map((method) => subtract(method, baseline.methods.get(keyOf(method))))
        .filter((method) => method.calls > 0n),
      stopping,
    });
    try {
      bus.publish(subject, toBinary(busProto.WorkerStatsReportSchema, report));
    } catch (err) {
      logger?.warn({ err: err instanceof Error ? err.message : String(err) }, "could not publish the worker's call statistics");
    }
  };

  let ticking = false;
  const timer = setInterval(() => {
    // A slow collection never piles up behind itself.
    if (ticking) return;
    ticking = true;
    void publish(false).finally(() => (ticking = false));
  }, intervalMs);
  timer.unref();
  await publish(false);

  let stopping: Promise<void> | undefined;
  return {
    workerId,
    publish: () => publish(false),
    stop() {
      stopping ??= (async () => {
        clearInterval(timer);
        await publish(true);
        // The bus may close right after: the last report must have left.
        await bus.flush().catch(() => undefined);
      })();
      return stopping;
    },
  };
}

type MethodCounts = busProto.MethodCallStats;

interface CallCounts {
  /** Finite upper bounds, ascending. */
  readonly bounds: number[];
  readonly methods: Map<string, MethodCounts>;
}

const keyOf = (m: { plugin: string; capability: string; method: string }): string => JSON.stringify([m.plugin, m.capability, m.method]);

/** Cumulative counts per plugin method, latency buckets made per-bucket (not cumulative). */
async function readCallCounts(metrics: Metrics): Promise<CallCounts> {
  const [calls, durations] = await Promise.all([metrics.pluginCalls.get(), metrics.pluginCallDuration.get()]);
  const methods = new Map<string, MethodCounts>();
  const entry = (labels: Partial<Record<string, string | number>>): MethodCounts => {
    const target = { plugin: String(labels.plugin ?? ""), capability: String(labels.capability ?? ""), method: String(labels.method ?? "") };
    const key = keyOf(target);
    let counts = methods.get(key);
    if (counts === undefined) {
      counts = create(busProto.MethodCallStatsSchema, target);
      methods.set(key, counts);
    }
    return counts;
  };
  for (const { labels, value } of calls.values) {
    const counts = entry(labels);
    counts.calls += BigInt(value);
    if (labels.code !== CALL_OK) counts.errors += BigInt(value);
  }
  const bounds = new Set<number>();
  const cumulative = new Map<string, Map<number, number>>();
  for (const { labels, value, metricName } of durations.values) {
    if (metricName?.endsWith("_sum") === true) {
      entry(labels).durationSumSeconds = value;
    } else if (metricName?.endsWith("_bucket") === true) {
      const { le: upperBound } = labels as { le?: string | number };
      const le = upperBound === "+Inf" ? Infinity : Number(upperBound);
      if (Number.isFinite(le)) bounds.add(le);
      const key = keyOf(entry(labels));
      const perBound = cumulative.get(key) ?? new Map<number, number>();
      perBound.set(le, value);
      cumulative.set(key, perBound);
    }
  }
  const sortedBounds = [...bounds].sort((a, b) => a - b);
  for (const [key, perBound] of cumulative) {
    const counts = methods.get(key);
    if (counts === undefined) continue;
    let below = 0;
    counts.bucketCounts = [...sortedBounds, Infinity].map((bound) => {
      const upTo = perBound.get(bound) ?? below;
      const inBucket = Math.max(0, upTo - below);
      below = upTo;
      return BigInt(inBucket);
    });
  }
  return { bounds: sortedBounds, methods };
}

function subtract(current: MethodCounts, before: MethodCounts | undefined): MethodCounts {
  if (before === undefined) return current;
  return create(busProto.MethodCallStatsSchema, {
    plugin: current.plugin,
    capability: current.capability,
    method: current.method,
    calls: current.calls - before.calls,
    errors: current.errors - before.errors,
    durationSumSeconds: current.durationSumSeconds - before.durationSumSeconds,
    bucketCounts: current.bucketCounts.map((count, i) => count - (before.bucketCounts[i] ?? 0n)),
  });
}
