// The worker on the in-memory bus: the call protocol, its error codes, lazy loading and version
// swaps, verification for the registry, and agents orchestration.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { CallError } from "@tonearm/abi";
import {
  callPlugin,
  createMemoryBus,
  decodeCallReply,
  encodeCallRequest,
  PluginState,
  subjects,
  workerVerifySubject,
  type Bus,
} from "@tonearm/bus";
import { api, bus as busProto } from "@tonearm/proto";
import { AGENT_HEADER, createWorker, type Worker } from "@tonearm/worker";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { hostDrivers, hostSettings, publish } from "./support.js";

const NS = "wtest";
let bus: Bus;
let workers: Worker[] = [];

async function startWorker(agents: string[] = []): Promise<Worker> {
  const worker = createWorker({ bus, namespace: NS, runtimeOptions: { threads: { min: 1, max: 4 } }, hostSettings, hostDrivers: hostDrivers(), agents });
  await worker.start();
  workers.push(worker);
  return worker;
}

const mbid = (plugin = "fake_artist_agent", name = "X", timeoutMs = 5_000) =>
  callPlugin(bus, NS, { plugin, capability: "MetadataAgent", method: "GetArtistMBID", json: { id: "1", name }, timeoutMs });

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof CallError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error("it succeeded");
}

beforeEach(() => {
  bus = createMemoryBus({ namespace: NS });
});

afterEach(async () => {
  await Promise.all(workers.map((w) => w.drain()));
  workers = [];
  await bus.close();
});

describe("plugin calls", () => {
  it("answers protobuf and JSON requests, loading the plugin lazily from the object store", async () => {
    await publish(bus, NS, "plugins", "fake_artist_agent");
    await startWorker();
    expect(await mbid()).toEqual({ mbid: "1234567890" });
    const request = toBinary(api.ArtistMBIDRequestSchema, create(api.ArtistMBIDRequestSchema, { id: "1", name: "X" }));
    const bytes = await callPlugin(bus, NS, { plugin: "fake_artist_agent", capability: "MetadataAgent", method: "GetArtistMBID", request });
    expect(fromBinary(api.ArtistMBIDResponseSchema, bytes).mbid).toBe("1234567890");
  });

  it("answers each refusal with its code", async () => {
    await publish(bus, NS, "plugins", "fake_artist_agent");
    await publish(bus, NS, "plugins", "fake_album_agent", { state: PluginState.FAILED, error: "OnInit failed: boom" });
    await publish(bus, NS, "plugins", "fake_scrobbler", { state: PluginState.LOADING });
    await publish(bus, NS, "plugins", "multi_plugin", { state: PluginState.DISABLED });
    await startWorker();
    expect(await failure(mbid("nobody"))).toMatchObject({ code: "not_found" });
    expect(await failure(mbid("fake_album_agent"))).toEqual({ code: "load_error", message: "OnInit failed: boom" });
    expect(await failure(callPlugin(bus, NS, { plugin: "fake_scrobbler", capability: "Scrobbler", method: "IsAuthorized", json: {} }))).toMatchObject({ code: "unavailable" });
    expect(await failure(mbid("multi_plugin"))).toMatchObject({ code: "unavailable" });
    expect(await failure(mbid("fake_artist_agent", ""))).toMatchObject({ code: "not_found" });
    expect(await failure(callPlugin(bus, NS, { plugin: "fake_artist_agent", capability: "Scrobbler", method: "IsAuthorized", json: {} }))).toMatchObject({
      code: "not_implemented",
    });
    expect(await failure(callPlugin(bus, NS, { plugin: "fake_artist_agent", capability: "MetadataAgent", method: "Nope", json: {} }))).toMatchObject({ code: "bad_request" });
    expect(await failure(callPlugin(bus, NS, { plugin: "fake_artist_agent", capability: "MetadataAgent", method: "GetArtistMBID", json: { bogus: 1 } }))).toMatchObject({
      code: "bad_request",
    });
    // A deadline already past when the worker takes the call.
    const wire = encodeCallRequest(new Uint8Array(), { deadlineMs: Date.now() - 1 });
    const reply = await bus.request(subjects(NS).call("fake_artist_agent", "MetadataAgent", "GetArtistMBID"), wire.data, { timeoutMs: 2_000, headers: wire.headers });
    expect(() => decodeCallReply(reply)).toThrow(expect.objectContaining({ code: "timeout" }) as Error);
  });

  it("lets the registry run OnInit while the plugin is loading, and nobody else", async () => {
    await publish(bus, NS, "plugins", "fake_init_service", { state: PluginState.LOADING });
    await startWorker();
    const init = (caller: string) => callPlugin(bus, NS, { plugin: "fake_init_service", capability: "LifecycleManagement", method: "OnInit", json: {}, caller });
    expect(await init("registry")).toEqual({});
    expect(await failure(init("someone"))).toMatchObject({ code: "unavailable" });
  });

  it("shares the calls among the workers of the queue group", async () => {
    await publish(bus, NS, "plugins", "fake_artist_agent");
    const [a, b] = [await startWorker(), await startWorker()];
    await Promise.all(Array.from({ length: 40 }, () => mbid()));
    expect(a.stats().plugins.fake_artist_agent).toBeDefined();
    expect(b.stats().plugins.fake_artist_agent).toBeDefined();
  });

  it("switches to a new version without failing calls in flight", async () => {
    await publish(bus, NS, "plugins", "fake_artist_agent");
    await startWorker();
    expect(await mbid()).toEqual({ mbid: "1234567890" });
    const calls = Array.from({ length: 60 }, (_, i) => new Promise((r) => setTimeout(r, i)).then(() => mbid()));
    await new Promise((r) => setTimeout(r, 10));
    // The same id now points at another build answering the same method differently.
    await publish(bus, NS, "plugins", "multi_plugin", { id: "fake_artist_agent" });
    const results = (await Promise.all(calls)) as { mbid: string }[];
    expect(results.every((r) => r.mbid === "1234567890" || r.mbid === "multi-artist-mbid")).toBe(true);
    await expect.poll(async () => ((await mbid()) as { mbid: string }).mbid).toBe("multi-artist-mbid");
  });
});

