// A metadata agent backed by MusicBrainz (artist MBIDs and pages, release details) and the Cover
// Art Archive (album covers). Answers are cached for a week, misses for a day. MusicBrainz asks for
// at most one request per second: the time of the last request is kept in the plugin's cache,
// which every instance and worker shares, and a lookup that would come too soon answers
// `plugin:not_found` (the host then asks the next agent) instead of calling MusicBrainz.
import { api, cache, config, http, JSON_NULL, JsonValue, log, MetadataAgent, parseJson, registerMetadataAgent, Result, utf8 } from "@tonearm/pdk-as";
export * from "@tonearm/pdk-as/exports";

const PLUGIN = "musicbrainz-agent";
const VERSION = "1.0.0";
const DEFAULT_MUSICBRAINZ_URL = "https://musicbrainz.org";
const DEFAULT_COVERARTARCHIVE_URL = "https://coverartarchive.org";
/** Public pages linked from answers; always the real site, even when lookups go to a mirror. */
const MUSICBRAINZ_SITE = "https://musicbrainz.org";
/** Search results scoring below this (of 100) are not taken as the artist or release asked for. */
const MIN_SCORE: f64 = 90;
const REQUEST_TIMEOUT_MS: i32 = 5000;
const FOUND_TTL_SECONDS: i64 = 7 * 24 * 3600;
const MISSING_TTL_SECONDS: i64 = 24 * 3600;

const LAST_REQUEST_KEY = "musicbrainz.last-request";
const MIN_REQUEST_INTERVAL_MS: i64 = 1000;
/**
 * Navidrome hands plugins a fake wall clock that starts at 2022-01-01 and barely moves; a clock
 * before this (2023-01-01) cannot measure the interval, and the cache entry's own one-second
 * lifetime then does the spacing.
 */
const EARLIEST_REAL_CLOCK_MS: i64 = 1672531200000;

/** Where requests go, and who MusicBrainz is told is asking. */
class Settings {
  constructor(
    public musicbrainzUrl: string,
    public coverArtArchiveUrl: string,
    public userAgent: string,
  ) {}
}

function readSettings(): Settings {
  const cfg = config.getPluginConfig().config;
  const contact = setting(cfg, "contact", "https://musicbrainz.org/doc/MusicBrainz_API");
  return new Settings(
    trimSlash(setting(cfg, "musicbrainzurl", DEFAULT_MUSICBRAINZ_URL)),
    trimSlash(setting(cfg, "coverartarchiveurl", DEFAULT_COVERARTARCHIVE_URL)),
    // The format MusicBrainz asks for: application/version ( contact )
    "tonearm-" + PLUGIN + "/" + VERSION + " ( " + contact + " )",
  );
}

function setting(cfg: Map<string, string>, key: string, fallback: string): string {
  if (!cfg.has(key)) return fallback;
  const value = cfg.get(key).trim();
  return value.length > 0 ? value : fallback;
}

function trimSlash(url: string): string {
  return url.endsWith("/") ? url.substring(0, url.length - 1) : url;
}

// Upstream requests

/** What an upstream said: a JSON body, that the thing does not exist, or nothing usable. */
class Reply {
  constructor(
    public body: JsonValue | null,
    public missing: bool,
  ) {}

  /** The upstream gave a definite answer (found or not), so it may be cached. */
  get definite(): bool {
    return this.body !== null || this.missing;
  }
}

const NO_REPLY = new Reply(null, false);

function getJson(url: string, settings: Settings): Reply {
  const headers = new Map<string, string>();
  headers.set("Accept", "application/json");
  headers.set("User-Agent", settings.userAgent);
  const res = http.get(new http.HttpRequest(url, headers, REQUEST_TIMEOUT_MS));
  if (res.error.length > 0) {
    log(PLUGIN + ": GET " + url + " failed: " + res.error);
    return NO_REPLY;
  }
  if (res.status == 404) return new Reply(null, true);
  if (res.status != 200) {
    // 503 is MusicBrainz saying we went too fast; anything else is worth a line in the log too.
    log(PLUGIN + ": GET " + url + " answered " + res.status.toString());
    return NO_REPLY;
  }
  const body = parseJson(utf8.decode(res.body));
  if (body === null) log(PLUGIN + ": GET " + url + " answered malformed JSON");
  return new Reply(body, false);
}

/**
 * Asks MusicBrainz, unless it was asked less than a second ago (by any instance sharing this
 * plugin's cache): then the answer is NO_REPLY, and the caller answers not found.
 */
