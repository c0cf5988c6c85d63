// The AssemblyScript fixture plugins (test/fixtures/plugins, built by the test setup) against the
// shape and return values of Navidrome's test plugins (ABI.md §1.2, §4.1), driven by the
// test-only host in ./support.
import { readFile } from "node:fs/promises";
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { CAPABILITIES, PLUGIN_NOT_FOUND, PLUGIN_NOT_IMPLEMENTED, capability, findMethod } from "@tonearm/abi";
import { api, httpHost, schedulerHost } from "@tonearm/proto";
import { fixturePaths } from "@tonearm/test-harness";
import { describe, expect, it } from "vitest";
import { TestHost, type HostFunction } from "./support/test-host.js";
import { readSignatures } from "./support/wasm-signatures.js";

const FIXTURES = ["fake_artist_agent", "fake_album_agent", "fake_scrobbler", "multi_plugin", "fake_init_service", "unauthorized_plugin"];

const wasmOf = (name: string): Promise<Buffer> => readFile(`${fixturePaths.plugin("plugins", name)}/plugin.wasm`);
const manifestOf = async (name: string): Promise<Record<string, unknown>> =>
  JSON.parse(await readFile(`${fixturePaths.plugin("plugins", name)}/manifest.json`, "utf8")) as Record<string, unknown>;

async function load(name: string, env: Record<string, HostFunction> = {}): Promise<TestHost> {
  return TestHost.load(await wasmOf(name), env);
}

type Outcome<O extends DescMessage> = { ok: true; value: MessageShape<O> } | { ok: false; error: string };

/** Calls `Capability.Method` with a request built from `init` and decodes the response. */
function call<I extends DescMessage, O extends DescMessage>(
  host: TestHost,
  cap: string,
  method: string,
  input: I,
  init: MessageInitShape<I>,
  output: O,
): Outcome<O> {
  const m = findMethod(cap, method);
  if (!m) throw new Error(`unknown method ${cap}.${method}`);
  expect(m.input.typeName).toBe(input.typeName);
  expect(m.output.typeName).toBe(output.typeName);
  const out = host.call(m.exportName, toBinary(input, create(input, init)));
  return out.ok ? { ok: true, value: fromBinary(output, out.bytes) } : out;
}

const ok = <O extends DescMessage>(output: O, init: MessageInitShape<O>) => ({ ok: true, value: create(output, init) });
const fails = (error: string) => ({ ok: false, error });
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

describe("fixture manifests", () => {
  it.each([
    ["fake_artist_agent", "Navidrome Test", ["MetadataAgent"], {}],
    ["fake_album_agent", "Navidrome Test", ["MetadataAgent"], {}],
    ["fake_scrobbler", "Navidrome Test", ["Scrobbler"], {}],
    [
      "multi_plugin",
      "Navidrome Test",
      ["MetadataAgent", "SchedulerCallback", "LifecycleManagement"],
      { scheduler: { reason: "For testing scheduled callback functionality" } },
    ],
    ["fake_init_service", "Test Author", ["LifecycleManagement"], {}],
    ["unauthorized_plugin", "Navidrome Test", ["MetadataAgent"], {}],
  ])("%s has Navidrome's manifest", async (name, author, capabilities, permissions) => {
    const manifest = await manifestOf(name);
    expect(manifest).toMatchObject({
      name,
      author,
      version: "1.0.0",
      website: `https://test.navidrome.org/${name.replaceAll("_", "-")}`,
      capabilities,
      permissions,
    });
    expect(manifest.description).toEqual(expect.any(String));
  });
});

