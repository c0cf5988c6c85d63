// The musicbrainz-agent example through the real runtime and host, against a loopback stand-in for
// MusicBrainz and the Cover Art Archive (config points the plugin at it; the test's copy of the
// manifest allows it, the shipped one does not).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startExample, type ExampleHost, type ExampleHostOptions, type ManifestJson } from "../../shared/test/example-host.js";

const PLUGIN = "musicbrainz-agent";
const BEATLES = "b10bbbfc-cf9e-42e0-be17-e2c3e1d2600d";
const ABBEY_ROAD = "9d4bd6ac-0b36-4a4f-a0b4-aa3e01c9b9e0";
const NO_COVER = "0a0a0a0a-1111-2222-3333-444444444444";
const RATE_KEY = "musicbrainz.last-request";

interface SeenRequest {
  readonly path: string;
  readonly query: string;
  readonly userAgent: string;
  readonly accept: string;
}

const seen: SeenRequest[] = [];
let server: Server;
let base: string;
let host: ExampleHost;

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

/** Answers like MusicBrainz's /ws/2 search and lookup, and like the Cover Art Archive (with its redirect to archive.org). */
function upstream(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://upstream");
  const query = url.searchParams.get("query") ?? "";
  seen.push({ path: url.pathname, query, userAgent: req.headers["user-agent"] ?? "", accept: req.headers.accept ?? "" });

  if (url.pathname === "/ws/2/artist") {
    if (query === 'artist:"Overloaded"') return json(res, 503, { error: "Your requests are exceeding the allowable rate limit." });
    const artists =
      query === 'artist:"The Beatles"'
        ? [{ id: BEATLES, name: "The Beatles", score: 100 }]
        : query === 'artist:"Beatles Revival"'
          ? [{ id: "5c1e0f6a-0000-4000-8000-000000000001", name: "The Beatles Revival Band", score: 62 }]
          : [];
    return json(res, 200, { count: artists.length, offset: 0, artists });
  }
  if (url.pathname === "/ws/2/release") {
    const releases = query === 'release:"Abbey Road" AND artist:"The Beatles"' ? [{ id: ABBEY_ROAD, title: "Abbey Road", score: 100 }] : [];
    return json(res, 200, { count: releases.length, offset: 0, releases });
  }
  if (url.pathname === `/ws/2/release/${ABBEY_ROAD}`) {
    // Written by hand to carry every kind of JSON escape and value.
    res.writeHead(200, { "content-type": "application/json" });
    return void res.end(
      `{ "id": "${ABBEY_ROAD}", "title": "Abbey Road", "annotation": "Recorded at \\"EMI\\" Studios,\\nLondon \\u2013 1969 \\ud83c\\udfb5",\n` +
        ` "packaging": null, "quality": "normal", "cover-art-archive": { "front": true, "count": 2.0e0 }, "tags": [], "score": -1 }`,
    );
  }
  if (url.pathname.startsWith("/ws/2/release/")) return json(res, 404, { error: "Not Found" });
  if (url.pathname === `/release/${ABBEY_ROAD}`) {
    res.writeHead(307, { location: `/download/mbid-${ABBEY_ROAD}/index.json` });
    return void res.end();
  }
  if (url.pathname === `/download/mbid-${ABBEY_ROAD}/index.json`) {
    const thumbs = (id: string) => ({
      "250": `http://coverartarchive.org/release/${ABBEY_ROAD}/${id}-250.jpg`,
      "500": `http://coverartarchive.org/release/${ABBEY_ROAD}/${id}-500.jpg`,
      "1200": `http://coverartarchive.org/release/${ABBEY_ROAD}/${id}-1200.jpg`,
    });
    return json(res, 200, {
      release: `https://musicbrainz.org/release/${ABBEY_ROAD}`,
      images: [
        { id: "1", front: false, back: true, image: `http://coverartarchive.org/release/${ABBEY_ROAD}/1.jpg`, thumbnails: thumbs("1") },
        { id: "2", front: true, back: false, image: `http://coverartarchive.org/release/${ABBEY_ROAD}/2.jpg`, thumbnails: thumbs("2") },
      ],
    });
  }
  json(res, 404, { error: "Not Found" });
}

/** The loopback server in place of the real hosts, and a manifest allowing only that. */
function loopbackOptions(): ExampleHostOptions {
  return {
    config: { musicbrainzurl: base, coverartarchiveurl: `${base}/`, contact: "ops@music.example.com" },
    adjustManifest: (manifest: ManifestJson) => {
      manifest.permissions.http = {
        reason: "test stand-in for MusicBrainz and the Cover Art Archive",
        allowLocalNetwork: true,
        allowedUrls: { [`${base}/ws/2/*`]: ["GET"], [`${base}/release/*`]: ["GET"], [`${base}/download/*`]: ["GET"] },
      };
    },
  };
}

