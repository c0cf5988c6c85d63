// A stand-in for the Last.fm API (https://ws.audioscrobbler.com/2.0/) with a few artists, answering
// as Last.fm does: JSON bodies, lists of one sent as the bare item, {"error": 6} for an unknown
// artist, other error codes for a bad key, HTML when the service is down.
import { CannedHttp, type CannedResponse, type RecordedRequest } from "@tonearm/plugin-testkit";

export const LASTFM_API = "https://ws.audioscrobbler.com/2.0/";
export const API_KEY = "test-api-key";

export const CHER_MBID = "bfcc6d75-a6a5-4bc6-8282-47aec8531818";
const CHER_BIO =
  'Cher (born Cherilyn Sarkisian; May 20, 1946) is an American singer & actress. <a href="https://www.last.fm/music/Cher">Read more on Last.fm</a>';

const artists: Record<string, { name: string; mbid: string; url: string; summary: string; similar: unknown; top: unknown }> = {
  cher: {
    name: "Cher",
    mbid: CHER_MBID,
    url: "https://www.last.fm/music/Cher",
    summary: `\n  ${CHER_BIO}  `,
    similar: [
      { name: "Sonny & Cher", mbid: "3d6e4b6d-2700-458c-9722-9021965a8164", match: "1", url: "https://www.last.fm/music/Sonny+&+Cher" },
      { name: "Kylie Minogue", mbid: "2fddb92d-24b2-46a5-bf28-3aed46f4684c", match: "0.52" },
      { name: "Madonna", mbid: "79239441-bfd5-4981-a70c-55c3f15c1287", match: "0.49" },
      { name: "Cyndi Lauper", match: "0.41" },
      { name: "", mbid: "nameless-entries-are-skipped" },
    ],
    top: [
      { name: "Believe", playcount: "1000000", mbid: "32ca187e-ee25-4f18-b7d0-3b6713f24635", "@attr": { rank: "1" } },
      { name: "Strong Enough", playcount: "500000", mbid: "", "@attr": { rank: "2" } },
      { name: "If I Could Turn Back Time", playcount: "400000", "@attr": { rank: "3" } },
    ],
  },
  "sigur rós": {
    name: "Sigur Rós",
    mbid: "f6f2326f-6b25-4170-b89d-e235b25508e8",
    url: "https://www.last.fm/music/Sigur+R%C3%B3s",
    summary: 'Sigur Rós is an Icelandic band. <a href="https://www.last.fm/music/Sigur+R%C3%B3s">Read more on Last.fm</a>',
    // Last.fm's lists of one: the bare item instead of an array.
    similar: { name: "Jónsi", mbid: "f2c9f4bc-d4d1-4b3c-a8e8-b8f4b4a8b0c1", match: "1" },
    top: { name: "Hoppípolla", mbid: "", "@attr": { rank: "1" } },
  },
  "no bio band": {
    name: "No Bio Band",
    mbid: "",
    url: "https://www.last.fm/music/No+Bio+Band",
    summary: '<a href="https://www.last.fm/music/No+Bio+Band">Read more on Last.fm</a>',
    similar: [],
    top: [],
  },
};

function answer(req: RecordedRequest): CannedResponse | undefined {
  const q = req.url.searchParams;
  if (q.get("format") !== "json") return { status: 400, body: "format=json expected" };
  if (q.get("api_key") === "revoked-key") {
    return { status: 403, json: { error: 10, message: "Invalid API key - You must be granted a valid key by last.fm", links: [] } };
  }
  const name = (q.get("artist") ?? "").toLowerCase();
  if (name === "overloaded") return { status: 503, headers: { "content-type": "text/html" }, body: "<html><body>Service Unavailable</body></html>" };
  if (name === "garbled") return { status: 200, body: "{not json" };
  if (name === "unreachable") return { error: "connection reset by peer" };
  const artist = artists[name];
  if (!artist) return { status: 404, json: { error: 6, message: "The artist you supplied could not be found", links: [] } };
  const limit = Number(q.get("limit") ?? "50");
  const first = (list: unknown) => (Array.isArray(list) ? list.slice(0, limit) : list);
  switch (q.get("method")) {
    case "artist.getinfo":
      return {
        json: {
          artist: {
            name: artist.name,
            mbid: artist.mbid,
            url: artist.url,
            image: [{ "#text": "https://lastfm.freetls.fastly.net/i/u/34s/2a96cbd8b46e442fc41c2b86b821562f.png", size: "small" }],
            bio: { published: "01 Jan 2010, 00:00", summary: q.get("lang") === "de" ? `[de] ${artist.summary}` : artist.summary, content: "…" },
          },
        },
      };
    case "artist.getsimilar":
      return { json: { similarartists: { artist: first(artist.similar), "@attr": { artist: artist.name } } } };
    case "artist.gettoptracks":
      return { json: { toptracks: { track: first(artist.top), "@attr": { artist: artist.name, page: "1" } } } };
  }
  return { status: 400, json: { error: 3, message: "Invalid Method - No method with that name in this package" } };
}

/** A fresh stand-in (its own request log) for one plugin under test. */
export function fakeLastFm(): CannedHttp {
  return new CannedHttp().on(`GET ${LASTFM_API}*`, answer);
}