describe("fixture module shape", () => {
  const expectedEnv: Record<string, string[]> = {
    multi_plugin: ["schedule_one_time", "schedule_recurring"],
    unauthorized_plugin: ["get"],
  };

  it.each(FIXTURES)("%s exports the whole ABI and imports only WASI and the env functions it uses", async (name) => {
    const sig = await readSignatures(await wasmOf(name));
    const expected = new Map<string, string>([
      ["memory", "memory"],
      ["_initialize", "() -> ()"],
      ["malloc", "(i32) -> (i32)"],
      ["free", "(i32) -> ()"],
    ]);
    for (const c of CAPABILITIES) {
      const d = capability(c);
      expected.set(d.versionExport, "() -> (i64)");
      for (const m of d.methods) expected.set(m.exportName, "(i32 i32) -> (i64)");
    }
    expect(expected.size).toBe(26);
    expect(new Map([...sig.exports].sort())).toEqual(new Map([...expected].sort()));

    const env = [...sig.imports.keys()].filter((k) => k.startsWith("env.")).map((k) => k.slice(4));
    expect(env.sort()).toEqual(expectedEnv[name] ?? []);
    for (const name of env) expect(sig.imports.get(`env.${name}`)).toBe("(i32 i32) -> (i64)");
    const others = [...sig.imports.keys()].filter((k) => !k.startsWith("env.") && !k.startsWith("wasi_snapshot_preview1."));
    expect(others).toEqual([]);
  });

  it.each(FIXTURES.filter((n) => n !== "unauthorized_plugin"))("%s reports API version 1 for every capability", async (name) => {
    const host = await load(name, Object.fromEntries((expectedEnv[name] ?? []).map((n) => [n, () => new Uint8Array()])));
    for (const c of CAPABILITIES) expect((host.exports[capability(c).versionExport] as () => bigint)()).toBe(1n);
  });
});

describe("fake_artist_agent", () => {
  const A = "MetadataAgent";

  it("answers every artist lookup with its fixed data", async () => {
    const host = await load("fake_artist_agent");
    const artist = { id: "1", name: "The Artist", mbid: "m" };
    expect(call(host, A, "GetArtistMBID", api.ArtistMBIDRequestSchema, artist, api.ArtistMBIDResponseSchema)).toEqual(
      ok(api.ArtistMBIDResponseSchema, { mbid: "1234567890" }),
    );
    expect(call(host, A, "GetArtistURL", api.ArtistURLRequestSchema, artist, api.ArtistURLResponseSchema)).toEqual(
      ok(api.ArtistURLResponseSchema, { url: "https://example.com" }),
    );
    expect(call(host, A, "GetArtistBiography", api.ArtistBiographyRequestSchema, artist, api.ArtistBiographyResponseSchema)).toEqual(
      ok(api.ArtistBiographyResponseSchema, { biography: "This is a test biography" }),
    );
    expect(
      call(host, A, "GetSimilarArtists", api.ArtistSimilarRequestSchema, { ...artist, limit: 2 }, api.ArtistSimilarResponseSchema),
    ).toEqual(
      ok(api.ArtistSimilarResponseSchema, {
        artists: [
          { name: "Similar Artist 1", mbid: "mbid1" },
          { name: "Similar Artist 2", mbid: "mbid2" },
        ],
      }),
    );
    expect(call(host, A, "GetArtistImages", api.ArtistImageRequestSchema, artist, api.ArtistImageResponseSchema)).toEqual(
      ok(api.ArtistImageResponseSchema, {
        images: [
          { url: "https://example.com/image1.jpg", size: 100 },
          { url: "https://example.com/image2.jpg", size: 200 },
        ],
      }),
    );
    expect(
      call(host, A, "GetArtistTopSongs", api.ArtistTopSongsRequestSchema, { artistName: "The Artist", count: 2 }, api.ArtistTopSongsResponseSchema),
    ).toEqual(
      ok(api.ArtistTopSongsResponseSchema, {
        songs: [
          { name: "Song 1", mbid: "mbid1" },
          { name: "Song 2", mbid: "mbid2" },
        ],
      }),
    );
  });

  it("reports an empty artist name as not found", async () => {
    const host = await load("fake_artist_agent");
    expect(call(host, A, "GetArtistMBID", api.ArtistMBIDRequestSchema, { id: "1" }, api.ArtistMBIDResponseSchema)).toEqual(fails(PLUGIN_NOT_FOUND));
    expect(call(host, A, "GetArtistURL", api.ArtistURLRequestSchema, {}, api.ArtistURLResponseSchema)).toEqual(fails(PLUGIN_NOT_FOUND));
    expect(call(host, A, "GetArtistBiography", api.ArtistBiographyRequestSchema, {}, api.ArtistBiographyResponseSchema)).toEqual(
      fails(PLUGIN_NOT_FOUND),
    );
    expect(call(host, A, "GetSimilarArtists", api.ArtistSimilarRequestSchema, {}, api.ArtistSimilarResponseSchema)).toEqual(
      fails(PLUGIN_NOT_FOUND),
    );
    expect(call(host, A, "GetArtistImages", api.ArtistImageRequestSchema, {}, api.ArtistImageResponseSchema)).toEqual(fails(PLUGIN_NOT_FOUND));
    expect(
      call(host, A, "GetArtistTopSongs", api.ArtistTopSongsRequestSchema, { id: "1", count: 3 }, api.ArtistTopSongsResponseSchema),
    ).toEqual(fails(PLUGIN_NOT_FOUND));
  });

  it("does not implement album lookups", async () => {
    const host = await load("fake_artist_agent");
    const album = { name: "Album", artist: "Artist" };
    expect(call(host, A, "GetAlbumInfo", api.AlbumInfoRequestSchema, album, api.AlbumInfoResponseSchema)).toEqual(fails(PLUGIN_NOT_IMPLEMENTED));
    expect(call(host, A, "GetAlbumImages", api.AlbumImagesRequestSchema, album, api.AlbumImagesResponseSchema)).toEqual(
      fails(PLUGIN_NOT_IMPLEMENTED),
    );
  });

  it("answers not_implemented for capabilities it did not register", async () => {
    const host = await load("fake_artist_agent");
    for (const c of CAPABILITIES.filter((c) => c !== "MetadataAgent")) {
      for (const m of capability(c).methods) expect(host.call(m.exportName, new Uint8Array())).toEqual(fails(PLUGIN_NOT_IMPLEMENTED));
    }
  });
});

