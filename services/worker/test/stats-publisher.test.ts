// The worker's call statistics on the bus: what a status page reads to show calls cluster-wide.
import { fromBinary } from "@bufbuild/protobuf";
import { subjects, type Bus } from "@tonearm/bus";
import { bus as busProto } from "@tonearm/proto";
import { createMetrics, recordPluginCall } from "@tonearm/telemetry";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startStatsPublisher } from "../src/stats-publisher.js";
import { Publisher, artistMbid, callError, drainWorkers, eventually, memoryBus, startTestWorker } from "./support.js";

type Report = busProto.WorkerStatsReport;

let bus: Bus;
let reports: Report[];

beforeEach(() => {
  bus = memoryBus("stats");
  reports = [];
  bus.subscribe(subjects("stats").allWorkerStats, {}, (message) => void reports.push(fromBinary(busProto.WorkerStatsReportSchema, message.data)));
});

afterEach(async () => {
  await drainWorkers();
  await bus.close();
});

const methodOf = (report: Report | undefined, plugin: string, method: string) =>
  report?.methods.find((m) => m.plugin === plugin && m.method === method);

describe("worker call statistics", () => {
  it("reports calls, errors and per-bucket latencies counted since the publisher started", async () => {
    const metrics = createMetrics();
    // Counted before the start: not this worker's.
    recordPluginCall(metrics, { pluginId: "p", capability: "MetadataAgent", method: "GetArtistMBID", durationMs: 3 });
    const publisher = await startStatsPublisher({ bus, namespace: "stats", metrics, workerId: "w.1", intervalMs: 60_000 });
    recordPluginCall(metrics, { pluginId: "p", capability: "MetadataAgent", method: "GetArtistMBID", durationMs: 0.3 });
    recordPluginCall(metrics, { pluginId: "p", capability: "MetadataAgent", method: "GetArtistMBID", durationMs: 0.4 });
    recordPluginCall(metrics, { pluginId: "p", capability: "MetadataAgent", method: "GetArtistMBID", durationMs: 40_000, code: "timeout" });
    await publisher.publish();
    await eventually(() => reports.length === 2, "two reports");

    const [first, second] = reports as [Report, Report];
    expect(first.methods).toEqual([]);
    expect(second).toMatchObject({ workerId: "w.1", intervalMs: 60_000, stopping: false });
    expect(second.sinceMs).toBe(first.sinceMs);
    const counts = methodOf(second, "p", "GetArtistMBID");
    expect(counts).toMatchObject({ capability: "MetadataAgent", calls: 3n, errors: 1n });
    // Two calls in the (0.1 ms, 0.5 ms] bucket, one past the last bound (+Inf).
    const bounds = second.bucketBoundsSeconds;
    expect(counts?.bucketCounts).toHaveLength(bounds.length + 1);
    expect(counts?.bucketCounts[bounds.indexOf(0.0005)]).toBe(2n);
    expect(counts?.bucketCounts.at(-1)).toBe(1n);
    expect(counts?.bucketCounts.reduce((a, b) => a + b, 0n)).toBe(3n);
    expect(counts?.durationSumSeconds).toBeCloseTo(40.0007, 6);
  });

  it("publishes every interval and marks the last report when it stops", async () => {
    const publisher = await startStatsPublisher({ bus, namespace: "stats", metrics: createMetrics(), workerId: "w2", intervalMs: 20 });
    await eventually(() => reports.length >= 3, "periodic reports");
    await publisher.stop();
    await publisher.stop();
    const last = reports.at(-1);
    expect(last?.stopping).toBe(true);
    const count = reports.length;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(reports).toHaveLength(count);
    expect(reports.filter((r) => r.stopping)).toHaveLength(1);
  });

  it("is started by a worker, which counts its calls even without metrics handed in", async () => {
    const publisher = await Publisher.open(bus);
    await publisher.fixture("plugins", "fake_artist_agent");
    const worker = await startTestWorker(bus, { statsIntervalMs: 20 });
    expect(await artistMbid(bus, "fake_artist_agent")).toEqual({ mbid: "1234567890" });
    await callError(artistMbid(bus, "fake_artist_agent", ""));
    await eventually(() => methodOf(reports.at(-1), "fake_artist_agent", "GetArtistMBID")?.calls === 2n, "both calls reported");
    expect(methodOf(reports.at(-1), "fake_artist_agent", "GetArtistMBID")?.errors).toBe(1n);
    await worker.drain();
    expect(reports.at(-1)?.stopping).toBe(true);
  });
});
