// The musicbrainz-agent example on the real runtime and host, with MusicBrainz, the Cover Art
// Archive and archive.org answered by stand-ins at their real URLs (canned answers), so the shipped
// manifest is the one tested: it must allow every request, the archive's redirects included.
import { startPlugin, type PluginUnderTest, type RecordedRequest } from "@tonearm/plugin-testkit";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { exampleFolder } from "../../shared/test/examples.js";
import { ABBEY_ROAD, BEATLES, fakeMusicBrainz } from "./fake-musicbrainz.js";

const PLUGIN = "musicbrainz-agent";
const NO_COVER = "0a0a0a0a-1111-2222-3333-444444444444";
const RATE_KEY = "musicbrainz.last-request";
const CONFIG = { contact: "ops@music.example.com" };

let host: PluginUnderTest;
const http = fakeMusicBrainz();
const seen = () => http.requests;
const requestsTo = (path: string) => seen().filter((r) => r.url.pathname === path);
const query = (r: RecordedRequest | undefined) => r?.url.searchParams.get("query") ?? "";

beforeAll(async () => {
  host = await startPlugin(await exampleFolder(PLUGIN), { http, config: CONFIG });
});

afterAll(() => host?.close());

// Each test starts with MusicBrainz's one-second budget unspent.
beforeEach(() => host.cache.remove(RATE_KEY));

describe("GetArtistMBID", () => {
  it("searches MusicBrainz by name with a proper User-Agent and answers later lookups from the cache", async () => {
    expect(await host.call("MetadataAgent/GetArtistMBID", { id: "ar-1", name: "The Beatles" })).toEqual({ mbid: BEATLES });
    const [search] = requestsTo("/ws/2/artist").filter((r) => query(r) === 'artist:"The Beatles"');
    expect(search?.headers).toMatchObject({ "User-Agent": "tonearm-musicbrainz-agent/1.0.0 ( ops@music.example.com )", Accept: "application/json" });

    await host.cache.remove(RATE_KEY);
    expect(await host.call("MetadataAgent/GetArtistMBID", { name: "the beatles" })).toEqual({ mbid: BEATLES });
    expect(requestsTo("/ws/2/artist").filter((r) => query(r).toLowerCase() === 'artist:"the beatles"')).toHaveLength(1);
  });

  it("answers not found for weak matches and no matches, and remembers the miss", async () => {
    await expect(host.call("MetadataAgent/GetArtistMBID", { name: "Beatles Revival" })).rejects.toMatchObject({ code: "not_found" });
    await host.cache.remove(RATE_KEY);
    await expect(host.call("MetadataAgent/GetArtistMBID", { name: "Beatles Revival" })).rejects.toMatchObject({ code: "not_found" });
    expect(requestsTo("/ws/2/artist").filter((r) => query(r) === 'artist:"Beatles Revival"')).toHaveLength(1);
    await expect(host.call("MetadataAgent/GetArtistMBID", { name: "   " })).rejects.toMatchObject({ code: "not_found" });
  });

  it("quotes the name as a Lucene phrase and sends it as UTF-8", async () => {
    await expect(host.call("MetadataAgent/GetArtistMBID", { name: 'Sigur Rós "Ágætis" \\ byrjun 🎵' })).rejects.toMatchObject({ code: "not_found" });
    expect(query(requestsTo("/ws/2/artist").at(-1))).toBe('artist:"Sigur Rós \\"Ágætis\\" \\\\ byrjun 🎵"');
  });

  it("does not remember an upstream failure", async () => {
    await expect(host.call("MetadataAgent/GetArtistMBID", { name: "Overloaded" })).rejects.toMatchObject({ code: "not_found" });
    await host.cache.remove(RATE_KEY);
    await expect(host.call("MetadataAgent/GetArtistMBID", { name: "Overloaded" })).rejects.toMatchObject({ code: "not_found" });
    expect(requestsTo("/ws/2/artist").filter((r) => query(r) === 'artist:"Overloaded"')).toHaveLength(2);
  });
});

