/**
 * From TOML text and environment to a validated, frozen `TonearmConfig`:
 * parse → match keys to the schema's spelling → apply environment overrides → validate (filling in
 * the schema's defaults) → build the typed result. Every problem found on the way is collected, so
 * one error lists all of them.
 */
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { TomlError, parse } from "smol-toml";
import { readEnvironment, type EnvOverride } from "./env.js";
import { ConfigError, ENVIRONMENT_SOURCE } from "./errors.js";
import { canonicalizeKeys, isTable, type Table } from "./keys.js";
import { pluginSettingText } from "./plugin-values.js";
import { configSchema, configValidator, deepFreeze } from "./schema.js";
import type { LogFormat, Mode, NatsSettings, RedisSettings, RuntimeSettings, ScrobbleSettings, TonearmConfig } from "./types.js";
import { describeViolations, type Violation } from "./violations.js";

/** Read from the working folder when no file is named (by option or TONEARM_CONFIG). */
export const DEFAULT_CONFIG_FILE = "tonearm.toml";

/** Names the config file when `loadConfig` is given none. */
export const CONFIG_FILE_VARIABLE = "TONEARM_CONFIG";

export interface ParseConfigOptions {
  /** Path of the file the text came from: named in errors, and relative paths are resolved against its folder. */
  readonly source?: string;
  /** @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Folder that relative paths (and `source`) are resolved against. @default process.cwd() */
  readonly cwd?: string;
}

export interface LoadConfigOptions {
  /** The config file. @default $TONEARM_CONFIG, else ./tonearm.toml when it exists, else none */
  readonly file?: string;
  /** @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** @default process.cwd() */
  readonly cwd?: string;
}

/**
 * Reads the config file and the environment. A file named explicitly (option or TONEARM_CONFIG)
 * must exist; without one, ./tonearm.toml is used if present, else defaults and the environment.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<TonearmConfig> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const named = options.file ?? (env[CONFIG_FILE_VARIABLE] || undefined);
  const path = resolve(cwd, named ?? DEFAULT_CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && named === undefined) return parseConfig("", { env, cwd });
    if (code === "ENOENT") throw new ConfigError(`config file ${path} not found`, { source: path, cause: error });
    if (code === "EISDIR") throw new ConfigError(`config file ${path} is a folder, not a file`, { source: path });
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`, { source: path, cause: error });
  }
  return parseConfig(text, { source: path, env, cwd });
}

/** Parses TOML text and applies the environment; throws ConfigError naming every problem. */
export function parseConfig(toml: string, options: ParseConfigOptions = {}): TonearmConfig {
  const cwd = options.cwd ?? process.cwd();
  const source = options.source === undefined ? undefined : resolve(cwd, options.source);
  let document: Table;
  try {
    // A byte-order mark is not TOML, but editors on Windows write one.
    document = parse(toml.replace(/^\uFEFF/, ""), { integersAsBigInt: "asNeeded" });
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    const reason = error.message.replace(/^Invalid TOML document: /, "").split("\n")[0];
    const where = `${source ?? "config"}:${error.line}:${error.column}`;
    const message = `${where}: invalid TOML: ${reason}\n\n${error.codeblock}`;
    throw new ConfigError(message.trimEnd(), { source, problems: [`${where}: ${reason}`], cause: error });
  }
  return build(document, { source, env: options.env ?? process.env, cwd });
}

/** The configuration with nothing set: every default, no file, no environment. */
export function defaultConfig(): TonearmConfig {
  return build({}, { env: {}, cwd: process.cwd() });
}

