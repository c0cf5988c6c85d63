// The lastfm-agent example, both builds (AssemblyScript and Go), on the real runtime and host with
// the Last.fm API answered by a stand-in (canned answers at the real URL, so the shipped manifest
// is the one tested). Every expectation holds for both builds.
import { startPlugin, type PluginUnderTest } from "@tonearm/plugin-testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exampleFolder, goExampleFolder } from "../../shared/test/examples.js";
import { API_KEY, CHER_MBID, fakeLastFm, LASTFM_API } from "./fake-lastfm.js";

const builds: [string, string | undefined][] = [
  ["AssemblyScript", await exampleFolder("lastfm-agent")],
  ["Go", await goExampleFolder("lastfm-agent")],
];

const CHER_BIO =
  'Cher (born Cherilyn Sarkisian; May 20, 1946) is an American singer & actress. <a href="https://www.last.fm/music/Cher">Read more on Last.fm</a>';

describe.each(builds)("lastfm-agent (%s)", (_language, folder) => {
  let agent: PluginUnderTest;
  const requested = () => agent.http?.requests ?? [];
  const call = (method: string, request: object) => agent.call(`MetadataAgent/${method}`, request as never);

  beforeAll(async () => {
    if (folder) agent = await startPlugin(folder, { id: "lastfm-agent", http: fakeLastFm(), config: { apikey: API_KEY } });
  });
  afterAll(() => agent?.close());

  describe.skipIf(folder === undefined)("with the stand-in API", () => {
    it("finds similar artists with one GET of artist.getsimilar, and answers again from the cache", async () => {
      const before = requested().length;
      expect(await call("GetSimilarArtists", { id: "ar-1", name: "Cher", limit: 3 })).toEqual({
        artists: [
          { name: "Sonny & Cher", mbid: "3d6e4b6d-2700-458c-9722-9021965a8164" },
          { name: "Kylie Minogue", mbid: "2fddb92d-24b2-46a5-bf28-3aed46f4684c" },
          { name: "Madonna", mbid: "79239441-bfd5-4981-a70c-55c3f15c1287" },
        ],
      });
      const [request] = requested().slice(before);
      expect(request?.url.href).toBe(`${LASTFM_API}?method=artist.getsimilar&artist=Cher&autocorrect=1&limit=3&api_key=${API_KEY}&format=json`);
      expect(request?.headers).toMatchObject({ Accept: "application/json", "User-Agent": "tonearm-lastfm-agent/1.0.0" });

      expect(await call("GetSimilarArtists", { name: "CHER", limit: 3 })).toMatchObject({ artists: expect.any(Array) });
      expect(requested().length).toBe(before + 1);
    });

    it("asks for 20 artists when the request sets no limit and for 100 at most, and skips nameless entries", async () => {
      expect(await call("GetSimilarArtists", { name: "Cher" })).toEqual({
        artists: [
          { name: "Sonny & Cher", mbid: "3d6e4b6d-2700-458c-9722-9021965a8164" },
          { name: "Kylie Minogue", mbid: "2fddb92d-24b2-46a5-bf28-3aed46f4684c" },
          { name: "Madonna", mbid: "79239441-bfd5-4981-a70c-55c3f15c1287" },
          { name: "Cyndi Lauper" },
        ],
      });
      await call("GetSimilarArtists", { name: "Cher", limit: 5000 });
      expect(requested().map((r) => r.url.searchParams.get("limit"))).toEqual(expect.arrayContaining(["20", "100"]));
    });

    it("lists top songs from artist.gettoptracks, count as the limit", async () => {
      expect(await call("GetArtistTopSongs", { artistName: "Cher", count: 2 })).toEqual({
        songs: [{ name: "Believe", mbid: "32ca187e-ee25-4f18-b7d0-3b6713f24635" }, { name: "Strong Enough" }],
      });
      expect(requested().at(-1)?.url.searchParams.get("method")).toBe("artist.gettoptracks");
      expect(requested().at(-1)?.url.searchParams.get("limit")).toBe("2");
    });

    it("answers biography, page and MBID from one artist.getinfo request", async () => {
      const before = requested().length;
      expect(await call("GetArtistBiography", { name: "Cher" })).toEqual({ biography: CHER_BIO });
      expect(await call("GetArtistURL", { name: "Cher" })).toEqual({ url: "https://www.last.fm/music/Cher" });
      expect(await call("GetArtistMBID", { name: "cher" })).toEqual({ mbid: CHER_MBID });
      const asked = requested().slice(before);
      expect(asked.map((r) => r.url.href)).toEqual([`${LASTFM_API}?method=artist.getinfo&artist=Cher&autocorrect=1&lang=en&api_key=${API_KEY}&format=json`]);
    });

    it("sends names as UTF-8 and reads Last.fm's lists of one", async () => {
      expect(await call("GetSimilarArtists", { name: "Sigur Rós" })).toEqual({ artists: [{ name: "Jónsi", mbid: "f2c9f4bc-d4d1-4b3c-a8e8-b8f4b4a8b0c1" }] });
      expect(requested().at(-1)?.url.search).toContain("&artist=Sigur%20R%C3%B3s&");
      expect(await call("GetArtistTopSongs", { artistName: "Sigur Rós" })).toEqual({ songs: [{ name: "Hoppípolla" }] });
    });

    it("answers not found for unknown artists, empty lists and Last.fm's empty biography, and remembers the miss", async () => {
      for (const method of ["GetSimilarArtists", "GetArtistBiography", "GetArtistMBID"]) {
        await expect(call(method, { name: "Nobody Knows Us" })).rejects.toMatchObject({ code: "not_found" });
      }
      const before = requested().length;
      await expect(call("GetSimilarArtists", { name: "nobody knows us" })).rejects.toMatchObject({ code: "not_found" });
      expect(requested().length).toBe(before);
      await expect(call("GetArtistBiography", { name: "No Bio Band" })).rejects.toMatchObject({ code: "not_found" });
      await expect(call("GetArtistMBID", { name: "No Bio Band" })).rejects.toMatchObject({ code: "not_found" });
      expect(await call("GetArtistURL", { name: "No Bio Band" })).toEqual({ url: "https://www.last.fm/music/No+Bio+Band" });
      await expect(call("GetArtistTopSongs", { artistName: "No Bio Band" })).rejects.toMatchObject({ code: "not_found" });
      await expect(call("GetArtistTopSongs", { artistName: "  " })).rejects.toMatchObject({ code: "not_found" });
    });

    it("leaves images and albums to other agents", async () => {
      await expect(call("GetArtistImages", { name: "Cher" })).rejects.toMatchObject({ code: "not_implemented" });
      await expect(call("GetAlbumInfo", { name: "Believe", artist: "Cher" })).rejects.toMatchObject({ code: "not_implemented" });
      await expect(call("GetAlbumImages", { name: "Believe", artist: "Cher" })).rejects.toMatchObject({ code: "not_implemented" });
    });
  });

  describe.skipIf(folder === undefined)("failures", () => {
    it("reports what Last.fm refused, its outages and malformed answers, without caching them", async () => {
      await expect(call("GetSimilarArtists", { name: "Overloaded" })).rejects.toMatchObject({ code: "plugin_error", message: "Last.fm answered HTTP 503" });
      await expect(call("GetSimilarArtists", { name: "Garbled" })).rejects.toMatchObject({ message: "Last.fm answered malformed JSON" });
      const before = requested().length;
      await expect(call("GetSimilarArtists", { name: "Overloaded" })).rejects.toMatchObject({ code: "plugin_error" });
      expect(requested().length).toBe(before + 1);
      expect(agent.logs).toContain("lastfm-agent: Last.fm answered HTTP 503");

      await agent.setConfig({ apikey: "revoked-key" });
      await expect(call("GetArtistBiography", { name: "Madonna" })).rejects.toMatchObject({
        code: "plugin_error",
        message: "Last.fm error 10: Invalid API key - You must be granted a valid key by last.fm",
      });
      await agent.setConfig({ apikey: API_KEY });
    });

    it("keeps the API key out of the error text of a failed request", async () => {
      await expect(call("GetArtistTopSongs", { artistName: "Unreachable", count: 1 })).rejects.toMatchObject({ code: "plugin_error" });
      const failure = agent.logs.find((line) => line.includes("Unreachable"));
      expect(failure).toBe(
        `lastfm-agent: Last.fm request failed: Get "${LASTFM_API}?method=artist.gettoptracks&artist=Unreachable&autocorrect=1&limit=1&api_key=***&format=json": connection reset by peer`,
      );
    });

    it("says how to configure the API key when there is none", async () => {
      await agent.setConfig({});
      await expect(call("GetArtistMBID", { name: "Cher" })).rejects.toMatchObject({
        code: "plugin_error",
        message: "no Last.fm API key: set ApiKey in the plugin's [PluginConfig] section",
      });
      await agent.setConfig({ apikey: API_KEY });
    });

    it("can reach nothing but the Last.fm API with the shipped manifest", async () => {
      await agent.setConfig({ apikey: API_KEY, baseurl: "https://mirror.example.com" });
      const before = requested().length;
      await expect(call("GetSimilarArtists", { name: "Madonna" })).rejects.toMatchObject({
        message: expect.stringMatching(/^Last\.fm request failed: Request blocked by plugin permissions: URL https:\/\/mirror\.example\.com\/2\.0\/\?/),
      });
      expect(requested().length).toBe(before);
      await agent.setConfig({ apikey: API_KEY });
    });
  });
});