describe("rate limit", () => {
  it("asks MusicBrainz at most once a second and answers not found instead of asking sooner", async () => {
    const before = seen().length;
    await expect(host.call("MetadataAgent/GetArtistMBID", { name: "First Of Two" })).rejects.toMatchObject({ code: "not_found" });
    await expect(host.call("MetadataAgent/GetArtistMBID", { name: "Second Of Two" })).rejects.toMatchObject({ code: "not_found" });
    expect(seen().slice(before).map(query)).toEqual(['artist:"First Of Two"']);
    expect(host.logs.some((line) => line.includes("rate limit"))).toBe(true);

    // The slot is a timestamp: recorded just now it still blocks, recorded two seconds ago it does not.
    await host.cache.set(RATE_KEY, { type: "int", value: BigInt(Date.now()) }, 60_000);
    await expect(host.call("MetadataAgent/GetArtistMBID", { name: "Second Of Two" })).rejects.toMatchObject({ code: "not_found" });
    expect(seen().length).toBe(before + 1);
    await host.cache.set(RATE_KEY, { type: "int", value: BigInt(Date.now() - 2_000) }, 60_000);
    await expect(host.call("MetadataAgent/GetArtistMBID", { name: "Second Of Two" })).rejects.toMatchObject({ code: "not_found" });
    expect(seen().slice(before).map(query)).toEqual(['artist:"First Of Two"', 'artist:"Second Of Two"']);
    expect((await host.cache.get(RATE_KEY))?.value).toBeGreaterThan(BigInt(Date.now() - 2_000));
  });
});

describe("GetArtistURL", () => {
  it("links the MusicBrainz artist page, searching only when no MBID is given", async () => {
    const before = seen().length;
    expect(await host.call("MetadataAgent/GetArtistURL", { name: "The Beatles", mbid: BEATLES })).toEqual({
      url: `https://musicbrainz.org/artist/${BEATLES}`,
    });
    expect(seen().length).toBe(before);
    expect(await host.call("MetadataAgent/GetArtistURL", { name: "The Beatles" })).toEqual({ url: `https://musicbrainz.org/artist/${BEATLES}` });
    await expect(host.call("MetadataAgent/GetArtistURL", { name: "Nobody At All" })).rejects.toMatchObject({ code: "not_found" });
  });
});

describe("GetAlbumInfo", () => {
  it("looks a release up by MBID, with its annotation as the description", async () => {
    expect(await host.call("MetadataAgent/GetAlbumInfo", { name: "Abbey Road", artist: "The Beatles", mbid: ABBEY_ROAD })).toEqual({
      info: { name: "Abbey Road", mbid: ABBEY_ROAD, description: 'Recorded at "EMI" Studios,\nLondon – 1969 🎵', url: `https://musicbrainz.org/release/${ABBEY_ROAD}` },
    });
    expect(query(requestsTo(`/ws/2/release/${ABBEY_ROAD}`)[0])).toBe("");
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
    await host.cache.remove(`cover:${ABBEY_ROAD}`);
    await host.cache.remove(`release-search:the beatles\nabbey road`);
    const before = seen().length;
    const response = (await host.call("MetadataAgent/GetAlbumImages", { name: "Abbey Road", artist: "The Beatles" })) as { images: unknown[] };
    expect(response.images).toHaveLength(3);
    expect(seen().slice(before).map((r) => r.url.host + r.url.pathname)).toEqual([
      "musicbrainz.org/ws/2/release",
      `coverartarchive.org/release/${ABBEY_ROAD}`,
      `archive.org/download/mbid-${ABBEY_ROAD}/index.json`,
      `ia800105.us.archive.org/22/items/mbid-${ABBEY_ROAD}/index.json`,
    ]);
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

  it("can reach nothing but the public services with the shipped manifest", async () => {
    await host.setConfig({ ...CONFIG, musicbrainzurl: "https://mb-mirror.example.com", coverartarchiveurl: "https://caa-mirror.example.com" });
    try {
      const before = seen().length;
      await expect(host.call("MetadataAgent/GetArtistMBID", { name: "Nobody Mirrored" })).rejects.toMatchObject({ code: "not_found" });
      await expect(host.call("MetadataAgent/GetAlbumImages", { mbid: "1b1b1b1b-1111-2222-3333-444444444444" })).rejects.toMatchObject({ code: "not_found" });
      expect(seen().length).toBe(before);
      expect(host.logs.filter((line) => line.includes("Request blocked by plugin permissions"))).toHaveLength(2);
    } finally {
      await host.setConfig(CONFIG);
    }
  });
});
