// A metadata agent backed by the Last.fm API: similar artists (artist.getsimilar), top songs
// (artist.gettoptracks) and, from artist.getinfo, the biography, the Last.fm page and the MBID.
// Answers are cached for a week and misses for a day. The same plugin is written in Go in ../go;
// both builds answer every request alike, which examples/lastfm-agent/test checks.
import {
  api,
  cache,
  config,
  http,
  JsonObjectWriter,
  jsonArray,
  JsonKind,
  JsonValue,
  log,
  MetadataAgent,
  parseJson,
  registerMetadataAgent,
  Result,
  utf8,
} from "@tonearm/pdk-as";
export * from "@tonearm/pdk-as/exports";

const PLUGIN = "lastfm-agent";
const VERSION = "1.0.0";
const DEFAULT_BASE_URL = "https://ws.audioscrobbler.com";
const API_PATH = "/2.0/";
const DEFAULT_LANG = "en";
/** List sizes asked for when the request gives none, and the most ever asked for. */
const DEFAULT_LIMIT: i32 = 20;
const MAX_LIMIT: i32 = 100;
const REQUEST_TIMEOUT_MS: i32 = 5000;
const FOUND_TTL_SECONDS: i64 = 7 * 24 * 3600;
const MISSING_TTL_SECONDS: i64 = 24 * 3600;
/** Last.fm's error code for an artist it does not know. */
const LASTFM_NOT_FOUND: i32 = 6;
/** A summary that is only this link (and nothing before it) is Last.fm saying it has no biography. */
const READ_MORE_LINK = '<a href="https://www.last.fm/music/';
const NO_API_KEY = "no Last.fm API key: set ApiKey in the plugin's [PluginConfig] section";

/** The three kinds of lookups, one Last.fm method each. */
const ARTIST_INFO: i32 = 0;
const SIMILAR_ARTISTS: i32 = 1;
const TOP_TRACKS: i32 = 2;

class Settings {
  constructor(
    public apiUrl: string,
    public apiKey: string,
    public lang: string,
  ) {}
}

function readSettings(): Settings {
  const cfg = config.getPluginConfig().config;
  let base = setting(cfg, "baseurl", DEFAULT_BASE_URL);
  if (base.endsWith("/")) base = base.substring(0, base.length - 1);
  return new Settings(base + API_PATH, setting(cfg, "apikey", ""), setting(cfg, "lang", DEFAULT_LANG));
}

function setting(cfg: Map<string, string>, key: string, fallback: string): string {
  const value = cfg.has(key) ? cfg.get(key).trim() : "";
  return value.length > 0 ? value : fallback;
}

/** What Last.fm said: a JSON body, that it does not know the artist, or why it could not be asked. */
class Answer {
  constructor(
    public body: JsonValue | null,
    public missing: bool,
    public failure: string,
  ) {}
}

function callLastFm(method: string, params: string, settings: Settings): Answer {
  const url = settings.apiUrl + "?method=" + method + params + "&api_key=" + encodeURIComponent(settings.apiKey) + "&format=json";
  const headers = new Map<string, string>();
  headers.set("Accept", "application/json");
  headers.set("User-Agent", "tonearm-" + PLUGIN + "/" + VERSION);
  const res = http.get(new http.HttpRequest(url, headers, REQUEST_TIMEOUT_MS));
  // The key travels in the URL, and the host's error text quotes the URL: keep it out of logs.
  if (res.error.length > 0) return new Answer(null, false, "Last.fm request failed: " + res.error.replaceAll("&api_key=" + encodeURIComponent(settings.apiKey) + "&", "&api_key=***&"));
  const body = parseJson(utf8.decode(res.body));
  // Last.fm reports failures as {"error": <code>, "message": "..."}, with various HTTP statuses.
  if (body !== null && body.field("error").kind == JsonKind.Number) {
    const code = <i32>body.field("error").number();
    if (code == LASTFM_NOT_FOUND) return new Answer(null, true, "");
    return new Answer(null, false, "Last.fm error " + code.toString() + ": " + body.field("message").text());
  }
  if (res.status != 200) return new Answer(null, false, "Last.fm answered HTTP " + res.status.toString());
  if (body === null) return new Answer(null, false, "Last.fm answered malformed JSON");
  return new Answer(body, false, "");
}

/** A lookup's outcome: the compact JSON kept in the cache (null for a miss), or a failure. */
class Lookup {
  constructor(
    public value: JsonValue | null,
    public failure: string,
  ) {}
}

/** Answers from the cache, else asks Last.fm and caches what it said (failures are not cached). */
function lookup(kind: i32, name: string, limit: i32, settings: Settings): Lookup {
  const key = cacheKey(kind, name, limit, settings);
  const hit = cache.getString(new cache.GetRequest(key));
  if (hit.exists) return new Lookup(hit.value.length > 0 ? parseJson(hit.value) : null, "");

  const artist = "&artist=" + encodeURIComponent(name) + "&autocorrect=1";
  let answer: Answer;
  if (kind == ARTIST_INFO) answer = callLastFm("artist.getinfo", artist + "&lang=" + encodeURIComponent(settings.lang), settings);
  else if (kind == SIMILAR_ARTISTS) answer = callLastFm("artist.getsimilar", artist + "&limit=" + limit.toString(), settings);
  else answer = callLastFm("artist.gettoptracks", artist + "&limit=" + limit.toString(), settings);
  if (answer.failure.length > 0) {
    log(PLUGIN + ": " + answer.failure);
    return new Lookup(null, answer.failure);
  }

  const body = answer.body;
  const compact = body === null ? "" : extract(kind, body);
  cache.setString(new cache.SetStringRequest(key, compact, compact.length > 0 ? FOUND_TTL_SECONDS : MISSING_TTL_SECONDS));
  return new Lookup(compact.length > 0 ? parseJson(compact) : null, "");
}

