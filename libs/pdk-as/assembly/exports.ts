// The guest exports of the go-plugin ABI (ABI.md §1.2): `malloc`, `free`, the five
// `<capability>_api_version` functions and all 22 capability methods, whatever the plugin
// registered. A plugin's entry file re-exports them with one line:
//
//   export * from "@tonearm/pdk-as/exports";
//
// Each method decodes its request from (ptr, len) — (0, 0) is an empty message — calls the
// registered implementation and returns `ptr << 32 | len` of the encoded response (0 when empty),
// or of a UTF-8 error with bit 31 of the length set. The host frees both buffers with `free`.
import * as api from "./gen/navidrome/api/v1/api";
import {
  lifecycleManagement,
  metadataAgent,
  scrobbler,
  webSocketCallback,
} from "./capabilities";
import { inMemory, packBytes, packError } from "./memory";
import { dispatchSchedulerCallback, hasSchedulerCallbacks } from "./named-scheduler";
import { ERR_NOT_IMPLEMENTED, Result } from "./result";
import { Reader } from "./wire";

export { free, malloc } from "./memory";

const API_VERSION: i64 = 1;

/** Decodes a request, or returns null when the bytes are not a valid message. */
function request<T>(ptr: i32, len: i32): T | null {
  const m = instantiate<T>();
  if (len == 0) return m;
  if (ptr == 0 || len < 0 || !inMemory(<usize><u32>ptr, <usize>len)) return null;
  const r = new Reader(<usize><u32>ptr, <usize>len);
  m.mergeFrom(r);
  return r.failed ? null : m;
}

function malformed<T>(): i64 {
  return packError("malformed " + nameof<T>() + " message");
}

function notImplemented(): i64 {
  return packError(ERR_NOT_IMPLEMENTED);
}

/** Encodes a method's result, refusing a response of the wrong message type. */
function respond<T>(result: Result): i64 {
  const error = result.error;
  if (error !== null) return packError(error);
  const message = result.message;
  if (message === null) return 0;
  if (!(message instanceof T)) return packError("response is not a " + nameof<T>() + " message");
  return packBytes(message.encode());
}

// MetadataAgent

export function metadata_agent_api_version(): i64 {
  return API_VERSION;
}

export function metadata_agent_get_artist_mbid(ptr: i32, len: i32): i64 {
  const impl = metadataAgent;
  if (impl === null) return notImplemented();
  const req = request<api.ArtistMBIDRequest>(ptr, len);
  if (req === null) return malformed<api.ArtistMBIDRequest>();
  return respond<api.ArtistMBIDResponse>(impl.getArtistMBID(req));
}

export function metadata_agent_get_artist_url(ptr: i32, len: i32): i64 {
  const impl = metadataAgent;
  if (impl === null) return notImplemented();
  const req = request<api.ArtistURLRequest>(ptr, len);
  if (req === null) return malformed<api.ArtistURLRequest>();
  return respond<api.ArtistURLResponse>(impl.getArtistURL(req));
}

export function metadata_agent_get_artist_biography(ptr: i32, len: i32): i64 {
  const impl = metadataAgent;
  if (impl === null) return notImplemented();
  const req = request<api.ArtistBiographyRequest>(ptr, len);
  if (req === null) return malformed<api.ArtistBiographyRequest>();
  return respond<api.ArtistBiographyResponse>(impl.getArtistBiography(req));
}

export function metadata_agent_get_similar_artists(ptr: i32, len: i32): i64 {
  const impl = metadataAgent;
  if (impl === null) return notImplemented();
  const req = request<api.ArtistSimilarRequest>(ptr, len);
  if (req === null) return malformed<api.ArtistSimilarRequest>();
  return respond<api.ArtistSimilarResponse>(impl.getSimilarArtists(req));
}

export function metadata_agent_get_artist_images(ptr: i32, len: i32): i64 {
  const impl = metadataAgent;
  if (impl === null) return notImplemented();
  const req = request<api.ArtistImageRequest>(ptr, len);
  if (req === null) return malformed<api.ArtistImageRequest>();
  return respond<api.ArtistImageResponse>(impl.getArtistImages(req));
}

export function metadata_agent_get_artist_top_songs(ptr: i32, len: i32): i64 {
  const impl = metadataAgent;
  if (impl === null) return notImplemented();
  const req = request<api.ArtistTopSongsRequest>(ptr, len);
  if (req === null) return malformed<api.ArtistTopSongsRequest>();
  return respond<api.ArtistTopSongsResponse>(impl.getArtistTopSongs(req));
}

