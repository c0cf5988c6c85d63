/**
 * Key matching with viper's semantics: a key in the file matches a schema key whatever its case, and
 * is renamed to the schema's spelling so validation, errors and the typed result see one spelling.
 * Keys of [PluginConfig.<pluginId>] tables are lower-cased (viper does; plugins read `clientid`),
 * while the plugin id keeps its case because it names a folder.
 */
import { pluginSettingText } from "./plugin-values.js";
import type { SchemaNode } from "./schema.js";

/** The top-level key whose tables hold free-form per-plugin settings. */
export const PLUGIN_CONFIG_KEY = "PluginConfig";

export type Table = Record<string, unknown>;

/** A TOML table: a plain object. TOML dates parse to TomlDate objects (a Date), which are not tables. */
export function isTable(value: unknown): value is Table {
  if (typeof value !== "object" || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The schema key `key` stands for, ignoring case; undefined when there is none. */
export function matchKey(properties: Readonly<Record<string, SchemaNode>>, key: string): string | undefined {
  const wanted = key.toLowerCase();
  return Object.keys(properties).find((name) => name.toLowerCase() === wanted);
}

/** A key path as an operator would write it: `runtime.threadsMin`, `PluginConfig."my.plugin".key`. */
export function formatPath(path: readonly string[]): string {
  return path.map((segment) => (/^[A-Za-z0-9_-]+$/.test(segment) ? segment : JSON.stringify(segment))).join(".");
}

/**
 * Renames the keys of a parsed document to the schema's spelling. Unknown keys are kept as written,
 * for the validator to report. Tables written in two spellings (`[plugins]` and `[Plugins]`) are one
 * table, as in viper; a value given under two spellings is a problem, not a silent pick.
 */
export function canonicalizeKeys(document: Table, schema: SchemaNode, problems: string[]): Table {
  return canonicalizeEntries(Object.entries(document), schema, [], problems);
}

type Entry = [key: string, value: unknown];

function canonicalizeEntries(entries: readonly Entry[], schema: SchemaNode, path: readonly string[], problems: string[]): Table {
  const properties = schema.properties ?? {};
  const groups = groupBy(entries, (key) => matchKey(properties, key) ?? key, path, problems);
  return Object.fromEntries(
    [...groups].map(([canonical, group]): Entry => {
      const child = properties[canonical];
      if (path.length === 0 && canonical === PLUGIN_CONFIG_KEY) return [canonical, canonicalizePluginConfig(group, problems)];
      if (child?.properties && isTable(group.value)) {
        return [canonical, canonicalizeEntries(group.entries, child, [...path, canonical], problems)];
      }
      return [canonical, toSafeNumbers(group.value)];
    }),
  );
}

function canonicalizePluginConfig(group: Group, problems: string[]): unknown {
  if (!isTable(group.value)) return toSafeNumbers(group.value);
  // The plugin id names a folder, so it is matched exactly.
  const plugins = groupBy(group.entries, (id) => id, [PLUGIN_CONFIG_KEY], problems);
  return Object.fromEntries(
    [...plugins].map(([pluginId, settings]): Entry => {
      if (!isTable(settings.value)) return [pluginId, toSafeNumbers(settings.value)];
      const values = groupBy(settings.entries, (key) => key.toLowerCase(), [PLUGIN_CONFIG_KEY, pluginId], problems);
      return [pluginId, Object.fromEntries([...values].map(([key, { value }]): Entry => [key, settingValue(value)]))];
    }),
  );
}

interface Group {
  /** The first value given; for tables, `entries` holds the keys of every table merged. */
  readonly value: unknown;
  readonly entries: Entry[];
}

/**
 * Gathers entries under their canonical name. Tables under one name merge; any other repetition
 * is reported and the first value kept.
 */
function groupBy(
  entries: readonly Entry[],
  canonicalName: (key: string) => string,
  path: readonly string[],
  problems: string[],
): Map<string, Group> {
  const groups = new Map<string, Group & { firstKey: string }>();
  for (const [key, value] of entries) {
    const name = canonicalName(key);
    const group = groups.get(name);
    if (!group) {
      groups.set(name, { value, entries: isTable(value) ? Object.entries(value) : [], firstKey: key });
    } else if (isTable(group.value) && isTable(value)) {
      group.entries.push(...Object.entries(value));
    } else {
      const spellings = group.firstKey === key ? "" : `, as "${group.firstKey}" and "${key}" (keys ignore case)`;
      problems.push(`${formatPath([...path, name])}: given twice${spellings}`);
    }
  }
  return groups;
}

// Plugin settings become strings anyway. Those the validator cannot type (64-bit integers beyond
// 2^53, inf, nan) are converted now, so every digit is kept and they are not refused.
function settingValue(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number" && !Number.isFinite(value)) return pluginSettingText(value);
  return value;
}

// Integers beyond 2^53 parse as bigint; outside plugin settings they are numbers to the schema,
// which then reports them against its bounds instead of as a wrong type.
function toSafeNumbers(value: unknown): unknown {
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) return value.map(toSafeNumbers);
  if (isTable(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toSafeNumbers(v)]));
  return value;
}