const requestsTo = (path: string) => seen.filter((r) => r.path === path);

beforeAll(async () => {
  server = createServer(upstream);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  host = await startExample(PLUGIN, loopbackOptions());
});

afterAll(async () => {
  await host?.close();
  server?.close();
});

// Each test starts with MusicBrainz's one-second budget unspent.
beforeEach(() => host.cache.remove(PLUGIN, RATE_KEY));

describe("GetArtistMBID", () => {
  it("searches MusicBrainz by name with a proper User-Agent and answers later lookups from the cache", async () => {
    expect(await host.call("MetadataAgent/GetArtistMBID", { id: "ar-1", name: "The Beatles" })).toEqual({ mbid: BEATLES });
    const [search] = requestsTo("/ws/2/artist").filter((r) => r.query === 'artist:"The Beatles"');
    expect(search).toMatchObject({ userAgent: "tonearm-musicbrainz-agent/1.0.0 ( ops@music.example.com )", accept: "application/json" });

    await host.cache.remove(PLUGIN, RATE_KEY);
    expect(await host.call("MetadataAgent/GetArtistMBID", { name: "the beatles" })).toEqual({ mbid: BEATLES });
    expect(requestsTo("/ws/2/artist").filter((r) => r.query.toLowerCase() === 'artist:"the beatles"')).toHaveLength(1);
  });

  it("answers not found for weak matches and no matches, and remembers the miss", async () => {
    await expect(host.call("MetadataAgent/GetArtistMBID", { name: "Beatles Revival" })).rejects.toMatchObject({ code: "not_found" });
    await host.cache.remove(PLUGIN, RATE_KEY);
    await expect(host.call("MetadataAgent/GetArtistMBID", { name: "Beatles Revival" })).rejects.toMatchObject({ code: "not_found" });
    expect(requestsTo("/ws/2/artist").filter((r) => r.query === 'artist:"Beatles Revival"')).toHaveLength(1);
    await expect(host.call("MetadataAgent/GetArtistMBID", { name: "   " })).rejects.toMatchObject({ code: "not_found" });
  });

  it("quotes the name as a Lucene phrase and sends it as UTF-8", async () => {
    await expect(host.call("MetadataAgent/GetArtistMBID", { name: 'Sigur Rós "Ágætis" \\ byrjun 🎵' })).rejects.toMatchObject({ code: "not_found" });
    expect(requestsTo("/ws/2/artist").at(-1)?.query).toBe('artist:"Sigur Rós \\"Ágætis\\" \\\\ byrjun 🎵"');
  });

  it("does not remember an upstream failure", async () => {
    await expect(host.call("MetadataAgent/GetArtistMBID", { name: "Overloaded" })).rejects.toMatchObject({ code: "not_found" });
    await host.cache.remove(PLUGIN, RATE_KEY);
    await expect(host.call("MetadataAgent/GetArtistMBID", { name: "Overloaded" })).rejects.toMatchObject({ code: "not_found" });
    expect(requestsTo("/ws/2/artist").filter((r) => r.query === 'artist:"Overloaded"')).toHaveLength(2);
  });
});

describe("rate limit", () => {
  it("asks MusicBrainz at most once a second and answers not found instead of asking sooner", async () => {
    const before = seen.length;
    await expect(host.call("MetadataAgent/GetArtistMBID", { name: "First Of Two" })).rejects.toMatchObject({ code: "not_found" });
    await expect(host.call("MetadataAgent/GetArtistMBID", { name: "Second Of Two" })).rejects.toMatchObject({ code: "not_found" });
    expect(seen.slice(before).map((r) => r.query)).toEqual(['artist:"First Of Two"']);
    expect(host.logs.some((line) => line.includes("rate limit"))).toBe(true);

    // The slot is a timestamp: recorded just now it still blocks, recorded two seconds ago it does not.
    await host.cache.set(PLUGIN, RATE_KEY, { type: "int", value: BigInt(Date.now()) }, 60_000);
    await expect(host.call("MetadataAgent/GetArtistMBID", { name: "Second Of Two" })).rejects.toMatchObject({ code: "not_found" });
    expect(seen.length).toBe(before + 1);
    await host.cache.set(PLUGIN, RATE_KEY, { type: "int", value: BigInt(Date.now() - 2_000) }, 60_000);
    await expect(host.call("MetadataAgent/GetArtistMBID", { name: "Second Of Two" })).rejects.toMatchObject({ code: "not_found" });
    expect(seen.slice(before).map((r) => r.query)).toEqual(['artist:"First Of Two"', 'artist:"Second Of Two"']);
    expect((await host.cache.get(PLUGIN, RATE_KEY))?.value).toBeGreaterThan(BigInt(Date.now() - 2_000));
  });
});

