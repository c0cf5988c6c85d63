/** The `http` host service: permission-checked, SSRF-guarded HTTP for plugins. */
export {
  DEFAULT_HTTP_TIMEOUT_MS,
  DEFAULT_MAX_RESPONSE_BYTES,
  createHttpFunctions,
  type HttpFunctionsOptions,
} from "./functions.js";
export { REQUEST_BLOCKED_PREFIX } from "./exchange.js";
export { DEFAULT_USER_AGENT, canonicalHeaderKey } from "./headers.js";
export { MAX_REDIRECTS } from "./redirects.js";
export type { Hop, HopOptions, HopResponse, HttpTransport } from "./transport.js";
export {
  NO_ALLOWED_URLS,
  checkHttpRequest,
  checkUrlPolicy,
  checkWebSocketConnection,
  matchesUrlPattern,
  type UrlDecision,
} from "../url-permissions.js";
export {
  BlockedAddressError,
  LOCALHOST_NOT_ALLOWED,
  PRIVATE_IP_NOT_ALLOWED,
  blockedAddressKind,
  createNetworkAgent,
  findBlockedAddressError,
  networkLookup,
  staticLookup,
  type BlockedAddressKind,
  type NetworkAccessOptions,
} from "../network-guard.js";
