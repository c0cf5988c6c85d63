/** `config` permission: `get_plugin_config` returns the plugin's `[PluginConfig.<id>]` map (ABI.md §11.3). */
import { configHost } from "@tonearm/proto";
import { syncHandler } from "../define.js";
import type { ThreadContext } from "./context.js";

export const configFunctions = {
  get_plugin_config: syncHandler<ThreadContext, typeof configHost.GetPluginConfigRequestSchema, typeof configHost.GetPluginConfigResponseSchema>(
    "get_plugin_config",
    { input: configHost.GetPluginConfigRequestSchema, output: configHost.GetPluginConfigResponseSchema },
    (ctx) => ({ config: { ...ctx.config } }),
  ),
};
