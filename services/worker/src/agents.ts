/**
 * Navidrome's metadata-agent orchestration (ABI.md §12), served on `tonearm.<ns>.agents.<Method>`
 * for the MetadataAgent methods.
 *
 * Request  the method's request message, as on a call subject (protobuf or JSON, deadline, trace)
 * Reply    the first accepted response, with header `Tonearm-Agent: <plugin id>`; a special
 *          artist id or album name is answered without asking any agent (no header); `not_found`
 *          when no agent gave an accepted response, `timeout` when the deadline ran out first
 *
 * Agents are the plugin ids of Navidrome's `Agents` setting, asked in that order. A name that is
 * not a callable MetadataAgent plugin (Navidrome's built-ins such as lastfm do not run here) is
 * skipped. Any error of an agent (`plugin:not_found`, `plugin:not_implemented` or another) asks
 * the next one, as Navidrome does.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { CallError, CallErrorCode } from "@tonearm/abi";
import { api } from "@tonearm/proto";

/** Reply header naming the plugin whose response was accepted. */
export const AGENT_HEADER = "Tonearm-Agent";

/**
 * Navidrome's id of the "[Unknown Artist]" artist: `id.NewHash("[unknown artist]")`, the base62
 * form of md5 over the lower-cased name and a zero-width space.
 */
export const UNKNOWN_ARTIST_ID = "7lsE5pS09fPS1VuFqwXbia";
/** Navidrome's fixed id of "Various Artists". */
export const VARIOUS_ARTISTS_ID = "63sqASlAfjbGMuLP4JhnZU";
/** Navidrome's name of an album without a name. */
export const UNKNOWN_ALBUM = "[Unknown Album]";

/** Navidrome's answer to a request that no agent is asked about. */
type Shortcut = "not_found" | "empty" | undefined;

interface AgentRule {
  shortcut(request: Uint8Array): Shortcut;
  /** Whether an agent's response ends the chain; a response that does not decode does not. */
  accepts(response: Uint8Array): boolean;
}

function artistShortcut(id: string): Shortcut {
  if (id === UNKNOWN_ARTIST_ID) return "not_found";
  if (id === VARIOUS_ARTISTS_ID) return "empty";
  return undefined;
}

function albumShortcut(name: string): Shortcut {
  return name === UNKNOWN_ALBUM ? "not_found" : undefined;
}

const RULES: Readonly<Record<string, AgentRule>> = {
  GetArtistMBID: {
    shortcut: (r) => artistShortcut(fromBinary(api.ArtistMBIDRequestSchema, r).id),
    accepts: (r) => fromBinary(api.ArtistMBIDResponseSchema, r).mbid !== "",
  },
  GetArtistURL: {
    shortcut: (r) => artistShortcut(fromBinary(api.ArtistURLRequestSchema, r).id),
    accepts: (r) => fromBinary(api.ArtistURLResponseSchema, r).url !== "",
  },
  // Any answer that is not an error, an empty biography included, ends the chain.
  GetArtistBiography: {
    shortcut: (r) => artistShortcut(fromBinary(api.ArtistBiographyRequestSchema, r).id),
    accepts: (r) => {
      fromBinary(api.ArtistBiographyResponseSchema, r);
      return true;
    },
  },
  GetSimilarArtists: {
    shortcut: (r) => artistShortcut(fromBinary(api.ArtistSimilarRequestSchema, r).id),
    accepts: (r) => fromBinary(api.ArtistSimilarResponseSchema, r).artists.length > 0,
  },
  GetArtistImages: {
    shortcut: (r) => artistShortcut(fromBinary(api.ArtistImageRequestSchema, r).id),
    accepts: (r) => fromBinary(api.ArtistImageResponseSchema, r).images.length > 0,
  },
  GetArtistTopSongs: {
    shortcut: (r) => artistShortcut(fromBinary(api.ArtistTopSongsRequestSchema, r).id),
    accepts: (r) => fromBinary(api.ArtistTopSongsResponseSchema, r).songs.length > 0,
  },
  // Any answer that is not an error ends the chain, but Navidrome's adapter turns a response
  // without `info` into "not found".
  GetAlbumInfo: {
    shortcut: (r) => albumShortcut(fromBinary(api.AlbumInfoRequestSchema, r).name),
    accepts: (r) => fromBinary(api.AlbumInfoResponseSchema, r).info !== undefined,
  },
  GetAlbumImages: {
    shortcut: (r) => albumShortcut(fromBinary(api.AlbumImagesRequestSchema, r).name),
    accepts: (r) => fromBinary(api.AlbumImagesResponseSchema, r).images.length > 0,
  },
};

/** The MetadataAgent methods served on agents subjects. */
export const AGENT_METHODS: readonly string[] = Object.freeze(Object.keys(RULES));

export interface AgentAnswer {
  /** The plugin whose response was accepted; absent for a shortcut answer. */
  readonly agent?: string;
  /** The response message, protobuf bytes. */
  readonly response: Uint8Array;
}

/**
 * Asks one agent: resolves with its response, or with undefined when the name is not a callable
 * MetadataAgent plugin (skipped); rejects with the agent's error.
 */
export type AskAgent = (agent: string) => Promise<Uint8Array | undefined>;

export interface AskAgentsOptions {
  /** Epoch milliseconds after which no further agent is asked. */
  readonly deadlineMs?: number;
  /** Told about each agent that failed; the chain goes on. */
  readonly onAgentError?: (agent: string, error: unknown) => void;
}

/**
 * Runs the chain for one request (`request` as protobuf bytes): the shortcut, then each agent in
 * order until one gives an accepted response. Rejects with `bad_request` for a method or request
 * it cannot read, `not_found` when no agent answered acceptably, `timeout` past the deadline.
 */
export async function askAgents(
  method: string,
  request: Uint8Array,
  agents: readonly string[],
  ask: AskAgent,
  options: AskAgentsOptions = {},
): Promise<AgentAnswer> {
  const rule = Object.hasOwn(RULES, method) ? RULES[method] : undefined;
  if (rule === undefined) {
    throw new CallError(CallErrorCode.BadRequest, `${method} is not a MetadataAgent method; use one of ${AGENT_METHODS.join(", ")}`);
  }
  let shortcut: Shortcut;
  try {
    shortcut = rule.shortcut(request);
  } catch (err) {
    throw new CallError(CallErrorCode.BadRequest, `the ${method} request does not decode: ${describe(err)}`, { cause: err });
  }
  if (shortcut === "not_found") throw new CallError(CallErrorCode.NotFound, `${method}: Navidrome answers "not found" for this artist or album`);
  if (shortcut === "empty") return { response: new Uint8Array(0) };

  for (const agent of agents) {
    if (options.deadlineMs !== undefined && Date.now() >= options.deadlineMs) {
      throw new CallError(CallErrorCode.Timeout, `the caller's deadline passed before an agent answered ${method}`);
    }
    let response: Uint8Array | undefined;
    try {
      response = await ask(agent);
    } catch (err) {
      options.onAgentError?.(agent, err);
      continue;
    }
    if (response !== undefined && acceptable(rule, response)) return { agent, response };
  }
  throw new CallError(CallErrorCode.NotFound, `no agent answered ${method}`);
}

function acceptable(rule: AgentRule, response: Uint8Array): boolean {
  try {
    return rule.accepts(response);
  } catch {
    return false;
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
