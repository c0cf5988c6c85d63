// The call protocol end to end on the in-memory bus: protobuf and JSON, every error code the
// worker answers, deadlines, trace ids in the logs, and the registry's OnInit while LOADING.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { CallHeader, callPlugin, decodeCallReply, encodeCallRequest, subjects, type Bus } from "@tonearm/bus";
import { api } from "@tonearm/proto";
import { createMetrics, formatTraceparent, newTrace } from "@tonearm/telemetry";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  PluginState,
  Publisher,
  artistMbid,
  callError,
  capturingLogger,
  drainWorkers,
  mbidRequest,
  memoryBus,
  startTestWorker,
} from "./support.js";

let bus: Bus;
let publisher: Publisher;

beforeEach(async () => {
  bus = memoryBus("calls");
  publisher = await Publisher.open(bus);
});

afterEach(async () => {
  await drainWorkers();
  await bus.close();
});

describe("the call protocol", () => {
  it("answers protobuf requests with the plugin's response bytes", async () => {
    await publisher.fixture("plugins", "fake_artist_agent");
    await startTestWorker(bus);
    const reply = await callPlugin(bus, "calls", {
      plugin: "fake_artist_agent",
      capability: "MetadataAgent",
      method: "GetArtistMBID",
      request: mbidRequest("The Beatles"),
    });
    expect(fromBinary(api.ArtistMBIDResponseSchema, reply).mbid).toBe("1234567890");
  });

  it("answers JSON requests in JSON", async () => {
    await publisher.fixture("plugins", "fake_album_agent");
    await startTestWorker(bus);
    const reply = await callPlugin(bus, "calls", {
      plugin: "fake_album_agent",
      capability: "MetadataAgent",
      method: "GetAlbumInfo",
      json: { name: "Abbey Road", artist: "The Beatles" },
    });
    expect(reply).toEqual({
      info: { name: "Abbey Road", mbid: "album-mbid-123", description: "This is a test album description", url: "https://example.com/album" },
    });
  });

  it("hands the plugin its configuration through OnInit and keeps serving", async () => {
    await publisher.fixture("plugins", "fake_init_service", { config: { returnError: "response_error" } });
    await startTestWorker(bus);
    const request = toBinary(api.InitRequestSchema, create(api.InitRequestSchema, { config: { returnError: "response_error" } }));
    const reply = await callPlugin(bus, "calls", { plugin: "fake_init_service", capability: "LifecycleManagement", method: "OnInit", request });
    expect(fromBinary(api.InitResponseSchema, reply).error).toBe("initialization failed with response error");
  });

  it("logs each call with its plugin and the caller's trace id", async () => {
    const { logger, lines } = capturingLogger();
    await publisher.fixture("plugins", "fake_artist_agent");
    await startTestWorker(bus, { logger });
    const trace = newTrace();
    await callPlugin(bus, "calls", {
      plugin: "fake_artist_agent",
      capability: "MetadataAgent",
      method: "GetArtistMBID",
      json: { name: "" },
      traceparent: formatTraceparent(trace),
      caller: "music-server",
    }).catch(() => undefined);
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: "call failed", plugin: "fake_artist_agent", traceId: trace.traceId, caller: "music-server", code: "not_found" }),
    );
  });

  it("counts calls per plugin, method and outcome", async () => {
    const metrics = createMetrics();
    await publisher.fixture("plugins", "fake_artist_agent");
    await publisher.fixture("plugins", "fake_scrobbler", { state: PluginState.DISABLED });
    await startTestWorker(bus, { metrics });
    await artistMbid(bus, "fake_artist_agent");
    await artistMbid(bus, "fake_artist_agent");
    await callError(artistMbid(bus, "fake_artist_agent", ""));
    await callError(callPlugin(bus, "calls", { plugin: "fake_scrobbler", capability: "Scrobbler", method: "IsAuthorized", json: {} }));
    const calls = (await metrics.pluginCalls.get()).values;
    const count = (plugin: string, method: string, code: string): number | undefined =>
      calls.find((v) => v.labels.plugin === plugin && v.labels.method === method && v.labels.code === code)?.value;
    expect(count("fake_artist_agent", "GetArtistMBID", "ok")).toBe(2);
    expect(count("fake_artist_agent", "GetArtistMBID", "not_found")).toBe(1);
    expect(count("fake_scrobbler", "IsAuthorized", "unavailable")).toBe(1);
    const requests = (await metrics.busRequests.get()).values;
    expect(requests.find((v) => v.labels.subject_kind === "call" && v.labels.outcome === "ok")?.value).toBe(2);
  });

  it("counts the host functions a plugin calls", async () => {
    const metrics = createMetrics();
    await publisher.fixture("plugins", "host_probe");
    await startTestWorker(bus, { metrics });
    const probe = (name: string, id: string, mbid: string) =>
      callPlugin(bus, "calls", { plugin: "host_probe", capability: "MetadataAgent", method: "GetArtistBiography", json: { name, id, mbid } });
    expect(await probe("cache.set.string", "k", "v")).toEqual({ biography: "ok" });
    expect(await probe("cache.get.string", "k", "")).toEqual({ biography: "v" });
    const counted = (await metrics.hostCalls.get()).values.filter((v) => v.labels.plugin === "host_probe" && v.labels.outcome === "ok");
    expect(counted.map((v) => [v.labels.function, v.value]).sort()).toEqual([
      ["get_string", 1],
      ["set_string", 1],
    ]);
  });

  it("shows threads, loaded plugins and calls in flight as they are at the scrape", async () => {
    const metrics = createMetrics();
    await publisher.fixture("plugins", "fake_artist_agent");
    await startTestWorker(bus, { metrics, runtimeOptions: { threads: { min: 2, max: 4 } } });
    const scrape = async () => await metrics.registry.metrics();
    expect(await scrape()).toMatch(/^tonearm_plugins_loaded 0$/m);
    await artistMbid(bus, "fake_artist_agent");
    const text = await scrape();
    expect(text).toMatch(/^tonearm_plugins_loaded 1$/m);
    expect(text).toMatch(/^tonearm_runtime_threads 2$/m);
    expect(text).toMatch(/^tonearm_runtime_threads_busy 0$/m);
    expect(text).toMatch(/^tonearm_plugin_calls_in_flight\{plugin="fake_artist_agent"\} 0$/m);
  });
});