interface BuildContext {
  readonly source?: string;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

/** The document after validation: the schema's spelling, defaults filled in. */
interface ValidDocument {
  namespace: string;
  mode: Mode;
  BaseURL: string;
  ShareURL: string;
  Agents: string;
  Plugins: { Folder: string; Enabled: boolean; AutoReload: boolean; ReloadDebounceMs: number; SecretKeys: string[] };
  PluginConfig: Record<string, Record<string, string | number | boolean>>;
  nats: NatsSettings;
  redis: RedisSettings;
  runtime: RuntimeSettings;
  http: { timeoutMs: number; maxResponseBytes: number };
  scrobbles: Omit<ScrobbleSettings, "backfillFromMs"> & { backfillFrom: string };
  cache: { maxEntries?: number; maxBytes?: number };
  artwork: { secret: string };
  subsonic: { url?: string; username?: string; password?: string };
  log: { level: string; format: LogFormat };
  metrics: { port?: number };
  security: { clusterKey: string };
}

function build(parsed: Table, context: BuildContext): TonearmConfig {
  const schema = configSchema();
  const keyProblems: string[] = [];
  const document = canonicalizeKeys(parsed, schema, keyProblems);
  const environment = readEnvironment(context.env, schema);
  for (const override of environment.overrides) setAt(document, override.path, override.value);
  if (environment.clusterRequested && document.mode === undefined) document.mode = "cluster";
  lowerCaseLogLevel(document);

  const validate = configValidator();
  const violations: Violation[] = [
    ...keyProblems.map((text) => ({ text, inFile: true })),
    ...environment.problems.map((text) => ({ text, inFile: false })),
  ];
  if (!validate(document)) violations.push(...describeViolations(validate.errors ?? [], schema, environment.overrides));
  if (violations.length === 0) violations.push(...crossChecks(document as unknown as ValidDocument, environment.overrides));
  if (violations.length > 0) throw violationError(violations, context.source);

  return deepFreeze(toConfig(document as unknown as ValidDocument, context, environment.overrides));
}

function toConfig(doc: ValidDocument, context: BuildContext, overrides: readonly EnvOverride[]): TonearmConfig {
  // A folder from the environment is relative to where the process starts; one from the file (or
  // the default) is relative to the file, so a config folder can be moved as a whole.
  const fromEnv = (path: string): boolean => overrides.some((o) => o.path.join(".") === path);
  const baseOf = (path: string): string => (fromEnv(path) || context.source === undefined ? context.cwd : dirname(context.source));
  const base = baseOf("Plugins.Folder");
  function withAbsoluteFiles<T extends object>(section: string, settings: T, fileKeys: readonly (keyof T & string)[]): T {
    for (const key of fileKeys) {
      const path = settings[key];
      if (typeof path === "string") Object.assign(settings, { [key]: resolve(baseOf(`${section}.${key}`), path) });
    }
    return settings;
  }
  return {
    namespace: doc.namespace,
    mode: doc.mode,
    plugins: {
      folder: resolve(base, doc.Plugins.Folder),
      enabled: doc.Plugins.Enabled,
      autoReload: doc.Plugins.AutoReload,
      reloadDebounceMs: doc.Plugins.ReloadDebounceMs,
      secretKeys: [...doc.Plugins.SecretKeys],
    },
    pluginConfig: Object.fromEntries(
      Object.entries(doc.PluginConfig).map(([pluginId, settings]) => [
        pluginId,
        Object.fromEntries(Object.entries(settings).map(([key, value]) => [key, pluginSettingText(value)])),
      ]),
    ),
    baseUrl: doc.BaseURL,
    shareUrl: doc.ShareURL,
    agents: doc.Agents.split(",").map((name) => name.trim()).filter((name) => name !== ""),
    artwork: { secret: doc.artwork.secret },
    subsonic: { ...doc.subsonic },
    nats: withAbsoluteFiles("nats", { ...doc.nats, servers: [...doc.nats.servers] }, NATS_FILE_KEYS),
    redis: withAbsoluteFiles("redis", { ...doc.redis }, REDIS_FILE_KEYS),
    runtime: { ...doc.runtime },
    http: { ...doc.http },
    scrobbles: scrobbleSettings(doc.scrobbles),
    cache: { ...doc.cache },
    log: { level: doc.log.level, format: doc.log.format },
    metrics: { ...doc.metrics },
    security: { clusterKey: doc.security.clusterKey.trim() },
  };
}

function scrobbleSettings({ backfillFrom, ...rest }: ValidDocument["scrobbles"]): ScrobbleSettings {
  // The schema's pattern admits only ISO 8601 date-times with a zone, which Date.parse reads.
  return backfillFrom === "" ? rest : { ...rest, backfillFromMs: Date.parse(backfillFrom) };
}

const NATS_FILE_KEYS = ["credsFile", "nkeySeedFile", "tlsCa", "tlsCert", "tlsKey"] as const;
const REDIS_FILE_KEYS = ["tlsCa", "tlsCert", "tlsKey"] as const;

/** Rules between keys, which the schema cannot state. */
function crossChecks(doc: ValidDocument, overrides: readonly EnvOverride[]): Violation[] {
  return [...threadBounds(doc, overrides), ...pairedKeys(doc, overrides)];
}

/** Keys that mean nothing alone: a password without its user, a certificate without its key. */
function pairedKeys(doc: ValidDocument, overrides: readonly EnvOverride[]): Violation[] {
  // [section, key, needs]: a Redis password alone is the default user's, so only that one goes one way.
  const needs = [
    ["nats", "user", "password"],
    ["nats", "password", "user"],
    ["nats", "tlsCert", "tlsKey"],
    ["nats", "tlsKey", "tlsCert"],
    ["redis", "username", "password"],
    ["redis", "tlsCert", "tlsKey"],
    ["redis", "tlsKey", "tlsCert"],
  ] as const;
  const violations: Violation[] = [];
  for (const [section, given, missing] of needs) {
    const values = doc[section] as unknown as Record<string, unknown>;
    if (values[given] === undefined || values[missing] !== undefined) continue;
    const override = overrides.find((o) => o.path[0] === section && o.path[1] === given);
    const origin = override ? ` (from ${override.variable})` : "";
    violations.push({ text: `${section}.${missing}: required with ${section}.${given}${origin}`, inFile: override === undefined });
  }
  return violations;
}

function threadBounds(doc: ValidDocument, overrides: readonly EnvOverride[]): Violation[] {
  const { threadsMin, threadsMax } = doc.runtime;
  if (threadsMin !== undefined && threadsMax !== undefined && threadsMax < threadsMin) {
    const fromEnv = overrides.filter((o) => o.path[0] === "runtime" && /^threadsM(in|ax)$/.test(o.path[1] ?? ""));
    const origin = fromEnv.length > 0 ? ` (from ${fromEnv.map((o) => o.variable).join(", ")})` : "";
    return [
      {
        text: `runtime.threadsMax: must not be below runtime.threadsMin (${threadsMax} < ${threadsMin})${origin}`,
        inFile: fromEnv.length < 2,
      },
    ];
  }
  return [];
}

function violationError(violations: readonly Violation[], source: string | undefined): ConfigError {
  const inFile = violations.some((v) => v.inFile);
  const inEnv = violations.some((v) => !v.inFile);
  const places = [inFile ? source : undefined, inEnv ? "the environment" : undefined].filter((p) => p !== undefined);
  const where = places.length > 0 ? ` in ${places.join(" and ")}` : "";
  const problems = violations.map((v) => v.text);
  const message = `invalid configuration${where}:\n${problems.map((p) => `  - ${p}`).join("\n")}`;
  return new ConfigError(message, { source: inFile ? source : ENVIRONMENT_SOURCE, problems });
}

function setAt(document: Table, path: readonly string[], value: unknown): void {
  let table = document;
  for (const segment of path.slice(0, -1)) {
    const next = table[segment];
    if (next === undefined) {
      const created: Table = {};
      table[segment] = created;
      table = created;
    } else if (isTable(next)) {
      table = next;
    } else {
      // The file has a value where a table belongs; validation reports it.
      return;
    }
  }
  const key = path.at(-1);
  if (key !== undefined) table[key] = value;
}

// Levels are matched ignoring case, like every key (Navidrome accepts LogLevel = "DEBUG").
function lowerCaseLogLevel(document: Table): void {
  const log = document.log;
  if (isTable(log) && typeof log.level === "string") log.level = log.level.toLowerCase();
}
