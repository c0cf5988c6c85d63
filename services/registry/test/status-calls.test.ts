// Call figures of the status page from workers' statistics reports: totals, rates over the window,
// latency percentiles, and workers that stop or fall silent.
import { create } from "@bufbuild/protobuf";
import { bus as busProto } from "@tonearm/proto";
import { describe, expect, it } from "vitest";
import { CallStatistics, quantileMs } from "../src/status-calls.js";

const BOUNDS = [0.001, 0.01, 0.1, 1];

interface MethodInit {
  plugin?: string;
  method?: string;
  calls: number;
  errors?: number;
  /** Per bucket of BOUNDS, then +Inf. */
  buckets: number[];
}

function report(workerId: string, sinceMs: number, atMs: number, methods: MethodInit[], extra: Partial<{ stopping: boolean; intervalMs: number }> = {}) {
  return create(busProto.WorkerStatsReportSchema, {
    workerId,
    sinceMs: BigInt(sinceMs),
    atMs: BigInt(atMs),
    intervalMs: extra.intervalMs ?? 2_000,
    stopping: extra.stopping ?? false,
    bucketBoundsSeconds: BOUNDS,
    methods: methods.map((m) =>
      create(busProto.MethodCallStatsSchema, {
        plugin: m.plugin ?? "p",
        capability: "MetadataAgent",
        method: m.method ?? "GetArtistMBID",
        calls: BigInt(m.calls),
        errors: BigInt(m.errors ?? 0),
        bucketCounts: m.buckets.map(BigInt),
      }),
    ),
  });
}

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, set: (ms: number) => void (now = ms) };
}

describe("call statistics", () => {
  it("turns one worker's reports into totals, rates and percentiles over the window", () => {
    const time = clock();
    const stats = new CallStatistics({ windowMs: 10_000, now: time.now });
    // Counting began at 1_000_000; 10 calls 2 s later, all in (1 ms, 10 ms].
    stats.record(report("w", 1_000_000, 1_002_000, [{ calls: 10, errors: 1, buckets: [0, 10, 0, 0, 0] }]));
    const p = stats.plugins().get("p");
    expect(p?.calls).toMatchObject({ calls: 10, errors: 1, callsPerSecond: 5, errorsPerSecond: 0.5, errorRatio: 0.1 });
    // Interpolated inside (1 ms, 10 ms]: half way and 99% of the way.
    expect(p?.calls.p50Ms).toBeCloseTo(5.5, 6);
    expect(p?.calls.p99Ms).toBeCloseTo(9.91, 6);
    expect(p?.methods).toHaveLength(1);
    expect(p?.methods[0]).toMatchObject({ capability: "MetadataAgent", method: "GetArtistMBID", calls: 10 });
  });

  it("counts only the calls inside the window once the history is longer", () => {
    const time = clock();
    const stats = new CallStatistics({ windowMs: 10_000, now: time.now });
    const since = 1_000_000;
    // 100 slow calls early on, then 20 fast ones in the last 10 s.
    stats.record(report("w", since, since + 2_000, [{ calls: 100, buckets: [0, 0, 0, 100, 0] }]));
    stats.record(report("w", since, since + 12_000, [{ calls: 100, buckets: [0, 0, 0, 100, 0] }]));
    time.set(since + 22_000);
    stats.record(report("w", since, since + 22_000, [{ calls: 120, buckets: [20, 0, 0, 100, 0] }]));
    const figures = stats.plugins().get("p")?.calls;
    expect(figures).toMatchObject({ calls: 120, callsPerSecond: 2, errorRatio: 0 });
    expect(figures?.p99Ms).toBeLessThanOrEqual(1);
  });

  it("sums live workers and leaves out one that stopped or fell silent", () => {
    const time = clock();
    const stats = new CallStatistics({ windowMs: 60_000, now: time.now });
    stats.record(report("a", 1_000_000, 1_004_000, [{ calls: 8, buckets: [8, 0, 0, 0, 0] }]));
    stats.record(report("b", 1_002_000, 1_004_000, [{ calls: 4, errors: 4, buckets: [0, 0, 0, 0, 4] }, { plugin: "q", calls: 1, buckets: [1, 0, 0, 0, 0] }]));
    const both = stats.plugins().get("p")?.calls;
    expect(both).toMatchObject({ calls: 12, errors: 4, callsPerSecond: 4, errorsPerSecond: 2 });
    // A third of the calls sit past the last bound: p99 reads as the largest bound.
    expect(both?.p99Ms).toBe(1_000);
    expect(stats.workers().map((w) => [w.id, w.calls])).toEqual([
      ["a", 8],
      ["b", 5],
    ]);

    stats.record(report("b", 1_002_000, 1_005_000, [], { stopping: true }));
    expect(stats.plugins().get("p")?.calls).toMatchObject({ calls: 8, errors: 0 });
    expect(stats.plugins().has("q")).toBe(false);

    // Three missed 2 s reports later, worker a is gone too.
    time.set(1_000_000 + 6_001);
    expect(stats.workers()).toEqual([]);
    expect(stats.plugins().size).toBe(0);
  });

  it("has no rate before a worker that started long ago has reported twice", () => {
    const time = clock(10_000_000);
    const stats = new CallStatistics({ windowMs: 60_000, now: time.now });
    stats.record(report("old", 1_000, 10_000_000, [{ calls: 50, buckets: [50, 0, 0, 0, 0] }]));
    expect(stats.plugins().get("p")?.calls).toMatchObject({ calls: 50, callsPerSecond: null, p50Ms: null });
    time.set(10_002_000);
    stats.record(report("old", 1_000, 10_002_000, [{ calls: 54, buckets: [54, 0, 0, 0, 0] }]));
    expect(stats.plugins().get("p")?.calls).toMatchObject({ calls: 54, callsPerSecond: 2 });
  });

  it("ignores a report older than the one it holds, and starts over when the worker restarts", () => {
    const time = clock();
    const stats = new CallStatistics({ windowMs: 60_000, now: time.now });
    stats.record(report("w", 1_000_000, 1_004_000, [{ calls: 8, buckets: [8, 0, 0, 0, 0] }]));
    stats.record(report("w", 1_000_000, 1_002_000, [{ calls: 2, buckets: [2, 0, 0, 0, 0] }]));
    expect(stats.plugins().get("p")?.calls.calls).toBe(8);
    stats.record(report("w", 1_003_000, 1_004_500, [{ calls: 3, buckets: [3, 0, 0, 0, 0] }]));
    expect(stats.plugins().get("p")?.calls).toMatchObject({ calls: 3, callsPerSecond: 2 });
  });
});

describe("quantileMs", () => {
  it("interpolates inside the bucket where the rank falls, from the bucket's lower bound", () => {
    const buckets = new Map([
      [0.001, 0],
      [0.01, 0],
      [0.1, 4],
      [Infinity, 0],
    ]);
    expect(quantileMs(buckets, 0.5)).toBeCloseTo(55, 6);
    expect(quantileMs(buckets, 0.25)).toBeCloseTo(32.5, 6);
    expect(quantileMs(new Map([[0.1, 0]]), 0.5)).toBeNull();
  });
});
