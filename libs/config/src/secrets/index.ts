/**
 * Secrets in settings: which settings are secret (by name, or marked by the operator), how they are
 * sealed for the bus with the cluster key and opened for the plugin, and how they are kept out of
 * logs, metrics and anything shown to people.
 *
 * Importable alone as `@tonearm/config/secrets` (no configuration loading pulled in).
 */
export { looksSecret } from "./secret-names.js";
export { isSecretSetting, redactFields, redactPluginConfig } from "./redact.js";
export { MIN_SCRUBBED_LENGTH, REDACTED, rememberSecretValues, scrubSecrets } from "./scrub.js";
export { SEALED_PREFIX, isSealed, sealedKeyId } from "./sealing.js";
export { SecretsError, SecretsErrorCode } from "./errors.js";
export { createPluginSecrets, type PluginSecrets, type PluginSecretsOptions } from "./plugin-secrets.js";
