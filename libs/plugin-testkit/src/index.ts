/**
 * Test kit for plugin authors: run a built `plugin.wasm` in vitest (or any test runner) on
 * Tonearm's real runtime and host services, with canned HTTP answers, a fresh cache, a config of
 * the test's choosing and schedules the test fires itself. See docs/plugins/testing.md.
 */
export { startPlugin, type ManifestJson, type PluginSource, type PluginUnderTest, type StartPluginOptions } from "./start-plugin.js";
export { CannedHttp, NO_CANNED_ANSWER, RecordedRequest, type CannedHandler, type CannedResponse } from "./canned-http.js";
export { serveCannedHttp, type ServedHttp } from "./serve.js";
export type { PluginCache, RecordedSchedules } from "./plugin-state.js";
export { CallError, CallErrorCode } from "@tonearm/abi";
export type { CacheValue, ScheduleEntry } from "@tonearm/host";
