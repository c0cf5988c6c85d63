/**
 * Who a plugin may act as is checked against the Subsonic server's users (ABI.md §11.5: without
 * `allowAdmins` the user must exist and not be an admin). The default directory asks the server
 * itself with `getUser`, as the configured account.
 */
import { toByteString } from "./go-url.js";
import { SubsonicRequestError, type SubsonicReply, type SubsonicServer } from "./server.js";

export interface SubsonicUser {
  readonly username: string;
  readonly isAdmin: boolean;
}

export interface SubsonicUserDirectory {
  /** The user of that name (matched case-insensitively, as Navidrome does), or undefined when there is none. */
  find(username: string, signal: AbortSignal): Promise<SubsonicUser | undefined>;
}

/** Subsonic's "The requested data was not found". */
const DATA_NOT_FOUND = 70;
const CLIENT_NAME = "tonearm";
const API_VERSION = "1.16.1";

/**
 * Users as the server reports them. Looking up another user takes an admin account on most
 * servers; an answer about a different user than asked (Navidrome's `getUser` describes the caller
 * whatever `username` says) is refused rather than trusted.
 */
export function subsonicUserDirectory(server: SubsonicServer): SubsonicUserDirectory {
  return {
    async find(username, signal) {
      const fail = (reason: string): Error => new Error(`permissions check failed: ${reason}`);
      const query = new Map([
        ["username", [toByteString(username)]],
        ["c", [CLIENT_NAME]],
        ["v", [API_VERSION]],
        ["f", ["json"]],
      ]);
      let reply: SubsonicReply;
      try {
        reply = await server.get("getUser", query, signal);
      } catch (error) {
        if (error instanceof SubsonicRequestError) throw fail(`getUser: ${error.message}`);
        throw error;
      }
      const answer = subsonicResponse(reply.body);
      if (!answer) throw fail(`getUser: HTTP ${reply.status} ${reply.statusText}`.trimEnd());
      if (answer.status !== "ok") {
        const error = record(answer.error);
        if (error?.code === DATA_NOT_FOUND) return undefined;
        const message = typeof error?.message === "string" ? error.message : "failed";
        const code = typeof error?.code === "number" ? String(error.code) : "unknown";
        throw fail(`getUser: ${message} (Subsonic error ${code})`);
      }
      const user = record(answer.user);
      const found = typeof user?.username === "string" ? user.username : undefined;
      if (found === undefined || found.toLowerCase() !== username.toLowerCase()) {
        throw fail(`the Subsonic server did not describe user ${username} (getUser answered for ${found ?? "nobody"})`);
      }
      return { username: found, isAdmin: user?.adminRole === true };
    },
  };
}

const record = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

/** The `subsonic-response` object of a JSON body, or undefined when the body is not one. */
export function subsonicResponse(body: string): Record<string, unknown> | undefined {
  try {
    return record(record(JSON.parse(body))?.["subsonic-response"]);
  } catch {
    return undefined;
  }
}
