import type { DescMessage, DescService } from "@bufbuild/protobuf";
import {
  artworkHost,
  cacheHost,
  configHost,
  httpHost,
  schedulerHost,
  subsonicHost,
  websocketHost,
} from "@tonearm/proto";
import { toSnakeCase } from "./names.js";

/**
 * Host services keyed by the manifest permission that grants them. A plugin's `env` module holds
 * exactly the imports of the permissions its manifest lists (ABI.md §1.6).
 */
const PERMISSION_SERVICES = {
  http: httpHost.HttpService,
  config: configHost.ConfigService,
  scheduler: schedulerHost.SchedulerService,
  websocket: websocketHost.WebSocketService,
  cache: cacheHost.CacheService,
  artwork: artworkHost.ArtworkService,
  subsonicapi: subsonicHost.SubsonicAPIService,
} as const satisfies Record<string, DescService>;

export type PermissionKey = keyof typeof PERMISSION_SERVICES;

export const PERMISSION_KEYS: readonly PermissionKey[] = Object.freeze(
  Object.keys(PERMISSION_SERVICES) as PermissionKey[],
);

export function isPermissionKey(key: string): key is PermissionKey {
  return Object.hasOwn(PERMISSION_SERVICES, key);
}

export interface HostImport {
  readonly permission: PermissionKey;
  /** The `env` import name: the snake-cased RPC name without a service prefix, e.g. `get_plugin_config`. */
  readonly name: string;
  readonly method: string;
  readonly input: DescMessage;
  readonly output: DescMessage;
}

/** Every `env` import of the ABI, in table order. Names are unique across services. */
export const HOST_IMPORTS: readonly HostImport[] = Object.freeze(
  PERMISSION_KEYS.flatMap((permission) =>
    PERMISSION_SERVICES[permission].methods.map((m) =>
      Object.freeze({
        permission,
        name: toSnakeCase(m.name),
        method: m.name,
        input: m.input,
        output: m.output,
      }),
    ),
  ),
);

const BY_NAME = new Map(HOST_IMPORTS.map((i) => [i.name, i]));

export function hostImport(name: string): HostImport | undefined {
  return BY_NAME.get(name);
}

/** The `env` imports a plugin with these permissions may link. */
export function hostImportsFor(permissions: Iterable<PermissionKey>): HostImport[] {
  const granted = new Set(permissions);
  return HOST_IMPORTS.filter((i) => granted.has(i.permission));
}