function askMusicBrainz(path: string, settings: Settings): Reply {
  if (!claimRequestSlot()) {
    log(PLUGIN + ": skipped " + path + " to stay under MusicBrainz's rate limit");
    return NO_REPLY;
  }
  return getJson(settings.musicbrainzUrl + path, settings);
}

function claimRequestSlot(): bool {
  const now = Date.now();
  const last = cache.getInt(new cache.GetRequest(LAST_REQUEST_KEY));
  if (last.exists) {
    if (now < EARLIEST_REAL_CLOCK_MS) return false;
    // A clock behind the recorded time (another worker's) also waits.
    if (now - last.value < MIN_REQUEST_INTERVAL_MS) return false;
  }
  cache.setInt(new cache.SetIntRequest(LAST_REQUEST_KEY, now, 1));
  return true;
}

/** A Lucene phrase for MusicBrainz's search: `field:"text"` with quotes and backslashes escaped. */
function phrase(field: string, text: string): string {
  return field + ':"' + text.replaceAll("\\", "\\\\").replaceAll('"', '\\"') + '"';
}

/** The first search result scoring at least MIN_SCORE, or JSON null. */
function bestMatch(results: JsonValue): JsonValue {
  for (let i = 0; i < results.length; i++) {
    const candidate = results.at(i);
    if (candidate.field("score").number() >= MIN_SCORE && candidate.field("id").text().length > 0) return candidate;
  }
  return JSON_NULL;
}

// Cache: answers as strings or encoded messages; an empty value records a miss.

function cachedString(key: string): string | null {
  const hit = cache.getString(new cache.GetRequest(key));
  return hit.exists ? hit.value : null;
}

function rememberString(key: string, value: string): void {
  cache.setString(new cache.SetStringRequest(key, value, value.length > 0 ? FOUND_TTL_SECONDS : MISSING_TTL_SECONDS));
}

function cachedBytes(key: string): Uint8Array | null {
  const hit = cache.getBytes(new cache.GetRequest(key));
  return hit.exists ? hit.value : null;
}

function rememberBytes(key: string, value: Uint8Array): void {
  cache.setBytes(new cache.SetBytesRequest(key, value, value.length > 0 ? FOUND_TTL_SECONDS : MISSING_TTL_SECONDS));
}

// Lookups

/** The MBID of the artist called `name`, or "" when unknown (or MusicBrainz cannot be asked now). */
function artistMbid(name: string, settings: Settings): string {
  const key = "artist-mbid:" + name.toLowerCase();
  const cached = cachedString(key);
  if (cached !== null) return cached;
  const reply = askMusicBrainz("/ws/2/artist?fmt=json&limit=5&query=" + encodeURIComponent(phrase("artist", name)), settings);
  const body = reply.body;
  const mbid = body === null ? "" : bestMatch(body.field("artists")).field("id").text();
  if (reply.definite) rememberString(key, mbid);
  return mbid;
}

/** A release found by title (and artist), or null. Search results carry no annotation. */
function searchRelease(album: string, artist: string, settings: Settings): api.AlbumInfo | null {
  const key = "release-search:" + artist.toLowerCase() + "\n" + album.toLowerCase();
  const cached = cachedBytes(key);
  if (cached !== null) return cached.length > 0 ? api.AlbumInfo.decode(cached) : null;
  let query = phrase("release", album);
  if (artist.length > 0) query += " AND " + phrase("artist", artist);
  const reply = askMusicBrainz("/ws/2/release?fmt=json&limit=5&query=" + encodeURIComponent(query), settings);
  let info: api.AlbumInfo | null = null;
  const body = reply.body;
  if (body !== null) {
    const match = bestMatch(body.field("releases"));
    if (!match.isNull) info = albumInfo(match, "");
  }
  if (reply.definite) rememberBytes(key, encodeAlbumInfo(info));
  return info;
}

/** The release with this MBID, its annotation as the description, or null. */
function lookupRelease(mbid: string, settings: Settings): api.AlbumInfo | null {
  const key = "release:" + mbid;
  const cached = cachedBytes(key);
  if (cached !== null) return cached.length > 0 ? api.AlbumInfo.decode(cached) : null;
  const reply = askMusicBrainz("/ws/2/release/" + encodeURIComponent(mbid) + "?fmt=json&inc=annotation", settings);
  let info: api.AlbumInfo | null = null;
  const body = reply.body;
  if (body !== null && body.field("id").text().length > 0) info = albumInfo(body, body.field("annotation").text());
  if (reply.definite) rememberBytes(key, encodeAlbumInfo(info));
  return info;
}

