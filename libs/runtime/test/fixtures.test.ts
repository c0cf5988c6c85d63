// The fixture plugins of ABI.md §4.1, built from source by the test setup, called through the
// runtime's public API: worker threads, instance pools and the host-call bridge included.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { CallError } from "@tonearm/abi";
import { api, schedulerHost } from "@tonearm/proto";
import { initializePlugin, invokeJson, Runtime, type HostCall } from "@tonearm/runtime";
import { fixturePaths, readFixture, type FixtureSet } from "@tonearm/test-harness";
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const logs: { plugin: string; line: string }[] = [];
const hostCalls: { plugin: string; name: string; request: Uint8Array }[] = [];
let runtime: Runtime;
let echoServer: Server;
let echoUrl: string;

/** Answers the scheduler imports after a real round trip over loopback HTTP, to prove the bridge waits on real I/O. */
async function handleHostCall(call: HostCall): Promise<Uint8Array> {
  hostCalls.push({ plugin: call.pluginId, name: call.name, request: call.request });
  const answer = await fetch(`${echoUrl}/${call.name}`, { signal: call.signal }).then((r) => r.text());
  if (call.name === "schedule_one_time" || call.name === "schedule_recurring") {
    return toBinary(schedulerHost.ScheduleResponseSchema, create(schedulerHost.ScheduleResponseSchema, { scheduleId: answer }));
  }
  throw new Error(`no host function ${call.name} in this test`);
}

async function load(set: FixtureSet, name: string): Promise<void> {
  await runtime.load(await readFixture(set, name));
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof CallError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error("the call succeeded");
}

beforeAll(async () => {
  echoServer = createServer((req, res) => res.end(`id-from-${req.url?.slice(1)}`));
  await new Promise<void>((r) => echoServer.listen(0, "127.0.0.1", r));
  const address = echoServer.address();
  echoUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  runtime = Runtime.create({
    threads: { min: 2, max: 4 },
    host: { handleHostCall },
    onPluginLog: (plugin, line) => logs.push({ plugin, line }),
  });
  for (const name of ["fake_artist_agent", "fake_album_agent", "fake_scrobbler", "multi_plugin", "fake_init_service"]) {
    await load("plugins", name);
  }
});

afterAll(async () => {
  await runtime?.close();
  echoServer?.close();
});

const call = (plugin: string, capMethod: string, json: Parameters<typeof invokeJson>[4] = {}) => {
  const [capability, method] = capMethod.split("/") as [string, string];
  return invokeJson(runtime, plugin, capability, method, json);
};

describe("fake_artist_agent", () => {
  it("answers every artist method with its fixed data", async () => {
    const artist = { id: "1", name: "The Beatles" };
    expect(await call("fake_artist_agent", "MetadataAgent/GetArtistMBID", artist)).toEqual({ mbid: "1234567890" });
    expect(await call("fake_artist_agent", "MetadataAgent/GetArtistURL", artist)).toEqual({ url: "https://example.com" });
    expect(await call("fake_artist_agent", "MetadataAgent/GetArtistBiography", artist)).toEqual({ biography: "This is a test biography" });
    expect(await call("fake_artist_agent", "MetadataAgent/GetSimilarArtists", { ...artist, limit: 2 })).toEqual({
      artists: [
        { name: "Similar Artist 1", mbid: "mbid1" },
        { name: "Similar Artist 2", mbid: "mbid2" },
      ],
    });
    expect(await call("fake_artist_agent", "MetadataAgent/GetArtistImages", artist)).toEqual({
      images: [
        { url: "https://example.com/image1.jpg", size: 100 },
        { url: "https://example.com/image2.jpg", size: 200 },
      ],
    });
    expect(await call("fake_artist_agent", "MetadataAgent/GetArtistTopSongs", { id: "1", artistName: "The Beatles", count: 2 })).toEqual({
      songs: [
        { name: "Song 1", mbid: "mbid1" },
        { name: "Song 2", mbid: "mbid2" },
      ],
    });
  });

  it("answers not_found for an empty name and not_implemented for album methods", async () => {
    expect(await failure(call("fake_artist_agent", "MetadataAgent/GetArtistMBID", { id: "1", name: "" }))).toMatchObject({ code: "not_found" });
    expect(await failure(call("fake_artist_agent", "MetadataAgent/GetArtistTopSongs", { id: "1" }))).toMatchObject({ code: "not_found" });
    expect(await failure(call("fake_artist_agent", "MetadataAgent/GetAlbumInfo", { name: "A", artist: "B" }))).toMatchObject({ code: "not_implemented" });
    expect(await failure(call("fake_artist_agent", "MetadataAgent/GetAlbumImages", { name: "A", artist: "B" }))).toMatchObject({ code: "not_implemented" });
  });

  it("refuses a capability its manifest does not declare, and unknown plugins and methods", async () => {
    expect(await failure(call("fake_artist_agent", "Scrobbler/IsAuthorized", { username: "u" }))).toMatchObject({ code: "not_implemented" });
    expect(await failure(call("no_such_plugin", "MetadataAgent/GetArtistMBID", {}))).toMatchObject({ code: "not_found" });
    expect(await failure(call("fake_artist_agent", "MetadataAgent/GetNothing", {}))).toMatchObject({ code: "bad_request" });
    expect(await failure(call("fake_artist_agent", "MetadataAgent/GetArtistMBID", { nope: 1 }))).toMatchObject({ code: "bad_request" });
  });
});