function cacheKey(kind: i32, name: string, limit: i32, settings: Settings): string {
  const artist = name.toLowerCase();
  if (kind == ARTIST_INFO) return "artist:" + settings.lang + ":" + artist;
  return (kind == SIMILAR_ARTISTS ? "similar:" : "top:") + limit.toString() + ":" + artist;
}

/** The part of an answer the plugin keeps, as compact JSON; "" when it holds nothing usable. */
function extract(kind: i32, body: JsonValue): string {
  if (kind == ARTIST_INFO) {
    const artist = body.field("artist");
    if (artist.kind != JsonKind.Object) return "";
    return new JsonObjectWriter()
      .string("mbid", artist.field("mbid").text())
      .string("url", artist.field("url").text())
      .string("bio", biography(artist.field("bio").field("summary").text()))
      .toString();
  }
  const list = kind == SIMILAR_ARTISTS ? body.field("similarartists").field("artist") : body.field("toptracks").field("track");
  const entries = new Array<string>();
  const all = items(list);
  for (let i = 0; i < all.length; i++) {
    const entry = all[i];
    const entryName = entry.field("name").text();
    if (entryName.length > 0) entries.push(new JsonObjectWriter().string("name", entryName).string("mbid", entry.field("mbid").text()).toString());
  }
  return entries.length > 0 ? jsonArray(entries) : "";
}

/** Last.fm sends a list of one as the bare item, and an empty list as nothing at all. */
function items(list: JsonValue): Array<JsonValue> {
  const out = new Array<JsonValue>();
  if (list.kind == JsonKind.Object) out.push(list);
  for (let i = 0; i < list.length && list.kind == JsonKind.Array; i++) out.push(list.at(i));
  return out;
}

/** The summary as Last.fm wrote it (HTML, ending in its "Read more on Last.fm" link), or "" when it has none. */
function biography(summary: string): string {
  const text = summary.trim();
  return text.startsWith(READ_MORE_LINK) ? "" : text;
}

/** The limit to ask for: the request's, else the default, never more than the maximum. */
function listLimit(requested: i32): i32 {
  if (requested <= 0) return DEFAULT_LIMIT;
  return requested > MAX_LIMIT ? MAX_LIMIT : requested;
}

/** The artist-info field `field` for `name` when Last.fm has it (non-empty), else the miss or the failure. */
function infoField(name: string, field: string): Lookup {
  const settings = readSettings();
  if (settings.apiKey.length == 0) return new Lookup(null, NO_API_KEY);
  const found = lookup(ARTIST_INFO, name, 0, settings);
  const value = found.value;
  if (value === null || value.field(field).text().length == 0) return new Lookup(null, found.failure);
  return new Lookup(value.field(field), "");
}

function failed(lookup: Lookup): Result {
  return lookup.failure.length > 0 ? Result.error(lookup.failure) : Result.notFound();
}

class LastFmAgent extends MetadataAgent {
  getArtistMBID(req: api.ArtistMBIDRequest): Result {
    const name = req.name.trim();
    if (name.length == 0) return Result.notFound();
    const found = infoField(name, "mbid");
    return found.value === null ? failed(found) : Result.ok(new api.ArtistMBIDResponse(found.value!.text()));
  }

  getArtistURL(req: api.ArtistURLRequest): Result {
    const name = req.name.trim();
    if (name.length == 0) return Result.notFound();
    const found = infoField(name, "url");
    return found.value === null ? failed(found) : Result.ok(new api.ArtistURLResponse(found.value!.text()));
  }

  getArtistBiography(req: api.ArtistBiographyRequest): Result {
    const name = req.name.trim();
    if (name.length == 0) return Result.notFound();
    const found = infoField(name, "bio");
    return found.value === null ? failed(found) : Result.ok(new api.ArtistBiographyResponse(found.value!.text()));
  }

  getSimilarArtists(req: api.ArtistSimilarRequest): Result {
    const name = req.name.trim();
    if (name.length == 0) return Result.notFound();
    const found = listOf(SIMILAR_ARTISTS, name, listLimit(req.limit));
    const list = found.value;
    if (list === null) return failed(found);
    const artists = new Array<api.Artist>();
    for (let i = 0; i < list.length; i++) artists.push(new api.Artist(list.at(i).field("name").text(), list.at(i).field("mbid").text()));
    return Result.ok(new api.ArtistSimilarResponse(artists));
  }

  getArtistTopSongs(req: api.ArtistTopSongsRequest): Result {
    const name = req.artistName.trim();
    if (name.length == 0) return Result.notFound();
    const found = listOf(TOP_TRACKS, name, listLimit(req.count));
    const list = found.value;
    if (list === null) return failed(found);
    const songs = new Array<api.Song>();
    for (let i = 0; i < list.length; i++) songs.push(new api.Song(list.at(i).field("name").text(), list.at(i).field("mbid").text()));
    return Result.ok(new api.ArtistTopSongsResponse(songs));
  }
}

/** A list lookup, at most `limit` entries long. */
function listOf(kind: i32, name: string, limit: i32): Lookup {
  const settings = readSettings();
  if (settings.apiKey.length == 0) return new Lookup(null, NO_API_KEY);
  const found = lookup(kind, name, limit, settings);
  const list = found.value;
  if (list === null || list.length <= limit) return found;
  const kept = new JsonValue(JsonKind.Array);
  for (let i = 0; i < limit; i++) kept.addItem(list.at(i));
  return new Lookup(kept, "");
}

registerMetadataAgent(new LastFmAgent());
