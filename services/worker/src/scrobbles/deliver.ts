/**
 * Handing one scrobble event to one Scrobbler plugin, as Navidrome's play tracker does (ABI.md §7):
 * `IsAuthorized(user)` every time, then `Scrobble` or `NowPlaying`. Tracks of the unknown artist
 * are never sent. Whether the calls run in this process or over the bus is the caller's choice.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { api, type bus as busProto } from "@tonearm/proto";

/** Runs one Scrobbler method of the plugin; rejects with the call's error. */
export type ScrobblerCall = (method: "IsAuthorized" | "NowPlaying" | "Scrobble", request: Uint8Array) => Promise<Uint8Array>;

/** What became of an event that did not fail. */
export type DeliveryOutcome = "delivered" | "unauthorized" | "skipped";

/** Navidrome's name of the artist of tracks without one; their plays are never scrobbled. */
export const UNKNOWN_ARTIST = "[Unknown Artist]";

/** A plugin's answer that counts as a failure: an `error` in its response. */
export class ScrobbleRejected extends Error {
  override readonly name = "ScrobbleRejected";
}

export async function deliverSubmit(call: ScrobblerCall, event: busProto.ScrobbleEvent): Promise<DeliveryOutcome> {
  if (fromUnknownArtist(event)) return "skipped";
  if (!(await isAuthorized(call, event))) return "unauthorized";
  const request = create(api.ScrobblerScrobbleRequestSchema, {
    userId: event.userId,
    username: event.username,
    // Navidrome sends position 0 with a submit.
    ...(event.track === undefined ? {} : { track: { ...event.track, position: 0 } }),
    timestamp: event.timestamp,
  });
  const response = fromBinary(api.ScrobblerScrobbleResponseSchema, await call("Scrobble", toBinary(api.ScrobblerScrobbleRequestSchema, request)));
  if (response.error !== "") throw new ScrobbleRejected(response.error);
  return "delivered";
}

/** NowPlaying with the event's position, stamped with the time of delivery as Navidrome does. */
export async function deliverNowPlaying(call: ScrobblerCall, event: busProto.ScrobbleEvent, nowMs: number): Promise<DeliveryOutcome> {
  if (fromUnknownArtist(event)) return "skipped";
  if (!(await isAuthorized(call, event))) return "unauthorized";
  const request = create(api.ScrobblerNowPlayingRequestSchema, {
    userId: event.userId,
    username: event.username,
    ...(event.track === undefined ? {} : { track: { ...event.track, position: event.position || event.track.position } }),
    timestamp: BigInt(Math.floor(nowMs / 1000)),
  });
  const response = fromBinary(api.ScrobblerNowPlayingResponseSchema, await call("NowPlaying", toBinary(api.ScrobblerNowPlayingRequestSchema, request)));
  if (response.error !== "") throw new ScrobbleRejected(response.error);
  return "delivered";
}

/**
 * A now-playing event is stale once the rest of its track has played: delivering it would show a
 * track that has ended. Without a track length it is stale after an hour.
 */
export function nowPlayingIsStale(event: busProto.ScrobbleEvent, nowMs: number): boolean {
  const length = event.track?.length ?? 0;
  const position = event.position || event.track?.position || 0;
  const remainingS = length > 0 ? Math.max(0, length - position) : 3600;
  return nowMs > (Number(event.timestamp) + remainingS) * 1000;
}

async function isAuthorized(call: ScrobblerCall, event: busProto.ScrobbleEvent): Promise<boolean> {
  const request = create(api.ScrobblerIsAuthorizedRequestSchema, { userId: event.userId, username: event.username });
  const response = fromBinary(api.ScrobblerIsAuthorizedResponseSchema, await call("IsAuthorized", toBinary(api.ScrobblerIsAuthorizedRequestSchema, request)));
  return response.authorized && response.error === "";
}

function fromUnknownArtist(event: busProto.ScrobbleEvent): boolean {
  return event.track?.artists[0]?.name === UNKNOWN_ARTIST;
}
