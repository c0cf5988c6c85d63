/**
 * The go-plugin calling convention of Navidrome's first plugin system (ABI.md §1): capability
 * exports and their messages, the `env` host imports by permission, result packing, error codes.
 * Pure: no I/O, no WebAssembly.
 */
export { toSnakeCase } from "./names.js";
export { ERROR_BIT, packResult, unpackResult, type PackedResult } from "./packing.js";
export {
  CAPABILITIES,
  HOST_API_VERSION,
  capability,
  findMethod,
  isCapability,
  type Capability,
  type CapabilityDescriptor,
  type CapabilityMethod,
} from "./capabilities.js";
export {
  HOST_IMPORTS,
  PERMISSION_KEYS,
  hostImport,
  hostImportsFor,
  isPermissionKey,
  type HostImport,
  type PermissionKey,
} from "./host-imports.js";
export {
  CallError,
  CallErrorCode,
  PLUGIN_NOT_FOUND,
  PLUGIN_NOT_IMPLEMENTED,
  isCallErrorCode,
} from "./errors.js";
export { goQuote, goQuoteBytes } from "./go-quote.js";
export { TonearmError } from "./tonearm-error.js";
