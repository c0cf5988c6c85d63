import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { PERMISSION_KEYS, type Capability, type PermissionKey } from "@tonearm/abi";
import { ManifestError, ManifestReadError } from "./errors.js";
import { lastFolding } from "./fold.js";
import { describeFsError } from "./fs-error.js";
import { loaderFailure } from "./loader-errors.js";
import type { HttpMethod, PermissionSettings, Permissions, PluginManifest } from "./model.js";
import { deepFreeze, manifestValidator } from "./schema.js";

export const MANIFEST_FILE = "manifest.json";

/**
 * Parses and validates a manifest. Accepts exactly what Navidrome v0.57–v0.59 loads (except a bare
 * `null` document) and fails with the text Navidrome would give, e.g.
 * `invalid manifest: field name in PluginManifest: required`.
 * @throws ManifestError
 */
export function parseManifest(text: string): PluginManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new ManifestError(error instanceof Error ? error.message : String(error), "", { cause: error });
  }
  const validate = manifestValidator();
  if (!validate(doc)) {
    const { detail, pointer } = loaderFailure(validate.errors ?? [], doc);
    throw new ManifestError(detail, pointer);
  }
  return toModel(doc as Record<string, unknown>);
}

/**
 * Reads and parses `<dir>/manifest.json`.
 * @throws ManifestReadError when the file cannot be read, ManifestError when it is invalid.
 */
export async function loadManifest(dir: string): Promise<PluginManifest> {
  const file = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new ManifestReadError(file, describeFsError(error, file), { cause: error });
  }
  return parseManifest(text);
}

// The document is valid here, so every value has its schema type or is null; null reads as the
// empty value, as Go's decoder does.
function toModel(doc: Record<string, unknown>): PluginManifest {
  const raw = deepFreeze(doc);
  const capabilities = own(raw, "capabilities");
  return Object.freeze({
    name: text(own(raw, "name")),
    author: text(own(raw, "author")),
    version: text(own(raw, "version")),
    description: text(own(raw, "description")),
    website: text(own(raw, "website")),
    capabilities: Object.freeze(Array.isArray(capabilities) ? [...(capabilities as Capability[])] : []),
    permissions: toPermissions(own(raw, "permissions")),
    raw,
  });
}

type Builders = { readonly [K in PermissionKey]: (settings: object) => PermissionSettings[K] };

const reasonOnly = (settings: object): { reason: string } => Object.freeze({ reason: text(own(settings, "reason")) });

const BUILDERS: Builders = {
  http: (settings) => {
    const urls = own(settings, "allowedUrls");
    const entries = isObject(urls)
      ? Object.entries(urls).map(([pattern, methods]): [string, readonly HttpMethod[]] => [
          pattern,
          Object.freeze(Array.isArray(methods) ? [...(methods as HttpMethod[])] : []),
        ])
      : [];
    return Object.freeze({
      reason: text(own(settings, "reason")),
      allowedUrls: Object.freeze(Object.fromEntries(entries)),
      allowLocalNetwork: own(settings, "allowLocalNetwork") === true,
    });
  },
  config: reasonOnly,
  scheduler: reasonOnly,
  websocket: (settings) =>
    Object.freeze({
      reason: text(own(settings, "reason")),
      allowedUrls: texts(own(settings, "allowedUrls")),
      allowLocalNetwork: own(settings, "allowLocalNetwork") === true,
    }),
  cache: reasonOnly,
  artwork: reasonOnly,
  subsonicapi: (settings) =>
    Object.freeze({
      reason: text(own(settings, "reason")),
      allowedUsernames: texts(lastFolding(settings, "allowedUsernames")),
      allowAdmins: own(settings, "allowAdmins") === true,
    }),
};

type MutablePermissions = { -readonly [K in PermissionKey]?: PermissionSettings[K] };

function toPermissions(value: unknown): Permissions {
  const granted: MutablePermissions = {};
  const grant = <K extends PermissionKey>(key: K, settings: object): void => {
    granted[key] = BUILDERS[key](settings);
  };
  if (isObject(value)) {
    for (const key of PERMISSION_KEYS) {
      // Keys match ignoring case, the last spelling wins; `"http": null` grants nothing.
      const settings = lastFolding(value, key);
      if (isObject(settings)) grant(key, settings);
    }
  }
  return Object.freeze(granted);
}

function own(object: object, key: string): unknown {
  return Object.hasOwn(object, key) ? (object as Record<string, unknown>)[key] : undefined;
}

function isObject(value: unknown): value is object {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function texts(value: unknown): readonly string[] {
  return Object.freeze(Array.isArray(value) ? value.map(text) : []);
}
