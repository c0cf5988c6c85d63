/**
 * Host services for a runtime that runs in this process (`call`, embedded `start`), on the
 * in-memory drivers.
 */
import type { TonearmConfig } from "@tonearm/config";
import { createHost, type PluginDirectory } from "@tonearm/host";
import type { Runtime, RuntimeHost } from "@tonearm/runtime";

export function createLocalHost(config: TonearmConfig, runtime: () => Runtime | undefined): RuntimeHost {
  const plugins: PluginDirectory = {
    lookup(pluginId) {
      const status = runtime()?.status(pluginId);
      if (status?.state !== "ready") return undefined;
      return { manifest: status.plugin.manifest, config: config.pluginConfig[pluginId] ?? {} };
    },
  };
  return createHost({ plugins });
}