describe("verification", () => {
  async function verify(record: busProto.PluginRecord): Promise<void> {
    const wire = encodeCallRequest(toBinary(busProto.PluginRecordSchema, record), { caller: "registry" });
    decodeCallReply(await bus.request(workerVerifySubject(NS), wire.data, { timeoutMs: 5_000, headers: wire.headers }));
  }

  it("loads a published plugin, or answers load_error with Navidrome's text", async () => {
    await startWorker();
    await expect(verify(await publish(bus, NS, "plugins", "fake_artist_agent", { state: PluginState.LOADING }))).resolves.toBeUndefined();
    const error = await failure(verify(await publish(bus, NS, "plugins", "unauthorized_plugin", { state: PluginState.LOADING })));
    expect(error).toEqual({ code: "load_error", message: '"get" is not exported in module "env"' });
  });
});

describe("agents", () => {
  const ask = async (method: string, json: object) => {
    const wire = encodeCallRequest(new TextEncoder().encode(JSON.stringify(json)), { contentType: "application/json" });
    const reply = await bus.request(subjects(NS).agents(method), wire.data, { timeoutMs: 5_000, headers: wire.headers });
    return { agent: reply.headers[AGENT_HEADER], body: JSON.parse(new TextDecoder().decode(decodeCallReply(reply))) as unknown };
  };

  it("asks the configured agents in order and answers with the first accepted response", async () => {
    for (const name of ["fake_album_agent", "fake_artist_agent", "multi_plugin"]) await publish(bus, NS, "plugins", name);
    await startWorker(["lastfm", "fake_album_agent", "multi_plugin", "fake_artist_agent"]);
    // lastfm is not a plugin here, and fake_album_agent does not implement artist methods.
    expect(await ask("GetArtistMBID", { name: "X" })).toEqual({ agent: "multi_plugin", body: { mbid: "multi-artist-mbid" } });
    expect(await ask("GetAlbumInfo", { name: "A", artist: "B" })).toMatchObject({ agent: "fake_album_agent" });
    // multi_plugin answers an empty list for similar artists: not accepted, fake_artist_agent's is.
    expect((await ask("GetSimilarArtists", { name: "X" })).agent).toBe("fake_artist_agent");
    await expect(ask("GetArtistMBID", { name: "[Unknown Artist]" })).rejects.toMatchObject({ code: "not_found" });
  });
});
