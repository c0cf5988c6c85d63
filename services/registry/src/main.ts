/** How `tonearm start` runs the registry role: its configuration mapped onto the registry. */
import type { Bus } from "@tonearm/bus";
import { pluginSecretsFor, type TonearmConfig } from "@tonearm/config";
import { createLogger, type Logger } from "@tonearm/telemetry";
import { createRegistry, type Registry } from "./registry.js";

export interface StartRegistryOptions {
  /** Opened for `config.namespace`. */
  readonly bus: Bus;
  readonly config: TonearmConfig;
  /** @default a logger named "registry" at `config.log.level` */
  readonly logger?: Logger;
  /** @default 10000 */
  readonly leaseTtlMs?: number;
}

/**
 * Starts a registry for the configured plugins folder. Resolves once it is active and has scanned
 * the folder, or once it waits on standby behind another active registry. Secret plugin settings
 * are published sealed; in cluster mode they need `[security] clusterKey` (ConfigError otherwise).
 */
export async function startRegistry(options: StartRegistryOptions): Promise<Registry> {
  const { bus, config } = options;
  const registry = createRegistry({
    bus,
    namespace: config.namespace,
    folder: config.plugins.folder,
    pluginConfig: config.pluginConfig,
    secrets: pluginSecretsFor(config),
    enabled: config.plugins.enabled,
    autoReload: config.plugins.autoReload,
    debounceMs: config.plugins.reloadDebounceMs,
    ...(options.leaseTtlMs === undefined ? {} : { leaseTtlMs: options.leaseTtlMs }),
    logger: options.logger ?? createLogger({ name: "registry", level: config.log.level, format: config.log.format }),
  });
  await registry.start();
  return registry;
}