export function metadata_agent_get_album_info(ptr: i32, len: i32): i64 {
  const impl = metadataAgent;
  if (impl === null) return notImplemented();
  const req = request<api.AlbumInfoRequest>(ptr, len);
  if (req === null) return malformed<api.AlbumInfoRequest>();
  return respond<api.AlbumInfoResponse>(impl.getAlbumInfo(req));
}

export function metadata_agent_get_album_images(ptr: i32, len: i32): i64 {
  const impl = metadataAgent;
  if (impl === null) return notImplemented();
  const req = request<api.AlbumImagesRequest>(ptr, len);
  if (req === null) return malformed<api.AlbumImagesRequest>();
  return respond<api.AlbumImagesResponse>(impl.getAlbumImages(req));
}

// Scrobbler

export function scrobbler_api_version(): i64 {
  return API_VERSION;
}

export function scrobbler_is_authorized(ptr: i32, len: i32): i64 {
  const impl = scrobbler;
  if (impl === null) return notImplemented();
  const req = request<api.ScrobblerIsAuthorizedRequest>(ptr, len);
  if (req === null) return malformed<api.ScrobblerIsAuthorizedRequest>();
  return respond<api.ScrobblerIsAuthorizedResponse>(impl.isAuthorized(req));
}

export function scrobbler_now_playing(ptr: i32, len: i32): i64 {
  const impl = scrobbler;
  if (impl === null) return notImplemented();
  const req = request<api.ScrobblerNowPlayingRequest>(ptr, len);
  if (req === null) return malformed<api.ScrobblerNowPlayingRequest>();
  return respond<api.ScrobblerNowPlayingResponse>(impl.nowPlaying(req));
}

export function scrobbler_scrobble(ptr: i32, len: i32): i64 {
  const impl = scrobbler;
  if (impl === null) return notImplemented();
  const req = request<api.ScrobblerScrobbleRequest>(ptr, len);
  if (req === null) return malformed<api.ScrobblerScrobbleRequest>();
  return respond<api.ScrobblerScrobbleResponse>(impl.scrobble(req));
}

// SchedulerCallback

export function scheduler_callback_api_version(): i64 {
  return API_VERSION;
}

export function scheduler_callback_on_scheduler_callback(ptr: i32, len: i32): i64 {
  if (!hasSchedulerCallbacks()) return notImplemented();
  const req = request<api.SchedulerCallbackRequest>(ptr, len);
  if (req === null) return malformed<api.SchedulerCallbackRequest>();
  return respond<api.SchedulerCallbackResponse>(dispatchSchedulerCallback(req));
}

// LifecycleManagement

export function lifecycle_management_api_version(): i64 {
  return API_VERSION;
}

export function lifecycle_management_on_init(ptr: i32, len: i32): i64 {
  const impl = lifecycleManagement;
  if (impl === null) return notImplemented();
  const req = request<api.InitRequest>(ptr, len);
  if (req === null) return malformed<api.InitRequest>();
  return respond<api.InitResponse>(impl.onInit(req));
}

// WebSocketCallback

export function web_socket_callback_api_version(): i64 {
  return API_VERSION;
}

export function web_socket_callback_on_text_message(ptr: i32, len: i32): i64 {
  const impl = webSocketCallback;
  if (impl === null) return notImplemented();
  const req = request<api.OnTextMessageRequest>(ptr, len);
  if (req === null) return malformed<api.OnTextMessageRequest>();
  return respond<api.OnTextMessageResponse>(impl.onTextMessage(req));
}

export function web_socket_callback_on_binary_message(ptr: i32, len: i32): i64 {
  const impl = webSocketCallback;
  if (impl === null) return notImplemented();
  const req = request<api.OnBinaryMessageRequest>(ptr, len);
  if (req === null) return malformed<api.OnBinaryMessageRequest>();
  return respond<api.OnBinaryMessageResponse>(impl.onBinaryMessage(req));
}

export function web_socket_callback_on_error(ptr: i32, len: i32): i64 {
  const impl = webSocketCallback;
  if (impl === null) return notImplemented();
  const req = request<api.OnErrorRequest>(ptr, len);
  if (req === null) return malformed<api.OnErrorRequest>();
  return respond<api.OnErrorResponse>(impl.onError(req));
}

export function web_socket_callback_on_close(ptr: i32, len: i32): i64 {
  const impl = webSocketCallback;
  if (impl === null) return notImplemented();
  const req = request<api.OnCloseRequest>(ptr, len);
  if (req === null) return malformed<api.OnCloseRequest>();
  return respond<api.OnCloseResponse>(impl.onClose(req));
}