describe("refusals", () => {
  it("answers not_found for a plugin without a record, a removed one, and a plugin's own plugin:not_found", async () => {
    const removed = await publisher.fixture("plugins", "fake_album_agent");
    await publisher.update(removed, { state: PluginState.REMOVED });
    await publisher.fixture("plugins", "fake_artist_agent");
    await startTestWorker(bus);
    expect(await callError(artistMbid(bus, "nobody"))).toMatchObject({ code: "not_found", message: "plugin not found: nobody" });
    expect(await callError(artistMbid(bus, "fake_album_agent"))).toMatchObject({ code: "not_found" });
    expect(await callError(artistMbid(bus, "fake_artist_agent", ""))).toMatchObject({ code: "not_found", message: "plugin:not_found" });
  });

  it("answers load_error with the record's error for a FAILED plugin", async () => {
    await publisher.fixture("plugins", "fake_artist_agent", { state: PluginState.FAILED, error: "initialization failed with Go error" });
    await startTestWorker(bus);
    expect(await callError(artistMbid(bus, "fake_artist_agent"))).toMatchObject({
      code: "load_error",
      message: "initialization failed with Go error",
    });
  });

  it("answers unavailable for a DISABLED plugin and for one still LOADING", async () => {
    await publisher.fixture("plugins", "fake_artist_agent", { state: PluginState.DISABLED });
    await publisher.fixture("plugins", "fake_album_agent", { state: PluginState.LOADING });
    await startTestWorker(bus);
    expect(await callError(artistMbid(bus, "fake_artist_agent"))).toMatchObject({ code: "unavailable", message: "plugin fake_artist_agent is disabled" });
    expect(await callError(artistMbid(bus, "fake_album_agent"))).toMatchObject({ code: "unavailable", message: "plugin fake_album_agent is loading" });
  });

  it("answers not_implemented for a capability the manifest does not list, without loading the plugin", async () => {
    await publisher.fixture("plugins", "fake_artist_agent");
    const worker = await startTestWorker(bus);
    const error = await callError(callPlugin(bus, "calls", { plugin: "fake_artist_agent", capability: "Scrobbler", method: "IsAuthorized", json: {} }));
    expect(error).toMatchObject({ code: "not_implemented", message: "plugin fake_artist_agent does not declare the Scrobbler capability" });
    expect(worker.stats().plugins).toEqual({});
  });

  it("passes the plugin's plugin:not_implemented through", async () => {
    await publisher.fixture("plugins", "fake_artist_agent");
    await startTestWorker(bus);
    const error = await callError(callPlugin(bus, "calls", { plugin: "fake_artist_agent", capability: "MetadataAgent", method: "GetAlbumInfo", json: { name: "A" } }));
    expect(error).toMatchObject({ code: "not_implemented", message: "plugin:not_implemented" });
  });

  it("answers bad_request for an unknown method or capability and for a malformed request", async () => {
    await publisher.fixture("plugins", "fake_artist_agent");
    await startTestWorker(bus);
    const call = (capability: string, method: string, json: object) => callError(callPlugin(bus, "calls", { plugin: "fake_artist_agent", capability, method, json }));
    expect(await call("MetadataAgent", "GetArtistAge", {})).toMatchObject({ code: "bad_request", message: "MetadataAgent.GetArtistAge is not a method of a plugin capability" });
    expect(await call("Telepathy", "Read", {})).toMatchObject({ code: "bad_request" });
    expect(await call("MetadataAgent", "GetArtistMBID", { id: 7, colour: "red" })).toMatchObject({ code: "bad_request" });
  });

  it("passes the runtime's errors through: a trap is plugin_error", async () => {
    await publisher.fixture("hostile", "trap");
    await startTestWorker(bus);
    expect(await callError(artistMbid(bus, "trap"))).toMatchObject({ code: "plugin_error" });
  });
});

