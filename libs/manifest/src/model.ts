import type { Capability, PermissionKey } from "@tonearm/abi";

/** Methods an http permission may list, in the order of the schema (and of Navidrome's error text). */
export const HTTP_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "*"] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export interface ReasonPermission {
  /** Why the plugin needs the service; never empty. */
  readonly reason: string;
}

export interface HttpPermission extends ReasonPermission {
  /** URL pattern → methods allowed on it. May be empty here; see `validateRuntimePermissions`. */
  readonly allowedUrls: Readonly<Record<string, readonly HttpMethod[]>>;
  /** @default false */
  readonly allowLocalNetwork: boolean;
}

export interface WebSocketPermission extends ReasonPermission {
  /** URL patterns; empty only when the manifest wrote `null`, see `validateRuntimePermissions`. */
  readonly allowedUrls: readonly string[];
  /** @default false */
  readonly allowLocalNetwork: boolean;
}

export interface SubsonicApiPermission extends ReasonPermission {
  /** Users the plugin may act as; empty means any user. */
  readonly allowedUsernames: readonly string[];
  /** @default false */
  readonly allowAdmins: boolean;
}

/** The settings type of each permission key. */
export interface PermissionSettings {
  readonly http: HttpPermission;
  readonly config: ReasonPermission;
  readonly scheduler: ReasonPermission;
  readonly websocket: WebSocketPermission;
  readonly cache: ReasonPermission;
  readonly artwork: ReasonPermission;
  readonly subsonicapi: SubsonicApiPermission;
}

// Fails to compile if the ABI gains or loses a permission key without this model following.
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const _permissionKeysMatch: Exact<keyof PermissionSettings, PermissionKey> = true;

/** Granted permissions; a key is present only if the manifest grants it. Unknown keys are left out. */
export type Permissions = { readonly [K in PermissionKey]?: PermissionSettings[K] };

export interface PluginManifest {
  readonly name: string;
  readonly author: string;
  readonly version: string;
  readonly description: string;
  readonly website: string;
  /** In manifest order, duplicates kept. */
  readonly capabilities: readonly Capability[];
  readonly permissions: Permissions;
  /** The parsed document as written, unknown keys included (frozen). */
  readonly raw: Readonly<Record<string, unknown>>;
}
