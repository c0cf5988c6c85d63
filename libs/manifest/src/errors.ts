/** Prefix Navidrome's loader puts before every content error; tests and operators match on it. */
export const INVALID_MANIFEST = "invalid manifest";

/** Text of the error a runtime must refuse a plugin with when an allow-list is empty (Navidrome's own). */
export const EMPTY_ALLOWED_URLS = "allowedUrls must contain at least one URL pattern";

// `instanceof` through registered symbols, so the check holds across worker threads and vm contexts.
function brand(target: object, symbol: symbol): void {
  Object.defineProperty(target, symbol, { value: true });
}
function hasBrand(value: unknown, symbol: symbol): boolean {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[symbol] === true;
}

const isManifestError = Symbol.for("tonearm.ManifestError");
const isManifestReadError = Symbol.for("tonearm.ManifestReadError");
const isPermissionsError = Symbol.for("tonearm.PermissionsError");

/**
 * A manifest that is not valid JSON or breaks the schema. `message` is Navidrome's text:
 * `invalid manifest: <detail>`, e.g. `invalid manifest: field name in PluginManifest: required`.
 */
export class ManifestError extends Error {
  /** The text after `invalid manifest: `. */
  readonly detail: string;
  /** JSON Pointer of the offending value (`""` for the document itself). */
  readonly pointer: string;

  constructor(detail: string, pointer: string, options?: ErrorOptions) {
    super(`${INVALID_MANIFEST}: ${detail}`, options);
    this.name = "ManifestError";
    this.detail = detail;
    this.pointer = pointer;
    brand(this, isManifestError);
  }

  static override [Symbol.hasInstance](value: unknown): value is ManifestError {
    return hasBrand(value, isManifestError);
  }
}

/** `manifest.json` could not be read: `failed to read manifest file: <cause>`. */
export class ManifestReadError extends Error {
  readonly path: string;

  constructor(path: string, reason: string, options?: ErrorOptions) {
    super(`failed to read manifest file: ${reason}`, options);
    this.name = "ManifestReadError";
    this.path = path;
    brand(this, isManifestReadError);
  }

  static override [Symbol.hasInstance](value: unknown): value is ManifestReadError {
    return hasBrand(value, isManifestReadError);
  }
}

/** A manifest that loads but whose permissions no runtime can honour (an empty allow-list). */
export class PermissionsError extends Error {
  readonly permission: "http" | "websocket";

  constructor(permission: "http" | "websocket", message: string) {
    super(message);
    this.name = "PermissionsError";
    this.permission = permission;
    brand(this, isPermissionsError);
  }

  static override [Symbol.hasInstance](value: unknown): value is PermissionsError {
    return hasBrand(value, isPermissionsError);
  }
}
