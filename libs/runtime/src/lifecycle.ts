/**
 * `OnInit` of the LifecycleManagement capability (ABI.md §11.6, v0.58+ semantics): a returned error
 * or a non-empty `error` field means the plugin failed to initialise and must not be used.
 */
import { CallError, CallErrorCode } from "@tonearm/abi";
import type { api } from "@tonearm/proto";
import { invoke } from "./invoke.js";
import type { CallOptions, Runtime } from "./runtime.js";

export async function initializePlugin(
  runtime: Runtime,
  pluginId: string,
  config: Readonly<Record<string, string>>,
  options?: CallOptions,
): Promise<void> {
  const response = await invoke<typeof api.InitResponseSchema>(runtime, pluginId, "LifecycleManagement", "OnInit", { config: { ...config } }, options);
  if (response.error !== "") throw new CallError(CallErrorCode.PluginError, response.error);
}
