/**
 * `subsonicapi` permission (ABI.md §11.5): `call{url}` runs a Subsonic API request for the plugin
 * and answers the JSON body. Navidrome routed it to its own router; Tonearm forwards it to a
 * configured Subsonic server, after the same checks and with the same parameter rules:
 *
 * - only the path's last segment and the query are used (`/rest/ping`, `/ping` and
 *   `http://elsewhere/x/ping` all reach `<server>/rest/ping`), so a plugin can reach nothing but
 *   the server's `/rest/` endpoints;
 * - `u` names the user the plugin acts as and is checked against the manifest's `allowedUsernames`
 *   and `allowAdmins`; `c` = plugin id, `f` = json, `v` = 1.16.1 are set whatever the plugin wrote;
 * - Subsonic failures stay inside the JSON; only failures to get an answer use `error`.
 *
 * The request authenticates as the configured account, not as `u`: a Subsonic server offers no
 * way to act for another user without that user's credentials.
 */
import type { SubsonicApiPermission } from "@tonearm/manifest";
import { subsonicHost } from "@tonearm/proto";
import { asyncHandler } from "../../define.js";
import type { MainContext, MainFunctions } from "../../host.js";
import { fromByteString, GoUrlError, parseGoQuery, parseGoUrl, pathBase, toByteString, type GoQuery } from "./go-url.js";
import { SubsonicRequestError, SubsonicServer } from "./server.js";
import { subsonicResponse, subsonicUserDirectory, type SubsonicUser, type SubsonicUserDirectory } from "./users.js";

export interface SubsonicSettings {
  /** The Subsonic server's base URL; without it every call answers `SubsonicAPI router not available`. */
  readonly url?: string;
  /** The account requests authenticate as. */
  readonly username?: string;
  readonly password?: string;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Where users are looked up for the admin rule. @default the server's `getUser` */
  readonly users?: SubsonicUserDirectory;
  /** Longest response body accepted. @default 16 MiB */
  readonly maxResponseBytes?: number;
}

export const SUBSONIC_API_VERSION = "1.16.1";
export const ROUTER_NOT_AVAILABLE = "SubsonicAPI router not available";
const MISSING_USERNAME = "missing required parameter 'u' (username)";

/** What Navidrome applies when a manifest's `subsonicapi` entry says nothing: any user, no admins. */
const DEFAULT_PERMISSION: Pick<SubsonicApiPermission, "allowedUsernames" | "allowAdmins"> = { allowedUsernames: [], allowAdmins: false };

export function createSubsonicFunctions(settings: SubsonicSettings = {}): MainFunctions {
  const forwarder = settings.url === undefined || settings.url === "" ? undefined : createForwarder(settings, settings.url);
  return {
    call: asyncHandler<MainContext, typeof subsonicHost.CallRequestSchema, typeof subsonicHost.CallResponseSchema>(
      "call",
      { input: subsonicHost.CallRequestSchema, output: subsonicHost.CallResponseSchema },
      (ctx, req) => (forwarder ? forwarder(ctx, req.url) : { error: ROUTER_NOT_AVAILABLE }),
    ),
  };
}

type Forwarder = (ctx: MainContext, url: string) => Promise<{ json?: string; error?: string }>;

function createForwarder(settings: SubsonicSettings, url: string): Forwarder {
  if (!settings.username || settings.password === undefined) {
    throw new TypeError("subsonicapi: a server url needs the username and password to authenticate with");
  }
  const server = new SubsonicServer({
    url,
    username: settings.username,
    password: settings.password,
    ...(settings.fetch ? { fetch: settings.fetch } : {}),
    ...(settings.maxResponseBytes !== undefined ? { maxResponseBytes: settings.maxResponseBytes } : {}),
  });
  const users = settings.users ?? subsonicUserDirectory(server);

  return async (ctx, rawUrl) => {
    let path: string;
    let query: GoQuery;
    try {
      const parsed = parseGoUrl(toByteString(rawUrl));
      path = parsed.path;
      query = parseGoQuery(parsed.rawQuery);
    } catch (error) {
      if (error instanceof GoUrlError) return { error: `invalid URL format: ${error.message}` };
      throw error;
    }

    const username = fromByteString(query.get("u")?.[0] ?? "");
    if (username === "") return { error: MISSING_USERNAME };
    const refusal = await checkPermissions(ctx.permissions.subsonicapi ?? DEFAULT_PERMISSION, username, users, ctx.signal);
    if (refusal !== undefined) return { error: refusal };

    query.set("c", [toByteString(ctx.pluginId)]);
    query.set("f", ["json"]);
    query.set("v", [SUBSONIC_API_VERSION]);

    const endpoint = pathBase(path);
    // `.`, `..` and `/` would name no endpoint, or step out of /rest/ once the URL is resolved.
    if (endpoint === "." || endpoint === ".." || endpoint === "/") {
      return { error: `invalid SubsonicAPI endpoint ${JSON.stringify(fromByteString(endpoint))}` };
    }

    try {
      const reply = await server.get(endpoint, query, ctx.signal);
      // Subsonic errors come as JSON (often with HTTP 200); anything else that is not a success is
      // a proxy or server failure the plugin could not parse.
      if ((reply.status >= 200 && reply.status < 300) || subsonicResponse(reply.body)) return { json: reply.body };
      return { error: `SubsonicAPI request failed: HTTP ${reply.status} ${reply.statusText}`.trimEnd() };
    } catch (error) {
      if (error instanceof SubsonicRequestError) return { error: `SubsonicAPI request failed: ${error.message}` };
      throw error;
    }
  };
}

/** Navidrome's checkPermissions: the refusal text, or undefined when the plugin may act as `username`. */
async function checkPermissions(
  permission: Pick<SubsonicApiPermission, "allowedUsernames" | "allowAdmins">,
  username: string,
  users: SubsonicUserDirectory,
  signal: AbortSignal,
): Promise<string | undefined> {
  if (permission.allowedUsernames.length > 0) {
    const wanted = username.toLowerCase();
    if (!permission.allowedUsernames.some((allowed) => allowed.toLowerCase() === wanted)) return `username ${username} is not allowed`;
  }
  if (permission.allowAdmins) return undefined;
  let user: SubsonicUser | undefined;
  try {
    user = await users.find(username, signal);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  if (!user) return `username ${username} not found`;
  if (user.isAdmin) return "calling SubsonicAPI as admin user is not allowed";
  return undefined;
}