describe("fake_album_agent", () => {
  const A = "MetadataAgent";

  it("answers album lookups that name the album and the artist", async () => {
    const host = await load("fake_album_agent");
    const album = { name: "Test Album", artist: "Test Artist", mbid: "x" };
    expect(call(host, A, "GetAlbumInfo", api.AlbumInfoRequestSchema, album, api.AlbumInfoResponseSchema)).toEqual(
      ok(api.AlbumInfoResponseSchema, {
        info: {
          name: "Test Album",
          mbid: "album-mbid-123",
          description: "This is a test album description",
          url: "https://example.com/album",
        },
      }),
    );
    expect(call(host, A, "GetAlbumImages", api.AlbumImagesRequestSchema, album, api.AlbumImagesResponseSchema)).toEqual(
      ok(api.AlbumImagesResponseSchema, {
        images: [
          { url: "https://example.com/album1.jpg", size: 300 },
          { url: "https://example.com/album2.jpg", size: 400 },
        ],
      }),
    );
  });

  it.each([{ name: "Test Album" }, { artist: "Test Artist" }, {}])("reports %o as not found", async (album) => {
    const host = await load("fake_album_agent");
    expect(call(host, A, "GetAlbumInfo", api.AlbumInfoRequestSchema, album, api.AlbumInfoResponseSchema)).toEqual(fails(PLUGIN_NOT_FOUND));
    expect(call(host, A, "GetAlbumImages", api.AlbumImagesRequestSchema, album, api.AlbumImagesResponseSchema)).toEqual(
      fails(PLUGIN_NOT_FOUND),
    );
  });

  it("does not implement artist lookups", async () => {
    const host = await load("fake_album_agent");
    for (const m of capability("MetadataAgent").methods.filter((m) => !m.method.startsWith("GetAlbum"))) {
      expect(host.call(m.exportName, toBinary(m.input, create(m.input, { name: "Artist" } as never)))).toEqual(
        fails(PLUGIN_NOT_IMPLEMENTED),
      );
    }
  });
});

