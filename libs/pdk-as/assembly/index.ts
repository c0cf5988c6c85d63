// @tonearm/pdk-as: write Navidrome-compatible plugins (go-plugin ABI, v0.57–v0.59) in AssemblyScript.
//
//   import { api, MetadataAgent, Result, registerMetadataAgent } from "@tonearm/pdk-as";
//   export * from "@tonearm/pdk-as/exports";
//
// Messages and host functions live in one namespace per proto package: `api` (capability
// requests and responses) and the host services `http`, `config`, `scheduler`, `websocket`,
// `cache`, `artwork`, `subsonicapi` (e.g. `http.get(new http.HttpRequest(url))`). A host function
// is linked only if the plugin calls it, and the manifest must grant its permission. `parseJson`
// and the JSON writers (json.ts) are there for the web APIs plugins talk to.
export { api, artwork, cache, config, http, scheduler, subsonicapi, websocket } from "./gen/index";
export { Message } from "./wire";
export { ERR_NOT_FOUND, ERR_NOT_IMPLEMENTED, Result } from "./result";
export {
  LifecycleManagement,
  MetadataAgent,
  Scrobbler,
  SchedulerCallback,
  WebSocketCallback,
  registerLifecycleManagement,
  registerMetadataAgent,
  registerSchedulerCallback,
  registerScrobbler,
  registerWebSocketCallback,
} from "./capabilities";
export { NAME_SEPARATOR, NamedScheduler, registerNamedSchedulerCallback } from "./named-scheduler";
export { log } from "./log";
export { JSON_NULL, JsonKind, JsonObjectWriter, JsonValue, jsonArray, jsonNumber, jsonString, parseJson, stringify } from "./json";
export { utf8 } from "./text";