describe("deadlines", () => {
  it("answers timeout at once when the deadline passed before the worker took the call", async () => {
    await publisher.fixture("plugins", "fake_artist_agent");
    const worker = await startTestWorker(bus);
    const wire = encodeCallRequest(mbidRequest("X"), { deadlineMs: Date.now() - 1 });
    const reply = await bus.request(subjects("calls").call("fake_artist_agent", "MetadataAgent", "GetArtistMBID"), wire.data, {
      timeoutMs: 2_000,
      headers: wire.headers,
    });
    expect(reply.headers[CallHeader.ErrorCode]).toBe("timeout");
    expect(() => decodeCallReply(reply)).toThrow(/deadline passed/);
    // Refused before any work: the plugin was not even loaded.
    expect(worker.stats().plugins).toEqual({});
  });

  it("stops a call that runs past the caller's deadline and answers timeout", async () => {
    await publisher.fixture("hostile", "infinite_loop");
    await startTestWorker(bus);
    const started = Date.now();
    expect(await callError(artistMbid(bus, "infinite_loop", "X", 400))).toMatchObject({ code: "timeout" });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe("OnInit while LOADING", () => {
  const onInit = (caller: string | undefined) =>
    callPlugin(bus, "calls", {
      plugin: "multi_plugin",
      capability: "LifecycleManagement",
      method: "OnInit",
      json: { config: {} },
      ...(caller === undefined ? {} : { caller }),
    });

  it("serves the registry's OnInit and refuses every other call until READY", async () => {
    const record = await publisher.fixture("plugins", "multi_plugin", { state: PluginState.LOADING });
    await startTestWorker(bus);
    expect(await onInit("registry")).toEqual({});
    expect(await callError(onInit("music-server"))).toMatchObject({ code: "unavailable", message: "plugin multi_plugin is loading" });
    expect(await callError(onInit(undefined))).toMatchObject({ code: "unavailable" });
    expect(await callError(artistMbid(bus, "multi_plugin"))).toMatchObject({ code: "unavailable" });

    await publisher.update(record, { state: PluginState.READY });
    await expect.poll(() => artistMbid(bus, "multi_plugin").catch((err: unknown) => err)).toEqual({ mbid: "multi-artist-mbid" });
    expect(await onInit("music-server")).toEqual({});
  });

  it("refuses the registry's other methods while LOADING", async () => {
    await publisher.fixture("plugins", "multi_plugin", { state: PluginState.LOADING });
    await startTestWorker(bus);
    const call = callPlugin(bus, "calls", { plugin: "multi_plugin", capability: "MetadataAgent", method: "GetArtistMBID", json: { name: "X" }, caller: "registry" });
    expect(await callError(call)).toMatchObject({ code: "unavailable" });
  });
});
