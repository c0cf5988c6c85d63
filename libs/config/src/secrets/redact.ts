/** Showing settings and log fields without their secrets. */
import { isSealed } from "./sealing.js";
import { REDACTED } from "./scrub.js";
import { looksSecret } from "./secret-names.js";

/**
 * Whether setting `key` of plugin `pluginId` is secret: its name looks secret, or the operator
 * marked it in `[Plugins] SecretKeys` as `<key>` (every plugin) or `<pluginId>.<key>`.
 */
export function isSecretSetting(pluginId: string, key: string, markedSecret: readonly string[] = []): boolean {
  if (looksSecret(key)) return true;
  const lowerKey = key.toLowerCase();
  const qualified = `${pluginId}.${key}`.toLowerCase();
  return markedSecret.some((entry) => {
    const marked = entry.trim().toLowerCase();
    return marked === lowerKey || marked === qualified;
  });
}

/**
 * A plugin's settings fit to show (status page, `plugin info`, logs): the values of secret
 * settings and every sealed value replaced by `[redacted]`, the keys kept.
 */
export function redactPluginConfig(
  pluginId: string,
  config: Readonly<Record<string, string>>,
  markedSecret: readonly string[] = [],
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(config).map(([key, value]) => [key, isSealed(value) || isSecretSetting(pluginId, key, markedSecret) ? REDACTED : value]),
  );
}

const MAX_DEPTH = 8;

/**
 * A copy of a log object whose fields with secret-looking names, at any depth, hold `[redacted]`,
 * and whose sealed values are redacted too. Objects without such fields come back unchanged.
 */
export function redactFields<T>(value: T): T {
  return redact(value, 0) as T;
}

function redact(value: unknown, depth: number): unknown {
  if (typeof value === "string") return isSealed(value) ? REDACTED : value;
  if (typeof value !== "object" || value === null || depth >= MAX_DEPTH || value instanceof Error) return value;
  if (Array.isArray(value)) {
    const items: readonly unknown[] = value;
    let copy: unknown[] | undefined;
    items.forEach((item, i) => {
      const next = redact(item, depth + 1);
      if (next !== item) (copy ??= [...items])[i] = next;
    });
    return copy ?? value;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  let copy: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value)) {
    const next = looksSecret(key) && item !== undefined && item !== null && item !== "" ? REDACTED : redact(item, depth + 1);
    if (next !== item) (copy ??= { ...(value as Record<string, unknown>) })[key] = next;
  }
  return copy ?? value;
}
