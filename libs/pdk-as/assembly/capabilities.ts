// Capability base classes. A plugin extends one, overrides the methods it offers and registers an
// instance at module top level (which runs in `_initialize`). Methods left alone answer
// `plugin:not_implemented`, as does every method of a capability nobody registered.
import * as api from "./gen/navidrome/api/v1/api";
import { Result } from "./result";

/** Artist and album metadata (`MetadataAgent` in the manifest). */
export class MetadataAgent {
  getArtistMBID(_request: api.ArtistMBIDRequest): Result {
    return Result.notImplemented();
  }
  getArtistURL(_request: api.ArtistURLRequest): Result {
    return Result.notImplemented();
  }
  getArtistBiography(_request: api.ArtistBiographyRequest): Result {
    return Result.notImplemented();
  }
  getSimilarArtists(_request: api.ArtistSimilarRequest): Result {
    return Result.notImplemented();
  }
  getArtistImages(_request: api.ArtistImageRequest): Result {
    return Result.notImplemented();
  }
  getArtistTopSongs(_request: api.ArtistTopSongsRequest): Result {
    return Result.notImplemented();
  }
  getAlbumInfo(_request: api.AlbumInfoRequest): Result {
    return Result.notImplemented();
  }
  getAlbumImages(_request: api.AlbumImagesRequest): Result {
    return Result.notImplemented();
  }
}

/** Scrobbling to an external service (`Scrobbler`). */
export class Scrobbler {
  isAuthorized(_request: api.ScrobblerIsAuthorizedRequest): Result {
    return Result.notImplemented();
  }
  nowPlaying(_request: api.ScrobblerNowPlayingRequest): Result {
    return Result.notImplemented();
  }
  scrobble(_request: api.ScrobblerScrobbleRequest): Result {
    return Result.notImplemented();
  }
}

/** Receives the schedules set through `scheduler` (`SchedulerCallback`). */
export class SchedulerCallback {
  onSchedulerCallback(_request: api.SchedulerCallbackRequest): Result {
    return Result.notImplemented();
  }
}

/** Runs once per plugin version when the host loads it (`LifecycleManagement`). */
export class LifecycleManagement {
  onInit(_request: api.InitRequest): Result {
    return Result.notImplemented();
  }
}

/** Receives events of the connections opened through `websocket` (`WebSocketCallback`). */
export class WebSocketCallback {
  onTextMessage(_request: api.OnTextMessageRequest): Result {
    return Result.notImplemented();
  }
  onBinaryMessage(_request: api.OnBinaryMessageRequest): Result {
    return Result.notImplemented();
  }
  onError(_request: api.OnErrorRequest): Result {
    return Result.notImplemented();
  }
  onClose(_request: api.OnCloseRequest): Result {
    return Result.notImplemented();
  }
}

// The registered implementations; read by the exports in exports.ts.
export let metadataAgent: MetadataAgent | null = null;
export let scrobbler: Scrobbler | null = null;
export let schedulerCallback: SchedulerCallback | null = null;
export let lifecycleManagement: LifecycleManagement | null = null;
export let webSocketCallback: WebSocketCallback | null = null;

export function registerMetadataAgent(impl: MetadataAgent): void {
  metadataAgent = impl;
}

export function registerScrobbler(impl: Scrobbler): void {
  scrobbler = impl;
}

/** Receives every schedule whose ID carries no callback name (see `registerNamedSchedulerCallback`). */
export function registerSchedulerCallback(impl: SchedulerCallback): void {
  schedulerCallback = impl;
}

export function registerLifecycleManagement(impl: LifecycleManagement): void {
  lifecycleManagement = impl;
}

export function registerWebSocketCallback(impl: WebSocketCallback): void {
  webSocketCallback = impl;
}
