/**
 * Secret plugin settings on their way through the cluster. The registry publishes each plugin's
 * `[PluginConfig.<id>]` in its record on the bus; the values of secret settings (see
 * `isSecretSetting`) go there sealed with the cluster key, and workers open them before a plugin
 * sees them (OnInit, get_plugin_config). Settings that are not secret travel as they are.
 *
 * Without a configured cluster key the process seals with a key of its own: right for embedded
 * mode, where registry and workers share the process. In cluster mode, secret settings without a
 * cluster key are refused at start (`pluginSecretsFor`): workers on other hosts could not open
 * them, and publishing them in clear is not an option.
 */
import { ConfigError } from "../errors.js";
import type { TonearmConfig } from "../types.js";
import { SecretsError } from "./errors.js";
import { isSecretSetting } from "./redact.js";
import { clusterKeyFromBase64, isSealed, openValue, processClusterKey, sealValue, type ClusterKey } from "./sealing.js";
import { rememberSecretValues } from "./scrub.js";

export interface PluginSecretsOptions {
  /** The cluster key, 32 bytes in base64. Empty or unset: a key of this process alone. */
  readonly clusterKey?: string;
  /** `[Plugins] SecretKeys`: settings to treat as secret besides those whose names look secret. */
  readonly secretKeys?: readonly string[];
}

export interface PluginSecrets {
  /** Id of the key sealing and opening here (8 hex digits), as sealed values name it. */
  readonly keyId: string;
  /** No cluster key is configured: only this process can open what it seals. */
  readonly processLocal: boolean;
  /** Whether setting `key` of plugin `pluginId` is secret. */
  isSecret(pluginId: string, key: string): boolean;
  /** The settings as published on the bus: values of secret settings sealed, the rest as given. */
  seal(pluginId: string, config: Readonly<Record<string, string>>): Record<string, string>;
  /** The settings as the plugin receives them: sealed values opened. Throws `SecretsError`. */
  open(pluginId: string, config: Readonly<Record<string, string>>): Record<string, string>;
  /** The secret settings among `pluginConfig`, as `PluginConfig.<id>.<key>`. */
  secretSettings(pluginConfig: Readonly<Record<string, Readonly<Record<string, string>>>>): string[];
}

export function createPluginSecrets(options: PluginSecretsOptions = {}): PluginSecrets {
  const key = options.clusterKey ? clusterKeyFromBase64(options.clusterKey) : processClusterKey();
  return new ClusterKeySecrets(key, options.secretKeys ?? []);
}

/**
 * The plugin secrets of a configuration: `[security] clusterKey` and `[Plugins] SecretKeys`. In
 * cluster mode, refuses (ConfigError) secret plugin settings without a cluster key. Also adds
 * Tonearm's own secrets (artwork secret, NATS and Redis passwords, …) to those scrubbed from
 * this process's logs and metrics.
 */
export function pluginSecretsFor(config: TonearmConfig): PluginSecrets {
  let secrets: PluginSecrets;
  try {
    secrets = createPluginSecrets({ clusterKey: config.security.clusterKey, secretKeys: config.plugins.secretKeys });
  } catch (err) {
    if (!(err instanceof SecretsError)) throw err;
    throw new ConfigError(`invalid configuration: security.clusterKey: ${err.message}`, { problems: [`security.clusterKey: ${err.message}`], cause: err });
  }
  const settings = secrets.secretSettings(config.pluginConfig);
  if (config.mode === "cluster" && secrets.processLocal && settings.length > 0) {
    const problem =
      `security.clusterKey: required in cluster mode, because plugin settings ${settings.join(", ")} are secret and ` +
      "workers on other hosts receive them sealed with it; set it (or TONEARM_SECURITY_CLUSTERKEY) to the same 32 random " +
      "bytes in base64 on every Tonearm process of the cluster, e.g. from `openssl rand -base64 32`";
    throw new ConfigError(`invalid configuration:\n  - ${problem}`, { problems: [problem] });
  }
  const own = [config.artwork.secret, config.subsonic.password, config.nats.password, config.nats.token, config.redis.password, config.security.clusterKey];
  rememberSecretValues(own.filter((value): value is string => typeof value === "string" && value !== ""));
  return secrets;
}

class ClusterKeySecrets implements PluginSecrets {
  readonly #key: ClusterKey;
  readonly #marked: readonly string[];

  constructor(key: ClusterKey, marked: readonly string[]) {
    this.#key = key;
    this.#marked = marked;
  }

  get keyId(): string {
    return this.#key.id;
  }

  get processLocal(): boolean {
    return this.#key.ephemeral;
  }

  isSecret(pluginId: string, key: string): boolean {
    return isSecretSetting(pluginId, key, this.#marked);
  }

  seal(pluginId: string, config: Readonly<Record<string, string>>): Record<string, string> {
    const secretValues: string[] = [];
    const sealed = Object.fromEntries(
      Object.entries(config).map(([key, value]) => {
        if (isSealed(value) || !this.isSecret(pluginId, key)) return [key, value];
        secretValues.push(value);
        return [key, sealValue(this.#key, pluginId, key, value)];
      }),
    );
    rememberSecretValues(secretValues);
    return sealed;
  }

  open(pluginId: string, config: Readonly<Record<string, string>>): Record<string, string> {
    const opened: string[] = [];
    const clear = Object.fromEntries(
      Object.entries(config).map(([key, value]) => {
        if (!isSealed(value)) return [key, value];
        const plain = openValue(this.#key, pluginId, key, value);
        opened.push(plain);
        return [key, plain];
      }),
    );
    rememberSecretValues(opened);
    return clear;
  }

  secretSettings(pluginConfig: Readonly<Record<string, Readonly<Record<string, string>>>>): string[] {
    return Object.entries(pluginConfig).flatMap(([pluginId, settings]) =>
      Object.keys(settings)
        .filter((key) => this.isSecret(pluginId, key))
        .map((key) => `PluginConfig.${pluginId}.${key}`),
    );
  }
}
