/**
 * Navidrome's metadata-agent orchestration (ABI.md §12): the MetadataAgent plugins named in the
 * `Agents` setting are asked in that order and the first acceptable answer wins. Names that are
 * not MetadataAgent plugins (Navidrome's built-ins such as lastfm) are skipped.
 */
import { fromBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { CallError, CallErrorCode, findMethod } from "@tonearm/abi";

/** A response the chain accepts; anything else (or an error) asks the next agent. */
const ACCEPTS: Readonly<Record<string, (response: Record<string, unknown>) => boolean>> = {
  GetArtistMBID: (r) => nonEmpty(r.mbid),
  GetArtistURL: (r) => nonEmpty(r.url),
  GetArtistBiography: () => true,
  GetSimilarArtists: (r) => nonEmptyList(r.artists),
  GetArtistImages: (r) => nonEmptyList(r.images),
  GetArtistTopSongs: (r) => nonEmptyList(r.songs),
  // The adapter treats a missing `info` as not found.
  GetAlbumInfo: (r) => r.info !== undefined,
  GetAlbumImages: (r) => nonEmptyList(r.images),
};

const UNKNOWN_ARTIST = "[Unknown Artist]";
const VARIOUS_ARTISTS = "Various Artists";
const UNKNOWN_ALBUM = "[Unknown Album]";

const nonEmpty = (v: unknown): boolean => typeof v === "string" && v !== "";
const nonEmptyList = (v: unknown): boolean => Array.isArray(v) && v.length > 0;

export type AgentCall = (pluginId: string, method: string, request: Uint8Array) => Promise<Uint8Array>;

export interface AgentAnswer {
  /** The plugin that answered; undefined for an answer given without asking any (special ids). */
  readonly agent?: string;
  readonly response: Uint8Array;
}

/**
 * Asks the agents in order. `candidates` are the configured names that are callable MetadataAgent
 * plugins right now. Resolves with the first accepted answer; rejects with `not_found` when none.
 */
export async function askAgents(method: string, request: Uint8Array, candidates: readonly string[], call: AgentCall): Promise<AgentAnswer> {
  const m = findMethod("MetadataAgent", method);
  const accepts = ACCEPTS[method];
  if (!m || !accepts) throw new CallError(CallErrorCode.BadRequest, `unknown agents method ${method}`);
  const decoded = fromBinary(m.input, request) as Record<string, unknown>;
  const artist = typeof decoded.artistName === "string" ? decoded.artistName : decoded.name;
  if (method.startsWith("GetAlbum")) {
    if (decoded.name === UNKNOWN_ALBUM) throw new CallError(CallErrorCode.NotFound, "unknown album");
  } else if (artist === UNKNOWN_ARTIST) {
    throw new CallError(CallErrorCode.NotFound, "unknown artist");
  } else if (artist === VARIOUS_ARTISTS) {
    return { response: new Uint8Array() };
  }
  for (const agent of candidates) {
    let bytes: Uint8Array;
    try {
      bytes = await call(agent, method, request);
    } catch {
      continue;
    }
    if (accepts(decodeLoosely(m.output, bytes))) return { agent, response: bytes };
  }
  throw new CallError(CallErrorCode.NotFound, `no agent answered ${method}`);
}

function decodeLoosely(desc: DescMessage, bytes: Uint8Array): Record<string, unknown> {
  try {
    const message: MessageShape<DescMessage> = fromBinary(desc, bytes);
    return message;
  } catch {
    return {};
  }
}
