// The listenbrainz-scrobbler example through the real runtime and host, against a loopback
// stand-in for the ListenBrainz API (config `baseurl` points the plugin at it; the test's copy of
// the manifest allows it, the shipped one does not).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startExample, type ExampleHost } from "../../shared/test/example-host.js";

const PLUGIN = "listenbrainz-scrobbler";
const USERS = "alice:token-alice, Bob:token-bob,u-carol:token-carol,mallory:token-revoked,dave:token-flaky,no-token-entry,:nameless,eve:";

interface Submission {
  readonly method: string;
  readonly path: string;
  readonly authorization: string;
  readonly contentType: string;
  readonly body: unknown;
}

const submissions: Submission[] = [];
let server: Server;
let base: string;
let host: ExampleHost;

/** Answers like ListenBrainz: 200 for good tokens, its JSON error for a revoked one, an HTML page when "down". */
function listenBrainz(req: IncomingMessage, res: ServerResponse): void {
  let raw = "";
  req.on("data", (chunk: Buffer) => (raw += chunk.toString()));
  req.on("end", () => {
    const authorization = req.headers.authorization ?? "";
    submissions.push({ method: req.method ?? "", path: req.url ?? "", authorization, contentType: req.headers["content-type"] ?? "", body: JSON.parse(raw) });
    if (authorization === "Token token-revoked") {
      res.writeHead(401, { "content-type": "application/json" });
      return void res.end(JSON.stringify({ code: 401, error: "Invalid authorization token." }));
    }
    if (authorization === "Token token-flaky") {
      res.writeHead(502, { "content-type": "text/html" });
      return void res.end(`<html><body>${"Bad gateway. ".repeat(30)}</body></html>`);
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ status: "ok" }));
  });
}

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

const loopbackConfig = () => ({ baseurl: `${base}/`, users: USERS });

beforeAll(async () => {
  server = createServer(listenBrainz);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  host = await startExample(PLUGIN, {
    config: loopbackConfig(),
    adjustManifest: (manifest) => {
      manifest.permissions.http = {
        reason: "test stand-in for ListenBrainz",
        allowLocalNetwork: true,
        allowedUrls: { [`${base}/1/submit-listens`]: ["POST"] },
      };
    },
  });
});

afterAll(async () => {
  await host?.close();
  server?.close();
});

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
    expect(submissions.at(-1)).toEqual({
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
    const last = submissions.at(-1);
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
    const last = submissions.at(-1);
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
    const before = submissions.length;
    expect(await host.call("Scrobbler/NowPlaying", { userId: "u-zed", username: "zed", track: TRACK })).toEqual({
      error: "no ListenBrainz token configured for user zed",
    });
    expect(await host.call("Scrobbler/NowPlaying", { username: "alice" })).toEqual({ error: "no track in the request" });
    expect(await host.call("Scrobbler/NowPlaying", { username: "alice", track: { name: "Untitled" } })).toEqual({
      error: "ListenBrainz needs a track name and an artist",
    });
    expect(await host.call("Scrobbler/Scrobble", { username: "alice", track: TRACK })).toEqual({ error: "no listen time in the request" });
    expect(submissions.length).toBe(before);
  });

  it("cannot reach anything but api.listenbrainz.org with the shipped manifest", async () => {
    const shipped = await startExample(PLUGIN, { config: loopbackConfig() });
    try {
      const before = submissions.length;
      const response = (await shipped.call("Scrobbler/NowPlaying", { username: "alice", track: TRACK })) as { error: string };
      expect(response.error).toMatch(/^ListenBrainz request failed: Request blocked by plugin permissions: /);
      expect(submissions.length).toBe(before);
    } finally {
      await shipped.close();
    }
  });
});