describe("fake_scrobbler", () => {
  const S = "Scrobbler";
  const track = { id: "t1", name: "Track Name", album: "Album", artists: [{ name: "Artist" }], length: 180 };

  it("authorizes every user", async () => {
    const host = await load("fake_scrobbler");
    expect(
      call(host, S, "IsAuthorized", api.ScrobblerIsAuthorizedRequestSchema, { userId: "u1", username: "alice" }, api.ScrobblerIsAuthorizedResponseSchema),
    ).toEqual(ok(api.ScrobblerIsAuthorizedResponseSchema, { authorized: true }));
  });

  it("accepts now-playing and scrobbles with an empty response and logs them to stderr", async () => {
    const host = await load("fake_scrobbler");
    const np = call(host, S, "NowPlaying", api.ScrobblerNowPlayingRequestSchema, { userId: "u1", username: "alice", track, timestamp: 1n }, api.ScrobblerNowPlayingResponseSchema);
    expect(np).toEqual(ok(api.ScrobblerNowPlayingResponseSchema, {}));
    const scrobble = call(
      host,
      S,
      "Scrobble",
      api.ScrobblerScrobbleRequestSchema,
      { userId: "u1", username: "bob", track, timestamp: 1_700_000_000n },
      api.ScrobblerScrobbleResponseSchema,
    );
    expect(scrobble).toEqual(ok(api.ScrobblerScrobbleResponseSchema, {}));
    const lines = host.output.stderr.trimEnd().split("\n");
    expect(lines).toEqual([
      "fake_scrobbler: NowPlaying user=alice track=Track Name",
      "fake_scrobbler: Scrobble user=bob track=Track Name timestamp=1700000000",
    ]);
    expect(host.output.stdout).toBe("");
  });

  it("answers a now-playing without a track instead of trapping", async () => {
    const host = await load("fake_scrobbler");
    expect(call(host, S, "NowPlaying", api.ScrobblerNowPlayingRequestSchema, { username: "alice" }, api.ScrobblerNowPlayingResponseSchema)).toEqual(
      ok(api.ScrobblerNowPlayingResponseSchema, {}),
    );
  });
});

