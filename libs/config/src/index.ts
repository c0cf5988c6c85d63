/**
 * Tonearm's configuration: a TOML file (Navidrome-style keys matched ignoring case, plus Tonearm's
 * own sections) overridden by TONEARM_<SECTION>_<KEY> environment variables, validated against
 * `schema/config.schema.json`.
 */
export type { LogFormat, Mode, NatsSettings, RedisSettings, RuntimeSettings, ScrobbleSettings, TonearmConfig } from "./types.js";
export {
  CONFIG_FILE_VARIABLE,
  DEFAULT_CONFIG_FILE,
  defaultConfig,
  loadConfig,
  parseConfig,
  type LoadConfigOptions,
  type ParseConfigOptions,
} from "./load.js";
export { toRuntimeOptions, type RuntimeLimitOptions } from "./runtime-options.js";
export { toNatsOptions, toRedisOptions, type NatsCredentialOptions, type RedisConnectionOptions } from "./connection-options.js";
export { CONFIG_SCHEMA_ID, CONFIG_SCHEMA_PATH, configSchema } from "./schema.js";
export { ConfigError } from "./errors.js";
export { pluginSecretsFor } from "./secrets/plugin-secrets.js";
export {
  REDACTED,
  SecretsError,
  createPluginSecrets,
  isSealed,
  isSecretSetting,
  looksSecret,
  redactPluginConfig,
  type PluginSecrets,
  type PluginSecretsOptions,
} from "./secrets/index.js";
