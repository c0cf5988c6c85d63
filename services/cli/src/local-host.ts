/**
 * Host services for a runtime in this process (`call`, embedded `start`) on the in-memory drivers.
 * WebSocket events go straight back to the plugin's WebSocketCallback.
 */
import type { TonearmConfig } from "@tonearm/config";
import {
  createLocalWebSocketGateway,
  createMemoryCacheStore,
  createMemoryScheduleStore,
  createPluginHost,
  websocketCallbackCall,
  type HostSettings,
  type PluginDirectory,
  type ScheduleStore,
} from "@tonearm/host";
import type { Runtime, RuntimeHost } from "@tonearm/runtime";

export interface LocalHost {
  readonly host: RuntimeHost;
  readonly schedules: ScheduleStore;
  close(): Promise<void>;
}

export function createLocalHost(
  config: TonearmConfig,
  settings: HostSettings,
  runtime: () => Runtime | undefined,
  warn: (message: string) => void,
): LocalHost {
  const plugins: PluginDirectory = {
    lookup(pluginId) {
      const status = runtime()?.status(pluginId);
      if (status?.state !== "ready") return undefined;
      return { manifest: status.plugin.manifest, config: config.pluginConfig[pluginId] ?? {} };
    },
  };
  const cache = createMemoryCacheStore(config.cache);
  const schedules = createMemoryScheduleStore();
  const websocket = createLocalWebSocketGateway({
    onEvent(event) {
      const callback = websocketCallbackCall(event);
      runtime()
        ?.call(callback.pluginId, callback.capability, callback.method, callback.request)
        .catch((err: unknown) => warn(`${callback.pluginId} ${callback.capability}/${callback.method}: ${(err as Error).message}`));
    },
  });
  return {
    host: createPluginHost(plugins, settings, { cache, schedules, websocket }),
    schedules,
    async close() {
      websocket.closeAll();
      await cache.close();
    },
  };
}
