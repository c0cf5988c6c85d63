// A scrobbler for ListenBrainz: each user listed in the config with their own user token gets
// now-playing notices (`listen_type: playing_now`) and listens (`listen_type: single`) submitted to
// POST <baseurl>/1/submit-listens. What ListenBrainz refuses comes back as the response's error.
import { api, config, http, jsonArray, JsonObjectWriter, jsonString, parseJson, registerScrobbler, Result, Scrobbler, utf8 } from "@tonearm/pdk-as";
export * from "@tonearm/pdk-as/exports";

const PLUGIN = "listenbrainz-scrobbler";
const VERSION = "1.0.0";
const DEFAULT_BASE_URL = "https://api.listenbrainz.org";
const SUBMIT_PATH = "/1/submit-listens";
const REQUEST_TIMEOUT_MS: i32 = 10000;
/** Upstream error bodies are quoted up to this many characters. */
const MAX_QUOTED_BODY = 200;

class Settings {
  constructor(
    public submitUrl: string,
    /** User token by lower-cased username or user ID. */
    public tokens: Map<string, string>,
  ) {}

  /** The token configured for the user, by username or else by user ID; "" when none. */
  tokenFor(userId: string, username: string): string {
    const byName = username.toLowerCase();
    if (byName.length > 0 && this.tokens.has(byName)) return this.tokens.get(byName);
    const byId = userId.toLowerCase();
    if (byId.length > 0 && this.tokens.has(byId)) return this.tokens.get(byId);
    return "";
  }
}

function readSettings(): Settings {
  const cfg = config.getPluginConfig().config;
  let base = cfg.has("baseurl") ? cfg.get("baseurl").trim() : "";
  if (base.length == 0) base = DEFAULT_BASE_URL;
  if (base.endsWith("/")) base = base.substring(0, base.length - 1);
  return new Settings(base + SUBMIT_PATH, parseUsers(cfg.has("users") ? cfg.get("users") : ""));
}

/** `users = "alice:token1,bob:token2"`: entries without a name or a token are skipped. */
function parseUsers(text: string): Map<string, string> {
  const tokens = new Map<string, string>();
  const entries = text.split(",");
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    const colon = entry.indexOf(":");
    if (colon < 0) continue;
    const user = entry.substring(0, colon).trim().toLowerCase();
    const token = entry.substring(colon + 1).trim();
    if (user.length > 0 && token.length > 0) tokens.set(user, token);
  }
  return tokens;
}

/** A listen in ListenBrainz's JSON format; `listenedAt` 0 leaves the time out (now playing). */
function listenPayload(listenType: string, track: api.TrackInfo, listenedAt: i64): string {
  const info = new JsonObjectWriter()
    .string("submission_client", "Tonearm " + PLUGIN)
    .string("submission_client_version", VERSION);
  if (track.mbid.length > 0) info.string("recording_mbid", track.mbid);
  if (track.albumMbid.length > 0) info.string("release_mbid", track.albumMbid);
  const artistMbids = new Array<string>();
  for (let i = 0; i < track.artists.length; i++) {
    if (track.artists[i].mbid.length > 0) artistMbids.push(jsonString(track.artists[i].mbid));
  }
  if (artistMbids.length > 0) info.raw("artist_mbids", jsonArray(artistMbids));
  if (track.length > 0) info.integer("duration_ms", <i64>track.length * 1000);

  const metadata = new JsonObjectWriter().string("artist_name", artistName(track)).string("track_name", track.name);
  if (track.album.length > 0) metadata.string("release_name", track.album);
  metadata.raw("additional_info", info.toString());

  const listen = new JsonObjectWriter();
  if (listenedAt > 0) listen.integer("listened_at", listenedAt);
  listen.raw("track_metadata", metadata.toString());
  return new JsonObjectWriter().string("listen_type", listenType).raw("payload", jsonArray([listen.toString()])).toString();
}

/** The track's artists as one credit, falling back to the album's artists. */
function artistName(track: api.TrackInfo): string {
  const artists = track.artists.length > 0 ? track.artists : track.albumArtists;
  const names = new Array<string>();
  for (let i = 0; i < artists.length; i++) {
    if (artists[i].name.length > 0) names.push(artists[i].name);
  }
  return names.join(", ");
}

/** Submits one listen; "" on success, else why not. */
function submit(listenType: string, userId: string, username: string, track: api.TrackInfo | null, listenedAt: i64): string {
  if (track === null) return "no track in the request";
  if (track.name.length == 0 || artistName(track).length == 0) return "ListenBrainz needs a track name and an artist";
  const settings = readSettings();
  const token = settings.tokenFor(userId, username);
  if (token.length == 0) return "no ListenBrainz token configured for user " + (username.length > 0 ? username : userId);

  const headers = new Map<string, string>();
  headers.set("Authorization", "Token " + token);
  headers.set("Content-Type", "application/json");
  headers.set("User-Agent", "tonearm-" + PLUGIN + "/" + VERSION);
  const body = utf8.encode(listenPayload(listenType, track, listenedAt));
  const res = http.post(new http.HttpRequest(settings.submitUrl, headers, REQUEST_TIMEOUT_MS, body));
  if (res.error.length > 0) return "ListenBrainz request failed: " + res.error;
  if (res.status >= 200 && res.status < 300) return "";
  return "ListenBrainz answered " + res.status.toString() + ": " + upstreamReason(res.body);
}

/** ListenBrainz explains refusals as `{"code": 401, "error": "..."}`; other bodies are quoted. */
function upstreamReason(body: Uint8Array): string {
  const text = utf8.decode(body);
  const parsed = parseJson(text);
  if (parsed !== null) {
    const reason = parsed.field("error").text();
    if (reason.length > 0) return reason;
  }
  return text.length > MAX_QUOTED_BODY ? text.substring(0, MAX_QUOTED_BODY) + "..." : text;
}

class ListenBrainzScrobbler extends Scrobbler {
  isAuthorized(req: api.ScrobblerIsAuthorizedRequest): Result {
    const authorized = readSettings().tokenFor(req.userId, req.username).length > 0;
    return Result.ok(new api.ScrobblerIsAuthorizedResponse(authorized));
  }

  nowPlaying(req: api.ScrobblerNowPlayingRequest): Result {
    return Result.ok(new api.ScrobblerNowPlayingResponse(submit("playing_now", req.userId, req.username, req.track, 0)));
  }

  scrobble(req: api.ScrobblerScrobbleRequest): Result {
    if (req.timestamp <= 0) return Result.ok(new api.ScrobblerScrobbleResponse("no listen time in the request"));
    return Result.ok(new api.ScrobblerScrobbleResponse(submit("single", req.userId, req.username, req.track, req.timestamp)));
  }
}

registerScrobbler(new ListenBrainzScrobbler());
