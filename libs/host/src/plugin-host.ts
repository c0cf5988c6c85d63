/**
 * Every host service wired into one `RuntimeHost`, from the configuration and the drivers of the
 * mode (in-memory for the embedded mode, Redis and the gateway for a cluster).
 */
import { randomBytes } from "node:crypto";
import type { LookupFunction } from "node:net";
import type { TonearmConfig } from "@tonearm/config";
import type { RuntimeHost } from "@tonearm/runtime";
import { createHost, type HostCallObserver, type PluginDirectory } from "./host.js";
import { createCacheFunctions, type CacheStore } from "./main/cache/index.js";
import { createHttpFunctions } from "./main/http/index.js";
import { createSchedulerFunctions, type ScheduleStore } from "./main/scheduler/index.js";
import { createSubsonicFunctions, type SubsonicSettings } from "./main/subsonic/index.js";
import { createWebSocketFunctions, type WebSocketGatewayClient } from "./main/websocket/index.js";
import type { ArtworkSettings } from "./thread/artwork.js";

export interface HostSettings {
  readonly http: { readonly timeoutMs: number; readonly maxResponseBytes: number };
  readonly artwork: ArtworkSettings;
  readonly subsonic: SubsonicSettings;
}

export interface HostDrivers {
  readonly cache: CacheStore;
  readonly schedules: ScheduleStore;
  readonly websocket: WebSocketGatewayClient;
  /** Resolver of outbound connections; tests point names at local servers with it. */
  readonly lookup?: LookupFunction;
}

/**
 * The host settings of a configuration. Without an artwork secret a random one is made, so artwork
 * URLs work until the process restarts; `onWarning` is told.
 */
export function hostSettings(config: TonearmConfig, onWarning: (message: string) => void = () => {}): HostSettings {
  let secret = config.artwork.secret;
  if (secret === "") {
    secret = randomBytes(32).toString("base64url");
    onWarning("no [artwork] secret configured: artwork URLs use a random key and stop working after a restart");
  }
  return {
    http: config.http,
    artwork: { secret, shareUrl: config.shareUrl, baseUrl: config.baseUrl },
    subsonic: { ...config.subsonic },
  };
}

export function createPluginHost(
  plugins: PluginDirectory,
  settings: HostSettings,
  drivers: HostDrivers,
  onHostCall?: HostCallObserver,
): RuntimeHost {
  const lookup = drivers.lookup ? { lookup: drivers.lookup } : {};
  return createHost({
    plugins,
    ...(onHostCall ? { onHostCall } : {}),
    thread: { artwork: settings.artwork },
    services: [
      createHttpFunctions({ ...settings.http, ...lookup }),
      createCacheFunctions(drivers.cache),
      createSchedulerFunctions(drivers.schedules),
      createWebSocketFunctions(drivers.websocket),
      createSubsonicFunctions(settings.subsonic),
    ],
  });
}