// Built only where Go >= 1.24 is available (CI fetches it); the same assertions as the PDK fixture.
describe.skipIf(!existsSync(fixturePaths.plugin("go", "fake_artist_agent_go")))("fake_artist_agent built with Go", () => {
  it("answers as Navidrome's Go fixture does", async () => {
    await load("go", "fake_artist_agent_go");
    const artist = { id: "1", name: "The Beatles" };
    expect(await call("fake_artist_agent_go", "MetadataAgent/GetArtistMBID", artist)).toEqual({ mbid: "1234567890" });
    expect(await call("fake_artist_agent_go", "MetadataAgent/GetArtistURL", artist)).toEqual({ url: "https://example.com" });
    expect(await call("fake_artist_agent_go", "MetadataAgent/GetSimilarArtists", artist)).toEqual({
      artists: [
        { name: "Similar Artist 1", mbid: "mbid1" },
        { name: "Similar Artist 2", mbid: "mbid2" },
      ],
    });
    expect(await failure(call("fake_artist_agent_go", "MetadataAgent/GetArtistMBID", { id: "1" }))).toMatchObject({ code: "not_found" });
    expect(await failure(call("fake_artist_agent_go", "MetadataAgent/GetAlbumInfo", { name: "A", artist: "B" }))).toMatchObject({ code: "not_implemented" });
  });
});

describe("fake_album_agent", () => {
  it("answers album methods naming album and artist, not_found otherwise", async () => {
    expect(await call("fake_album_agent", "MetadataAgent/GetAlbumInfo", { name: "Abbey Road", artist: "The Beatles" })).toEqual({
      info: { name: "Abbey Road", mbid: "album-mbid-123", description: "This is a test album description", url: "https://example.com/album" },
    });
    expect(await call("fake_album_agent", "MetadataAgent/GetAlbumImages", { name: "Abbey Road", artist: "The Beatles" })).toEqual({
      images: [
        { url: "https://example.com/album1.jpg", size: 300 },
        { url: "https://example.com/album2.jpg", size: 400 },
      ],
    });
    expect(await failure(call("fake_album_agent", "MetadataAgent/GetAlbumInfo", { name: "Abbey Road" }))).toMatchObject({ code: "not_found" });
    expect(await failure(call("fake_album_agent", "MetadataAgent/GetAlbumImages", { artist: "X" }))).toMatchObject({ code: "not_found" });
    expect(await failure(call("fake_album_agent", "MetadataAgent/GetArtistMBID", { name: "X" }))).toMatchObject({ code: "not_implemented" });
  });
});

describe("fake_scrobbler", () => {
  it("authorizes, accepts now-playing and scrobbles, and its stderr reaches the log tagged with its id", async () => {
    expect(await call("fake_scrobbler", "Scrobbler/IsAuthorized", { userId: "u1", username: "alice" })).toEqual({ authorized: true });
    const track = { id: "t1", name: "Something", artists: [{ name: "The Beatles" }], length: 180 };
    expect(await call("fake_scrobbler", "Scrobbler/NowPlaying", { userId: "u1", username: "alice", track, })).toEqual({});
    expect(await call("fake_scrobbler", "Scrobbler/Scrobble", { userId: "u1", username: "alice", track, timestamp: "1700000000" })).toEqual({});
    await expect.poll(() => logs.filter((l) => l.plugin === "fake_scrobbler" && l.line.includes("alice")).length).toBeGreaterThanOrEqual(2);
  });
});

