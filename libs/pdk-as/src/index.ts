/**
 * Node-side tools of the AssemblyScript PDK: `buildPlugin` compiles a plugin written against
 * `@tonearm/pdk-as` (the AssemblyScript API under `assembly/`) into a Navidrome-compatible
 * `plugin.wasm`. The protoc plugin that generates the message classes is `protoc-gen-as.js`.
 */
export { buildPlugin, PluginBuildError, type BuildPluginOptions, type BuildPluginResult } from "./build.js";