describe("multi_plugin", () => {
  const A = "MetadataAgent";

  /** A scheduler host that records requests and answers with the schedule ID it was given (or a made-up one). */
  function schedulerEnv(): Record<string, HostFunction> {
    let generated = 0;
    const answer = (id: string): Uint8Array =>
      toBinary(schedulerHost.ScheduleResponseSchema, create(schedulerHost.ScheduleResponseSchema, { scheduleId: id || `gen-${++generated}` }));
    return {
      schedule_one_time: (req) => answer(fromBinary(schedulerHost.ScheduleOneTimeRequestSchema, req).scheduleId),
      schedule_recurring: (req) => answer(fromBinary(schedulerHost.ScheduleRecurringRequestSchema, req).scheduleId),
    };
  }

  it("cannot be loaded without the scheduler functions", async () => {
    await expect(load("multi_plugin")).rejects.toThrow(/schedule_(one_time|recurring)/);
  });

  it("schedules a one-time callback from GetArtistURL", async () => {
    const host = await load("multi_plugin", schedulerEnv());
    const res = call(host, A, "GetArtistURL", api.ArtistURLRequestSchema, { id: "1", name: "Some Artist" }, api.ArtistURLResponseSchema);
    expect(res).toEqual(ok(api.ArtistURLResponseSchema, { url: "https://multi.example.com/artist" }));
    expect(host.hostCalls.map((c) => c.name)).toEqual(["schedule_one_time"]);
    const sent = fromBinary(schedulerHost.ScheduleOneTimeRequestSchema, host.hostCalls[0]?.request ?? new Uint8Array());
    expect(sent).toEqual(
      create(schedulerHost.ScheduleOneTimeRequestSchema, { scheduleId: "artist:Some Artist", delaySeconds: 6, payload: utf8("test-payload") }),
    );
    // The host's response was written through the guest's malloc.
    expect(host.hostBuffers).toHaveLength(1);
  });

  it("schedules a recurring callback without an ID from OnInit", async () => {
    const host = await load("multi_plugin", schedulerEnv());
    expect(call(host, "LifecycleManagement", "OnInit", api.InitRequestSchema, { config: { a: "b" } }, api.InitResponseSchema)).toEqual(
      ok(api.InitResponseSchema, {}),
    );
    expect(host.hostCalls.map((c) => c.name)).toEqual(["schedule_recurring"]);
    expect(fromBinary(schedulerHost.ScheduleRecurringRequestSchema, host.hostCalls[0]?.request ?? new Uint8Array())).toEqual(
      create(schedulerHost.ScheduleRecurringRequestSchema, { cronExpression: "@every 5s", payload: utf8("every 5 seconds") }),
    );
  });

  it("answers the other metadata methods as Navidrome's multi_plugin does", async () => {
    const host = await load("multi_plugin", schedulerEnv());
    expect(call(host, A, "GetArtistMBID", api.ArtistMBIDRequestSchema, { name: "X" }, api.ArtistMBIDResponseSchema)).toEqual(
      ok(api.ArtistMBIDResponseSchema, { mbid: "multi-artist-mbid" }),
    );
    expect(call(host, A, "GetArtistMBID", api.ArtistMBIDRequestSchema, {}, api.ArtistMBIDResponseSchema)).toEqual(fails(PLUGIN_NOT_FOUND));
    expect(call(host, A, "GetArtistBiography", api.ArtistBiographyRequestSchema, { name: "X" }, api.ArtistBiographyResponseSchema)).toEqual(
      ok(api.ArtistBiographyResponseSchema, { biography: "Multi agent artist bio" }),
    );
    for (const method of ["GetSimilarArtists", "GetArtistImages", "GetArtistTopSongs", "GetAlbumImages"]) {
      const m = findMethod(A, method);
      if (!m) throw new Error(method);
      expect(host.call(m.exportName, toBinary(m.input, create(m.input, { name: "X" } as never)))).toEqual({ ok: true, bytes: new Uint8Array() });
    }
    expect(call(host, A, "GetAlbumInfo", api.AlbumInfoRequestSchema, { name: "Album", artist: "Artist" }, api.AlbumInfoResponseSchema)).toEqual(
      ok(api.AlbumInfoResponseSchema, {
        info: { name: "Album", mbid: "multi-album-mbid", description: "Multi agent album description", url: "https://multi.example.com/album" },
      }),
    );
    expect(call(host, A, "GetAlbumInfo", api.AlbumInfoRequestSchema, { name: "Album" }, api.AlbumInfoResponseSchema)).toEqual(
      fails(PLUGIN_NOT_FOUND),
    );
    expect(host.hostCalls).toEqual([]);
  });

  it("logs scheduler callbacks and answers them with an empty response", async () => {
    const host = await load("multi_plugin", schedulerEnv());
    const res = call(
      host,
      "SchedulerCallback",
      "OnSchedulerCallback",
      api.SchedulerCallbackRequestSchema,
      { scheduleId: "artist:X", payload: utf8("test-payload"), isRecurring: false },
      api.SchedulerCallbackResponseSchema,
    );
    expect(res).toEqual(ok(api.SchedulerCallbackResponseSchema, {}));
    expect(host.output.stderr).toBe("multi_plugin: one-time schedule artist:X fired with test-payload\n");
  });

  it("keeps answering over many host round trips without growing its memory", async () => {
    const host = await load("multi_plugin", schedulerEnv());
    const request = toBinary(api.ArtistURLRequestSchema, create(api.ArtistURLRequestSchema, { name: "A".repeat(2000) }));
    const exportName = findMethod(A, "GetArtistURL")?.exportName ?? "";
    const first = host.call(exportName, request);
    const pages = host.memory.buffer.byteLength;
    for (let i = 0; i < 5000; i++) expect(host.call(exportName, request)).toEqual(first);
    // Each call allocates ~6 KB of host and guest buffers; without frees 5000 calls would need 30 MB.
    expect(host.memory.buffer.byteLength).toBeLessThanOrEqual(pages + 4 * 65536);
  });

  it("frees host responses itself, so a host that never frees them does not leak", async () => {
    const host = await load("multi_plugin", schedulerEnv());
    host.freeHostBuffers = false; // Navidrome's behaviour
    const request = toBinary(api.ArtistURLRequestSchema, create(api.ArtistURLRequestSchema, { name: "B".repeat(30_000) }));
    const exportName = findMethod(A, "GetArtistURL")?.exportName ?? "";
    host.call(exportName, request);
    const pages = host.memory.buffer.byteLength;
    for (let i = 0; i < 1000; i++) host.call(exportName, request);
    // Leaked responses would take 30 MB; the garbage collector's own heap may grow a little.
    expect(host.memory.buffer.byteLength).toBeLessThanOrEqual(pages + 2 * 1024 * 1024);
  });
});

