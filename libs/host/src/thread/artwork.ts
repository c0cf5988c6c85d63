/**
 * `artwork` permission: `get_artist_url`, `get_album_url`, `get_track_url` answer a public image URL
 * `<base>/share/img/<JWT>[?size=N]` exactly as Navidrome builds it (ABI.md §11.4), so the URLs work
 * against a Navidrome share endpoint using the same secret.
 *
 * No I/O, so it runs inside the runtime threads. The JWT is signed with node:crypto's HMAC because
 * the host function must answer synchronously (jose only signs asynchronously). The token is
 * serialized as Navidrome's jwx does it (header `{"alg":"HS256","typ":"JWT"}`, claims in sorted
 * key order, Go's JSON escaping), so the same secret gives the same URL.
 */
import { createHmac } from "node:crypto";
import { artworkHost } from "@tonearm/proto";
import { syncHandler, type ByteHandler } from "../define.js";
import type { ThreadContext } from "./context.js";

export interface ArtworkSettings {
  /** The server secret the share endpoint verifies tokens with (Navidrome's JWT secret). */
  readonly secret: string;
  /** Navidrome's `ShareURL`; only its scheme and host are used. Empty: not configured. */
  readonly shareUrl: string;
  /** The server's own URL (`BaseScheme://BaseHost/BasePath`), or just a base path. Empty: not configured. */
  readonly baseUrl: string;
}

/** Navidrome's artwork kinds (`model.Kind*Artwork` prefixes). */
const KIND = { artist: "ar", album: "al", track: "mf" } as const;

const PUBLIC_IMAGES_PATH = "/share/img";

const base64url = (data: string | Buffer): string => Buffer.from(data).toString("base64url");
const TOKEN_HEADER = base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));

/** `model.ArtworkID.String()` with no last-update time: `<kind>-<id>_0`, or `""` for an empty id. */
export function artworkId(kind: keyof typeof KIND, id: string): string {
  return id === "" ? "" : `${KIND[kind]}-${id}_0`;
}

/** JSON as Go's encoding/json writes it: JSON.stringify plus Go's escaping of `<>&` and U+2028/2029. */
function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Navidrome's `auth.CreatePublicToken({id})`: an HS256 JWT with claims `{"id":…,"iss":"ND"}`. */
export function publicToken(secret: string, artId: string): string {
  const signingInput = `${TOKEN_HEADER}.${base64url(goJson({ id: artId, iss: "ND" }))}`;
  return `${signingInput}.${createHmac("sha256", secret).update(signingInput).digest("base64url")}`;
}

/** Scheme, host (with port, without userinfo) and path of an absolute URL, as Go's url.Parse splits them. */
function splitUrl(url: string, setting: string): { scheme: string; host: string; path: string } {
  const match = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)([^?#]*)/.exec(url);
  if (!match) throw new Error(`artwork ${setting} ${JSON.stringify(url)} is not an absolute URL (scheme://host)`);
  const [, scheme = "", authority = "", path = ""] = match;
  return { scheme: scheme.toLowerCase(), host: authority.slice(authority.lastIndexOf("@") + 1), path };
}

/** Go's `path.Join(basePath, path)` for the absolute paths that occur here. */
function joinPath(basePath: string, path: string): string {
  const segments = `${basePath}/${path}`.split("/").filter((s) => s !== "" && s !== ".");
  return `/${segments.join("/")}`;
}

/**
 * Where image URLs point. Like Navidrome: `ShareURL`'s scheme and host (its path dropped), else the
 * configured server URL with its path, else `http://localhost` (plus a configured base path).
 */
export function publicImagesUrl(settings: Pick<ArtworkSettings, "shareUrl" | "baseUrl">): string {
  if (settings.shareUrl !== "") {
    const { scheme, host } = splitUrl(settings.shareUrl, "shareUrl");
    return `${scheme}://${host}${PUBLIC_IMAGES_PATH}`;
  }
  if (settings.baseUrl === "" || settings.baseUrl.startsWith("/")) {
    return `http://localhost${joinPath(settings.baseUrl, PUBLIC_IMAGES_PATH)}`;
  }
  const { scheme, host, path } = splitUrl(settings.baseUrl, "baseUrl");
  return `${scheme}://${host}${joinPath(path, PUBLIC_IMAGES_PATH)}`;
}

export type ArtworkFunctionName = "get_artist_url" | "get_album_url" | "get_track_url";

/**
 * The artwork `env` functions. Throws on a malformed `shareUrl`/`baseUrl`; with an empty secret the
 * functions exist (so their names can be listed) but every call fails.
 */
export function artworkFunctions(settings: ArtworkSettings): Readonly<Record<ArtworkFunctionName, ByteHandler<ThreadContext>>> {
  // Resolved once, so a malformed URL fails when the thread host starts, not on a plugin's call.
  const imagesUrl = publicImagesUrl(settings);
  const url = (kind: keyof typeof KIND, request: artworkHost.GetArtworkUrlRequest): { url: string } => {
    // An empty secret would sign tokens anyone can forge; refuse rather than hand them out.
    if (settings.secret === "") throw new Error("artwork service has no signing secret configured");
    const token = publicToken(settings.secret, artworkId(kind, request.id));
    return { url: `${imagesUrl}/${token}${request.size > 0 ? `?size=${request.size}` : ""}` };
  };
  const types = { input: artworkHost.GetArtworkUrlRequestSchema, output: artworkHost.GetArtworkUrlResponseSchema };
  return {
    get_artist_url: syncHandler("get_artist_url", types, (_ctx: ThreadContext, request) => url("artist", request)),
    get_album_url: syncHandler("get_album_url", types, (_ctx: ThreadContext, request) => url("album", request)),
    get_track_url: syncHandler("get_track_url", types, (_ctx: ThreadContext, request) => url("track", request)),
  };
}
