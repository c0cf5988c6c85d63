import { randomBytes } from "node:crypto";
import { request } from "node:http";
import { createPluginSecrets } from "@tonearm/config";
import { afterEach, describe, expect, it } from "vitest";
import { createMetrics, recordPluginCall, startMetricsServer, type MetricsServer } from "@tonearm/telemetry";

describe("createMetrics", () => {
  it("exposes each instrument's series after recording", async () => {
    const metrics = createMetrics();
    recordPluginCall(metrics, { pluginId: "lastfm", capability: "MetadataAgent", method: "GetArtistMBID", durationMs: 12 });
    recordPluginCall(metrics, {
      pluginId: "lastfm",
      capability: "MetadataAgent",
      method: "GetArtistMBID",
      durationMs: 30_000,
      code: "timeout",
    });
    metrics.hostCalls.inc({ plugin: "lastfm", function: "http_get", outcome: "ok" });
    metrics.runtimeThreads.set(4);
    metrics.busRequests.inc({ subject_kind: "call", outcome: "ok" }, 2);
    metrics.scrobbleEvents.inc({ plugin: "listenbrainz", outcome: "parked" });
    metrics.schedulerFires.inc({ plugin: "ticker", outcome: "ok" });

    const text = await metrics.registry.metrics();
    const call = 'plugin="lastfm",capability="MetadataAgent",method="GetArtistMBID"';
    expect(text).toContain(`tonearm_plugin_calls_total{${call},code="ok"} 1`);
    expect(text).toContain(`tonearm_plugin_calls_total{${call},code="timeout"} 1`);
    expect(text).toContain(`tonearm_plugin_call_duration_seconds_count{${call}} 2`);
    expect(text).toContain(`tonearm_plugin_call_duration_seconds_sum{${call}} 30.012`);
    expect(text).toContain(`tonearm_plugin_call_duration_seconds_bucket{le="0.025",${call}} 1`);
    expect(text).toContain('tonearm_host_calls_total{plugin="lastfm",function="http_get",outcome="ok"} 1');
    expect(text).toContain("tonearm_runtime_threads 4");
    expect(text).toContain('tonearm_bus_requests_total{subject_kind="call",outcome="ok"} 2');
    expect(text).toContain('tonearm_scrobble_events_total{plugin="listenbrainz",outcome="parked"} 1');
    expect(text).toContain('tonearm_scheduler_fires_total{plugin="ticker",outcome="ok"} 1');
    // Process metrics come from the same registry, with the same prefix.
    expect(text).toMatch(/^tonearm_process_cpu_user_seconds_total \d/m);
  });

  it("gives each instance its own registry and honours the prefix", async () => {
    const first = createMetrics({ prefix: "a_" });
    const second = createMetrics({ prefix: "a_" });
    first.runtimeThreads.set(1);
    second.runtimeThreads.set(2);
    expect(await first.registry.metrics()).toMatch(/^a_runtime_threads 1$/m);
    expect(await second.registry.metrics()).toMatch(/^a_runtime_threads 2$/m);
    expect(await first.registry.metrics()).not.toContain("tonearm_");
  });
});

describe("startMetricsServer", () => {
  let server: MetricsServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  function get(port: number, path: string, method = "GET"): Promise<{ status: number; type: string; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path, method }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"]), body }));
      });
      req.on("error", reject);
      req.end();
    });
  }

  it("answers GET /metrics with the exposition text on an ephemeral port", async () => {
    const metrics = createMetrics();
    metrics.busRequests.inc({ subject_kind: "agents", outcome: "ok" });
    server = await startMetricsServer(metrics, 0);
    expect(server.port).toBeGreaterThan(0);
    const response = await get(server.port, "/metrics");
    expect(response.status).toBe(200);
    expect(response.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(response.body).toContain('tonearm_bus_requests_total{subject_kind="agents",outcome="ok"} 1');
    expect((await get(server.port, "/metrics?x=1")).status).toBe(200);
  });

  it("answers 404 elsewhere and 405 for other methods", async () => {
    server = await startMetricsServer(createMetrics(), 0);
    expect((await get(server.port, "/")).status).toBe(404);
    expect((await get(server.port, "/metrics/extra")).status).toBe(404);
    expect((await get(server.port, "/metrics", "POST")).status).toBe(405);
  });

  it("answers /healthz always and /readyz by the readiness probe", async () => {
    let reason: string | undefined = "loading plugins";
    server = await startMetricsServer(createMetrics(), 0, { readiness: () => reason });
    expect(await get(server.port, "/healthz")).toMatchObject({ status: 200, body: "ok\n" });
    expect(await get(server.port, "/readyz")).toMatchObject({ status: 503, body: "loading plugins\n" });
    reason = undefined;
    expect(await get(server.port, "/readyz")).toMatchObject({ status: 200, body: "ready\n" });
  });

  it("hands other paths to extra routes before answering 404", async () => {
    server = await startMetricsServer(createMetrics(), 0, {
      routes: (request, response) => {
        if (request.url !== "/v1/ping") return Promise.resolve(false);
        response.end("pong\n");
        return Promise.resolve(true);
      },
    });
    expect(await get(server.port, "/v1/ping")).toMatchObject({ status: 200, body: "pong\n" });
    expect((await get(server.port, "/v1/other")).status).toBe(404);
  });

  it("stops listening on close, and close may be called twice", async () => {
    const started = await startMetricsServer(createMetrics(), 0);
    await started.close();
    await started.close();
    await expect(get(started.port, "/metrics")).rejects.toThrow(/ECONNREFUSED/);
  });

  it("fails to start on a port already in use", async () => {
    server = await startMetricsServer(createMetrics(), 0);
    await expect(startMetricsServer(createMetrics(), server.port)).rejects.toThrow(/EADDRINUSE/);
  });
});

describe("secrets in metrics", () => {
  it("scrubs a known secret value from the exposition, whichever label carries it", async () => {
    createPluginSecrets({ clusterKey: randomBytes(32).toString("base64") }).seal("p", { apikey: "label-leak-424242" });
    const metrics = createMetrics();
    metrics.hostCalls.inc({ plugin: "p", function: "http_get", outcome: "label-leak-424242" });
    const server = await startMetricsServer(metrics, 0, { host: "127.0.0.1" });
    try {
      const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      expect(text).toContain('tonearm_host_calls_total{plugin="p",function="http_get",outcome="[redacted]"} 1');
      expect(text).not.toContain("label-leak-424242");
    } finally {
      await server.close();
    }
  });
});
