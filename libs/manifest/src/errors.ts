import { TonearmError } from "@tonearm/abi";

/** Prefix Navidrome's loader puts before every content error; tests and operators match on it. */
export const INVALID_MANIFEST = "invalid manifest";

/** Text of the error a runtime must refuse a plugin with when an allow-list is empty (Navidrome's own). */
export const EMPTY_ALLOWED_URLS = "allowedUrls must contain at least one URL pattern";

/**
 * A manifest that is not valid JSON or breaks the schema. `message` is Navidrome's text:
 * `invalid manifest: <detail>`, e.g. `invalid manifest: field name in PluginManifest: required`.
 */
export class ManifestError extends TonearmError {
  /** The text after `invalid manifest: `. */
  readonly detail: string;
  /** JSON Pointer of the offending value (`""` for the document itself). */
  readonly pointer: string;

  constructor(detail: string, pointer: string, options?: ErrorOptions) {
    super(`${INVALID_MANIFEST}: ${detail}`, options);
    this.detail = detail;
    this.pointer = pointer;
  }
}

/** `manifest.json` could not be read: `failed to read manifest file: <cause>`. */
export class ManifestReadError extends TonearmError {
  readonly path: string;

  constructor(path: string, reason: string, options?: ErrorOptions) {
    super(`failed to read manifest file: ${reason}`, options);
    this.path = path;
  }
}

/** A manifest that loads but whose permissions no runtime can honour (an empty allow-list). */
export class PermissionsError extends TonearmError {
  readonly permission: "http" | "websocket";

  constructor(permission: "http" | "websocket", message: string) {
    super(message);
    this.permission = permission;
  }
}
