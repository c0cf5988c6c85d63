// The listenbrainz-scrobbler example on the real runtime and host, with the ListenBrainz API
// answered by a stand-in at its real URL (canned answers), so the shipped manifest is the one tested.
import { startPlugin, type PluginUnderTest } from "@tonearm/plugin-testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exampleFolder } from "../../shared/test/examples.js";
import { fakeListenBrainz } from "./fake-listenbrainz.js";

const PLUGIN = "listenbrainz-scrobbler";
const USERS = "alice:token-alice, Bob:token-bob,u-carol:token-carol,mallory:token-revoked,dave:token-flaky,no-token-entry,:nameless,eve:";

let host: PluginUnderTest;

const http = fakeListenBrainz();

/** What reached ListenBrainz, in the shape the assertions compare. */
const submissions = () =>
  http.requests.map((r) => ({
    method: r.method,
    path: r.url.pathname,
    authorization: r.headers["Authorization"] ?? "",
    contentType: r.headers["Content-Type"] ?? "",
    body: r.json(),
  }));

const TRACK = {
  id: "mf-1",
  mbid: "3d2c6bd1-4bd4-4d3e-9dd4-0b5c1d6e8f70",
  name: "Something",
  album: "Abbey Road",
  albumMbid: "9d4bd6ac-0b36-4a4f-a0b4-aa3e01c9b9e0",
  artists: [
    { name: "The Beatles", mbid: "b10bbbfc-cf9e-42e0-be17-e2c3e1d2600d" },
    { name: "George Martin", mbid: "" },
  ],
  albumArtists: [{ name: "The Beatles", mbid: "b10bbbfc-cf9e-42e0-be17-e2c3e1d2600d" }],
  length: 182,
  position: 30,
};

const ADDITIONAL_INFO = {
  submission_client: "Tonearm listenbrainz-scrobbler",
  submission_client_version: "1.0.0",
  recording_mbid: TRACK.mbid,
  release_mbid: TRACK.albumMbid,
  artist_mbids: ["b10bbbfc-cf9e-42e0-be17-e2c3e1d2600d"],
  duration_ms: 182_000,
};

const CONFIG = { users: USERS };

beforeAll(async () => {
  host = await startPlugin(await exampleFolder(PLUGIN), { http, config: CONFIG });
});

afterAll(() => host?.close());

describe("IsAuthorized", () => {
  it("authorizes the users that have a token, by username (any case) or by user ID", async () => {
    const authorized = async (userId: string, username: string) =>
      ((await host.call("Scrobbler/IsAuthorized", { userId, username })) as { authorized?: boolean }).authorized ?? false;
    expect(await authorized("u-alice", "alice")).toBe(true);
    expect(await authorized("u-bob", "BOB")).toBe(true);
    expect(await authorized("u-carol", "")).toBe(true);
    expect(await authorized("u-zed", "zed")).toBe(false);
    expect(await authorized("u-eve", "eve")).toBe(false);
    expect(await authorized("", "no-token-entry")).toBe(false);
    expect(await authorized("", "")).toBe(false);
  });
});

describe("NowPlaying", () => {
  it("posts a playing_now listen with the user's token", async () => {
    expect(await host.call("Scrobbler/NowPlaying", { userId: "u-alice", username: "alice", track: TRACK, timestamp: 1_700_000_000 })).toEqual({});
    expect(submissions().at(-1)).toEqual({
      method: "POST",
      path: "/1/submit-listens",
      authorization: "Token token-alice",
      contentType: "application/json",
      body: {
        listen_type: "playing_now",
        payload: [
          {
            track_metadata: {
              artist_name: "The Beatles, George Martin",
              track_name: "Something",
              release_name: "Abbey Road",
              additional_info: ADDITIONAL_INFO,
            },
          },
        ],
      },
    });
  });
});

describe("Scrobble", () => {
  it("posts a single listen with its time", async () => {
    expect(await host.call("Scrobbler/Scrobble", { userId: "u-bob", username: "bob", track: TRACK, timestamp: 1_700_000_123 })).toEqual({});
    const last = submissions().at(-1);
    expect(last?.authorization).toBe("Token token-bob");
    expect(last?.body).toEqual({
      listen_type: "single",
      payload: [
        {
          listened_at: 1_700_000_123,
          track_metadata: { artist_name: "The Beatles, George Martin", track_name: "Something", release_name: "Abbey Road", additional_info: ADDITIONAL_INFO },
        },
      ],
    });
  });

  it("finds the token by user ID when the request has no username, and keeps text intact", async () => {
    const track = { name: 'Say "Hi"\n\\ Ünïcødé ♫', artists: [], albumArtists: [{ name: "Various", mbid: "" }] };
    expect(await host.call("Scrobbler/Scrobble", { userId: "u-carol", track, timestamp: 1_700_000_200 })).toEqual({});
    const last = submissions().at(-1);
    expect(last?.authorization).toBe("Token token-carol");
    expect(last?.body).toEqual({
      listen_type: "single",
      payload: [
        {
          listened_at: 1_700_000_200,
          track_metadata: {
            artist_name: "Various",
            track_name: 'Say "Hi"\n\\ Ünïcødé ♫',
            additional_info: { submission_client: "Tonearm listenbrainz-scrobbler", submission_client_version: "1.0.0" },
          },
        },
      ],
    });
  });
});

describe("errors", () => {
  it("returns what ListenBrainz refused as the response error", async () => {
    expect(await host.call("Scrobbler/Scrobble", { userId: "u-m", username: "mallory", track: TRACK, timestamp: 1_700_000_300 })).toEqual({
      error: "ListenBrainz answered 401: Invalid authorization token.",
    });
    const flaky = (await host.call("Scrobbler/NowPlaying", { username: "dave", track: TRACK })) as { error: string };
    expect(flaky.error).toMatch(/^ListenBrainz answered 502: <html><body>Bad gateway\. /);
    expect(flaky.error.length).toBeLessThan(260);
  });

  it("refuses without a request when the user, the track or its time is missing", async () => {
    const before = submissions().length;
    expect(await host.call("Scrobbler/NowPlaying", { userId: "u-zed", username: "zed", track: TRACK })).toEqual({
      error: "no ListenBrainz token configured for user zed",
    });
    expect(await host.call("Scrobbler/NowPlaying", { username: "alice" })).toEqual({ error: "no track in the request" });
    expect(await host.call("Scrobbler/NowPlaying", { username: "alice", track: { name: "Untitled" } })).toEqual({
      error: "ListenBrainz needs a track name and an artist",
    });
    expect(await host.call("Scrobbler/Scrobble", { username: "alice", track: TRACK })).toEqual({ error: "no listen time in the request" });
    expect(submissions().length).toBe(before);
  });

  it("can reach nothing but api.listenbrainz.org with the shipped manifest", async () => {
    await host.setConfig({ ...CONFIG, baseurl: "https://listenbrainz.example.com" });
    try {
      const before = submissions().length;
      const response = (await host.call("Scrobbler/NowPlaying", { username: "alice", track: TRACK })) as { error: string };
      expect(response.error).toMatch(/^ListenBrainz request failed: Request blocked by plugin permissions: /);
      expect(submissions().length).toBe(before);
    } finally {
      await host.setConfig(CONFIG);
    }
  });
});
