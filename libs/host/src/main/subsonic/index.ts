/** The `subsonicapi` host function: plugin calls forwarded to a configured Subsonic server (ABI.md §11.5). */
export { createSubsonicFunctions, ROUTER_NOT_AVAILABLE, SUBSONIC_API_VERSION, type SubsonicSettings } from "./functions.js";
export { subsonicUserDirectory, type SubsonicUser, type SubsonicUserDirectory } from "./users.js";
export { SubsonicServer, type SubsonicServerOptions } from "./server.js";
