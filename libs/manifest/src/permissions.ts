import { PERMISSION_KEYS, type PermissionKey } from "@tonearm/abi";
import { permissionKeyOf } from "./fold.js";
import { EMPTY_ALLOWED_URLS, PermissionsError } from "./errors.js";
import type { PluginManifest } from "./model.js";

/** The known permissions a manifest grants, in ABI table order (the `env` imports it may link). */
export function grantedPermissions(manifest: PluginManifest): PermissionKey[] {
  return PERMISSION_KEYS.filter((key) => manifest.permissions[key] !== undefined);
}

/** Permission keys the manifest lists that name no known permission in any letter case; they grant nothing. */
export function unknownPermissionKeys(manifest: PluginManifest): string[] {
  const permissions = manifest.raw.permissions;
  if (typeof permissions !== "object" || permissions === null) return [];
  return Object.keys(permissions).filter((key) => permissionKeyOf(key) === undefined);
}

/**
 * Refuses permissions that load but leave nothing to allow, as Navidrome's runtime creation does:
 * an http permission without URL patterns, or a websocket one whose list is null.
 * @throws PermissionsError with message `allowedUrls must contain at least one URL pattern`
 */
export function validateRuntimePermissions(manifest: PluginManifest): void {
  const { http, websocket } = manifest.permissions;
  if (http && Object.keys(http.allowedUrls).length === 0) throw new PermissionsError("http", EMPTY_ALLOWED_URLS);
  if (websocket && websocket.allowedUrls.length === 0) throw new PermissionsError("websocket", EMPTY_ALLOWED_URLS);
}

export interface PermissionSummary {
  readonly key: PermissionKey;
  readonly reason: string;
  /** Display lines, `Reason: …` first; nested lines are indented by two spaces. */
  readonly lines: readonly string[];
}

/**
 * The granted permissions for display, in the order and wording of `navidrome plugin info`:
 * print `<key>:` and then each line indented under it.
 */
export function describePermissions(manifest: PluginManifest): PermissionSummary[] {
  const { permissions } = manifest;
  return grantedPermissions(manifest).map((key) => {
    const lines: string[] = [];
    switch (key) {
      case "http": {
        const http = permissions.http;
        if (!http) break;
        lines.push(`Allow Local Network: ${String(http.allowLocalNetwork)}`, "Allowed URLs:");
        for (const [pattern, methods] of Object.entries(http.allowedUrls)) {
          lines.push(`  ${pattern}: [${methods.join(", ")}]`);
        }
        break;
      }
      case "websocket": {
        const websocket = permissions.websocket;
        if (!websocket) break;
        lines.push(
          `Allow Local Network: ${String(websocket.allowLocalNetwork)}`,
          `Allowed URLs: [${websocket.allowedUrls.join(", ")}]`,
        );
        break;
      }
      case "subsonicapi": {
        const subsonic = permissions.subsonicapi;
        if (!subsonic) break;
        const users = subsonic.allowedUsernames.length > 0 ? subsonic.allowedUsernames.join(", ") : "All Users";
        lines.push(`Allow Admins: ${String(subsonic.allowAdmins)}`, `Allowed Usernames: [${users}]`);
        break;
      }
      default:
        break;
    }
    const reason = permissions[key]?.reason ?? "";
    return { key, reason, lines: [`Reason: ${reason}`, ...lines] };
  });
}