describe("fake_init_service", () => {
  const init = (host: TestHost, config: Record<string, string>) =>
    call(host, "LifecycleManagement", "OnInit", api.InitRequestSchema, { config }, api.InitResponseSchema);

  it("succeeds with an empty response by default and logs", async () => {
    const host = await load("fake_init_service");
    expect(init(host, {})).toEqual(ok(api.InitResponseSchema, {}));
    expect(init(host, { other: "x", returnError: "" })).toEqual(ok(api.InitResponseSchema, {}));
    expect(host.output.stderr).toBe("fake_init_service: OnInit with 0 config entries\nfake_init_service: OnInit with 2 config entries\n");
  });

  it("fails with an error string for returnError=go_error", async () => {
    const host = await load("fake_init_service");
    expect(init(host, { returnError: "go_error" })).toEqual(fails("initialization failed with Go error"));
  });

  it("answers with the error field for returnError=response_error", async () => {
    const host = await load("fake_init_service");
    expect(init(host, { returnError: "response_error" })).toEqual(
      ok(api.InitResponseSchema, { error: "initialization failed with response error" }),
    );
  });
});

describe("unauthorized_plugin", () => {
  it("cannot be instantiated without env.get", async () => {
    await expect(load("unauthorized_plugin")).rejects.toThrow(/"get"/);
  });

  it("sends Navidrome's request through env.get from GetAlbumInfo", async () => {
    const host = await load("unauthorized_plugin", {
      get: () => toBinary(httpHost.HttpResponseSchema, create(httpHost.HttpResponseSchema, { error: "permission denied" })),
    });
    const res = call(host, "MetadataAgent", "GetAlbumInfo", api.AlbumInfoRequestSchema, { name: "A", artist: "B" }, api.AlbumInfoResponseSchema);
    expect(res).toEqual(fails("permission denied"));
    expect(host.hostCalls.map((c) => c.name)).toEqual(["get"]);
    expect(fromBinary(httpHost.HttpRequestSchema, host.hostCalls[0]?.request ?? new Uint8Array())).toEqual(
      create(httpHost.HttpRequestSchema, { url: "https://example.com/test", headers: { Accept: "application/json" }, timeoutMs: 5000 }),
    );
  });

  it("does not implement the other metadata methods", async () => {
    const host = await load("unauthorized_plugin", { get: () => new Uint8Array() });
    for (const m of capability("MetadataAgent").methods.filter((m) => m.method !== "GetAlbumInfo")) {
      expect(host.call(m.exportName, new Uint8Array())).toEqual(fails(PLUGIN_NOT_IMPLEMENTED));
    }
    expect(host.hostCalls).toEqual([]);
  });
});
