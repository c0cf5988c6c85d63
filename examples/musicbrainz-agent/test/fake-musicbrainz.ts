// Stand-ins for MusicBrainz (/ws/2 search and lookup), the Cover Art Archive and archive.org at
// their real URLs, with The Beatles and Abbey Road (cover art behind the archive's two redirects).
import { CannedHttp, type CannedResponse, type RecordedRequest } from "@tonearm/plugin-testkit";

export const BEATLES = "b10bbbfc-cf9e-42e0-be17-e2c3e1d2600d";
export const ABBEY_ROAD = "9d4bd6ac-0b36-4a4f-a0b4-aa3e01c9b9e0";

/** MusicBrainz's /ws/2 search and lookup. */
function musicBrainz(req: RecordedRequest): CannedResponse {
  const path = req.url.pathname;
  const query = req.url.searchParams.get("query") ?? "";
  if (path === "/ws/2/artist") {
    if (query === 'artist:"Overloaded"') return { status: 503, json: { error: "Your requests are exceeding the allowable rate limit." } };
    const artists =
      query === 'artist:"The Beatles"'
        ? [{ id: BEATLES, name: "The Beatles", score: 100 }]
        : query === 'artist:"Beatles Revival"'
          ? [{ id: "5c1e0f6a-0000-4000-8000-000000000001", name: "The Beatles Revival Band", score: 62 }]
          : [];
    return { json: { count: artists.length, offset: 0, artists } };
  }
  if (path === "/ws/2/release") {
    const releases = query === 'release:"Abbey Road" AND artist:"The Beatles"' ? [{ id: ABBEY_ROAD, title: "Abbey Road", score: 100 }] : [];
    return { json: { count: releases.length, offset: 0, releases } };
  }
  if (path === `/ws/2/release/${ABBEY_ROAD}`) {
    // Written by hand to carry every kind of JSON escape and value.
    return {
      headers: { "content-type": "application/json" },
      body:
        `{ "id": "${ABBEY_ROAD}", "title": "Abbey Road", "annotation": "Recorded at \\"EMI\\" Studios,\\nLondon \\u2013 1969 \\ud83c\\udfb5",\n` +
        ` "packaging": null, "quality": "normal", "cover-art-archive": { "front": true, "count": 2.0e0 }, "tags": [], "score": -1 }`,
    };
  }
  return { status: 404, json: { error: "Not Found" } };
}

/** The Cover Art Archive redirects to archive.org, which redirects to one of its storage hosts. */
function coverArtArchive(req: RecordedRequest): CannedResponse {
  if (req.url.pathname === `/release/${ABBEY_ROAD}`) return { status: 307, headers: { location: `https://archive.org/download/mbid-${ABBEY_ROAD}/index.json` } };
  return { status: 404, body: "Not Found" };
}

function archiveIndex(): CannedResponse {
  const thumbs = (id: string) => ({
    "250": `http://coverartarchive.org/release/${ABBEY_ROAD}/${id}-250.jpg`,
    "500": `http://coverartarchive.org/release/${ABBEY_ROAD}/${id}-500.jpg`,
    "1200": `http://coverartarchive.org/release/${ABBEY_ROAD}/${id}-1200.jpg`,
  });
  return {
    json: {
      release: `https://musicbrainz.org/release/${ABBEY_ROAD}`,
      images: [
        { id: "1", front: false, back: true, image: `http://coverartarchive.org/release/${ABBEY_ROAD}/1.jpg`, thumbnails: thumbs("1") },
        { id: "2", front: true, back: false, image: `http://coverartarchive.org/release/${ABBEY_ROAD}/2.jpg`, thumbnails: thumbs("2") },
      ],
    },
  };
}

/** A fresh stand-in (its own request log) for all three services. */
export function fakeMusicBrainz(): CannedHttp {
  return new CannedHttp()
    .on("GET https://musicbrainz.org/ws/2/*", musicBrainz)
    .on("GET https://coverartarchive.org/release/*", coverArtArchive)
    .on(`GET https://archive.org/download/mbid-${ABBEY_ROAD}/index.json`, {
      status: 302,
      headers: { location: `https://ia800105.us.archive.org/22/items/mbid-${ABBEY_ROAD}/index.json` },
    })
    .on(`GET https://ia800105.us.archive.org/22/items/mbid-${ABBEY_ROAD}/index.json`, archiveIndex);
}