/** An AlbumInfo as cached: encoded, or empty for a miss. */
function encodeAlbumInfo(info: api.AlbumInfo | null): Uint8Array {
  return info === null ? new Uint8Array(0) : info.encode();
}

function albumInfo(release: JsonValue, description: string): api.AlbumInfo {
  const mbid = release.field("id").text();
  return new api.AlbumInfo(release.field("title").text(), mbid, description, MUSICBRAINZ_SITE + "/release/" + mbid);
}

/** The release MBID a request names, or the one its title and artist find; "" when none. */
function releaseMbid(mbid: string, album: string, artist: string, settings: Settings): string {
  if (mbid.length > 0) return mbid;
  if (album.length == 0) return "";
  const found = searchRelease(album, artist, settings);
  return found === null ? "" : found.mbid;
}

/** The front cover of a release in the Cover Art Archive's sizes, largest first; empty when none. */
function coverImages(mbid: string, settings: Settings): api.AlbumImagesResponse {
  const key = "cover:" + mbid;
  const cached = cachedBytes(key);
  if (cached !== null) return api.AlbumImagesResponse.decode(cached);
  const reply = getJson(settings.coverArtArchiveUrl + "/release/" + encodeURIComponent(mbid), settings);
  const response = new api.AlbumImagesResponse();
  const body = reply.body;
  if (body !== null) response.images = frontCover(body.field("images"));
  if (reply.definite) rememberBytes(key, response.encode());
  return response;
}

/** The image marked front (else the first one) as one ExternalImage per thumbnail size. */
function frontCover(images: JsonValue): Array<api.ExternalImage> {
  let chosen = images.at(0);
  for (let i = 0; i < images.length; i++) {
    if (images.at(i).field("front").boolean()) {
      chosen = images.at(i);
      break;
    }
  }
  const out = new Array<api.ExternalImage>();
  if (chosen.isNull) return out;
  const thumbnails = chosen.field("thumbnails");
  const sizes: i32[] = [1200, 500, 250];
  for (let i = 0; i < sizes.length; i++) {
    const url = thumbnails.field(sizes[i].toString()).text();
    if (url.length > 0) out.push(new api.ExternalImage(secure(url), sizes[i]));
  }
  // Older entries list only the original image, of unknown size.
  const original = chosen.field("image").text();
  if (out.length == 0 && original.length > 0) out.push(new api.ExternalImage(secure(original), 0));
  return out;
}

/** The archive lists http:// image links; its https:// ones serve the same files without mixed-content warnings. */
function secure(url: string): string {
  return url.startsWith("http://coverartarchive.org/") ? "https://" + url.substring(7) : url;
}

class MusicBrainzAgent extends MetadataAgent {
  getArtistMBID(req: api.ArtistMBIDRequest): Result {
    const name = req.name.trim();
    if (name.length == 0) return Result.notFound();
    const mbid = artistMbid(name, readSettings());
    return mbid.length > 0 ? Result.ok(new api.ArtistMBIDResponse(mbid)) : Result.notFound();
  }

  getArtistURL(req: api.ArtistURLRequest): Result {
    let mbid = req.mbid;
    const name = req.name.trim();
    if (mbid.length == 0 && name.length > 0) mbid = artistMbid(name, readSettings());
    if (mbid.length == 0) return Result.notFound();
    return Result.ok(new api.ArtistURLResponse(MUSICBRAINZ_SITE + "/artist/" + mbid));
  }

  getAlbumInfo(req: api.AlbumInfoRequest): Result {
    const name = req.name.trim();
    if (req.mbid.length == 0 && name.length == 0) return Result.notFound();
    const settings = readSettings();
    const info = req.mbid.length > 0 ? lookupRelease(req.mbid, settings) : searchRelease(name, req.artist.trim(), settings);
    return info === null ? Result.notFound() : Result.ok(new api.AlbumInfoResponse(info));
  }

  getAlbumImages(req: api.AlbumImagesRequest): Result {
    const settings = readSettings();
    const mbid = releaseMbid(req.mbid, req.name.trim(), req.artist.trim(), settings);
    if (mbid.length == 0) return Result.notFound();
    const images = coverImages(mbid, settings);
    return images.images.length > 0 ? Result.ok(images) : Result.notFound();
  }
}

registerMetadataAgent(new MusicBrainzAgent());