describe("GetArtistURL", () => {
  it("links the MusicBrainz artist page, searching only when no MBID is given", async () => {
    const before = seen.length;
    expect(await host.call("MetadataAgent/GetArtistURL", { name: "The Beatles", mbid: BEATLES })).toEqual({
      url: `https://musicbrainz.org/artist/${BEATLES}`,
    });
    expect(seen.length).toBe(before);
    expect(await host.call("MetadataAgent/GetArtistURL", { name: "The Beatles" })).toEqual({ url: `https://musicbrainz.org/artist/${BEATLES}` });
    await expect(host.call("MetadataAgent/GetArtistURL", { name: "Nobody At All" })).rejects.toMatchObject({ code: "not_found" });
  });
});

describe("GetAlbumInfo", () => {
  it("looks a release up by MBID, with its annotation as the description", async () => {
    expect(await host.call("MetadataAgent/GetAlbumInfo", { name: "Abbey Road", artist: "The Beatles", mbid: ABBEY_ROAD })).toEqual({
      info: { name: "Abbey Road", mbid: ABBEY_ROAD, description: 'Recorded at "EMI" Studios,\nLondon – 1969 🎵', url: `https://musicbrainz.org/release/${ABBEY_ROAD}` },
    });
    expect(requestsTo(`/ws/2/release/${ABBEY_ROAD}`)[0]?.query).toBe("");
  });

  it("finds a release by title and artist", async () => {
    expect(await host.call("MetadataAgent/GetAlbumInfo", { name: "Abbey Road", artist: "The Beatles" })).toEqual({
      info: { name: "Abbey Road", mbid: ABBEY_ROAD, url: `https://musicbrainz.org/release/${ABBEY_ROAD}` },
    });
  });

  it("answers not found for unknown releases", async () => {
    await expect(host.call("MetadataAgent/GetAlbumInfo", { mbid: NO_COVER })).rejects.toMatchObject({ code: "not_found" });
    await expect(host.call("MetadataAgent/GetAlbumInfo", { name: "" })).rejects.toMatchObject({ code: "not_found" });
  });
});

describe("GetAlbumImages", () => {
  it("lists the front cover from the Cover Art Archive, following its redirect, largest first over https", async () => {
    const cover = (size: number) => ({ url: `https://coverartarchive.org/release/${ABBEY_ROAD}/2-${size}.jpg`, size });
    expect(await host.call("MetadataAgent/GetAlbumImages", { name: "Abbey Road", artist: "The Beatles", mbid: ABBEY_ROAD })).toEqual({
      images: [cover(1200), cover(500), cover(250)],
    });
    expect(requestsTo(`/release/${ABBEY_ROAD}`)).toHaveLength(1);
    expect(requestsTo(`/download/mbid-${ABBEY_ROAD}/index.json`)).toHaveLength(1);
  });

  it("finds the release first when no MBID is given; the archive is not held to MusicBrainz's rate", async () => {
    await host.cache.remove(PLUGIN, `cover:${ABBEY_ROAD}`);
    await host.cache.remove(PLUGIN, `release-search:the beatles\nabbey road`);
    const before = seen.length;
    const response = (await host.call("MetadataAgent/GetAlbumImages", { name: "Abbey Road", artist: "The Beatles" })) as { images: unknown[] };
    expect(response.images).toHaveLength(3);
    expect(seen.slice(before).map((r) => r.path)).toEqual(["/ws/2/release", `/release/${ABBEY_ROAD}`, `/download/mbid-${ABBEY_ROAD}/index.json`]);
  });

  it("answers not found when the archive has no cover", async () => {
    await expect(host.call("MetadataAgent/GetAlbumImages", { mbid: NO_COVER })).rejects.toMatchObject({ code: "not_found" });
    await expect(host.call("MetadataAgent/GetAlbumImages", { mbid: NO_COVER })).rejects.toMatchObject({ code: "not_found" });
    expect(requestsTo(`/release/${NO_COVER}`)).toHaveLength(1);
  });
});

describe("capabilities and permissions", () => {
  it("leaves the methods MusicBrainz cannot answer unimplemented", async () => {
    await expect(host.call("MetadataAgent/GetArtistBiography", { name: "The Beatles" })).rejects.toMatchObject({ code: "not_implemented" });
  });

  it("cannot reach anything but the real services with the shipped manifest", async () => {
    const shipped = await startExample(PLUGIN, { config: loopbackOptions().config });
    try {
      const before = seen.length;
      await expect(shipped.call("MetadataAgent/GetArtistMBID", { name: "The Beatles" })).rejects.toMatchObject({ code: "not_found" });
      await expect(shipped.call("MetadataAgent/GetAlbumImages", { mbid: ABBEY_ROAD })).rejects.toMatchObject({ code: "not_found" });
      expect(seen.length).toBe(before);
      expect(shipped.logs.filter((line) => line.includes("Request blocked by plugin permissions"))).toHaveLength(2);
    } finally {
      await shipped.close();
    }
  });
});