describe("multi_plugin", () => {
  it("answers its metadata methods", async () => {
    expect(await call("multi_plugin", "MetadataAgent/GetArtistMBID", { name: "X" })).toEqual({ mbid: "multi-artist-mbid" });
    expect(await call("multi_plugin", "MetadataAgent/GetArtistBiography", { name: "X" })).toEqual({ biography: "Multi agent artist bio" });
    expect(await call("multi_plugin", "MetadataAgent/GetSimilarArtists", { name: "X" })).toEqual({});
    expect(await call("multi_plugin", "MetadataAgent/GetAlbumInfo", { name: "A", artist: "B" })).toEqual({
      info: { name: "A", mbid: "multi-album-mbid", description: "Multi agent album description", url: "https://multi.example.com/album" },
    });
  });

  it("schedules through the host while the guest waits on real asynchronous I/O", async () => {
    const before = hostCalls.length;
    expect(await call("multi_plugin", "MetadataAgent/GetArtistURL", { name: "Björk" })).toEqual({ url: "https://multi.example.com/artist" });
    const scheduled = hostCalls.slice(before);
    expect(scheduled.map((c) => c.name)).toEqual(["schedule_one_time"]);
    expect(fromBinary(schedulerHost.ScheduleOneTimeRequestSchema, scheduled[0]!.request)).toMatchObject({
      scheduleId: "artist:Björk",
      delaySeconds: 6,
      payload: new TextEncoder().encode("test-payload"),
    });
  });

  it("schedules a recurring callback from OnInit", async () => {
    const before = hostCalls.length;
    await initializePlugin(runtime, "multi_plugin", {});
    const request = fromBinary(schedulerHost.ScheduleRecurringRequestSchema, hostCalls[before]!.request);
    expect(request).toMatchObject({ cronExpression: "@every 5s", scheduleId: "" });
    expect(new TextDecoder().decode(request.payload)).toBe("every 5 seconds");
  });

  it("answers scheduler callbacks", async () => {
    const response = await runtime.call(
      "multi_plugin",
      "SchedulerCallback",
      "OnSchedulerCallback",
      toBinary(api.SchedulerCallbackRequestSchema, create(api.SchedulerCallbackRequestSchema, { scheduleId: "s1", payload: new Uint8Array([1]), isRecurring: false })),
    );
    expect(fromBinary(api.SchedulerCallbackResponseSchema, response).error).toBe("");
  });
});

describe("fake_init_service", () => {
  it("initialises, or fails with the plugin's error text", async () => {
    await expect(initializePlugin(runtime, "fake_init_service", {})).resolves.toBeUndefined();
    expect(await failure(initializePlugin(runtime, "fake_init_service", { returnError: "go_error" }))).toEqual({
      code: "plugin_error",
      message: "initialization failed with Go error",
    });
    expect(await failure(initializePlugin(runtime, "fake_init_service", { returnError: "response_error" }))).toEqual({
      code: "plugin_error",
      message: "initialization failed with response error",
    });
  });
});

describe("unauthorized_plugin", () => {
  it("fails to load because env.get is not granted", async () => {
    const error = await failure(load("plugins", "unauthorized_plugin"));
    expect(error.code).toBe("load_error");
    expect(error.message).toContain('"get" is not exported in module "env"');
    expect(runtime.status("unauthorized_plugin")).toMatchObject({ state: "failed" });
    expect(await failure(call("unauthorized_plugin", "MetadataAgent/GetAlbumInfo", { name: "A", artist: "B" }))).toMatchObject({ code: "load_error" });
  });
});

describe("concurrency", () => {
  it("completes 100 concurrent calls to one plugin within the pool bounds", async () => {
    const calls = Array.from({ length: 100 }, (_, i) => call("fake_artist_agent", "MetadataAgent/GetArtistMBID", { id: String(i), name: `Artist ${i}` }));
    let peak = 0;
    const sampler = setInterval(() => {
      const active = runtime.stats().plugins.fake_artist_agent?.active ?? 0;
      peak = Math.max(peak, active);
    }, 1);
    const results = await Promise.all(calls).finally(() => clearInterval(sampler));
    expect(results).toEqual(Array.from({ length: 100 }, () => ({ mbid: "1234567890" })));
    expect(peak).toBeLessThanOrEqual(runtime.options.maxConcurrent);
    expect(runtime.stats().threads).toBeLessThanOrEqual(runtime.options.maxThreads);
  });
});
