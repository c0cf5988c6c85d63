/**
 * Plugin manifests of Navidrome's first plugin system (ABI.md §3): the JSON Schema in
 * `schema/manifest.schema.json`, a typed model, and a loader that accepts what Navidrome accepts and
 * fails with Navidrome's error texts.
 */
export {
  HTTP_METHODS,
  type HttpMethod,
  type HttpPermission,
  type PermissionSettings,
  type Permissions,
  type PluginManifest,
  type ReasonPermission,
  type SubsonicApiPermission,
  type WebSocketPermission,
} from "./model.js";
export { MANIFEST_FILE, loadManifest, parseManifest } from "./parse.js";
export { MANIFEST_SCHEMA_ID, MANIFEST_SCHEMA_PATH, manifestSchema } from "./schema.js";
export {
  describePermissions,
  grantedPermissions,
  unknownPermissionKeys,
  validateRuntimePermissions,
  type PermissionSummary,
} from "./permissions.js";
export {
  EMPTY_ALLOWED_URLS,
  INVALID_MANIFEST,
  ManifestError,
  ManifestReadError,
  PermissionsError,
} from "./errors.js";
