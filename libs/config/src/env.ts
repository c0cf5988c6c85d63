/**
 * Environment overrides. Every key of the schema (outside PluginConfig) can be set by
 * `TONEARM_<SECTION>_<KEY>`, or `TONEARM_<KEY>` at the top level: `TONEARM_NATS_SERVERS`,
 * `TONEARM_RUNTIME_THREADSMIN`, `TONEARM_BASEURL`. Matching ignores case and underscores inside the
 * name, so `TONEARM_RUNTIME_THREADS_MIN` works too. An environment value wins over the file.
 *
 * Values are converted by the key's schema type: integers from decimal text, booleans as Go's
 * strconv.ParseBool reads them (viper's rule), lists as comma-separated text. Text that does not
 * convert is passed on unchanged so the schema reports it, naming the variable.
 *
 * `NATS_URL` and `REDIS_URL` (the design's switch to cluster mode) set `nats.servers` and `redis.url`
 * when their TONEARM_ variables are absent, and make `cluster` the default mode.
 */
import { PLUGIN_CONFIG_KEY, formatPath } from "./keys.js";
import type { SchemaNode } from "./schema.js";
import { closest } from "./suggest.js";

export const ENV_PREFIX = "TONEARM_";

export interface EnvOverride {
  /** Schema key path, e.g. ["runtime", "threadsMin"]. */
  readonly path: readonly string[];
  readonly value: unknown;
  /** The variable the value came from. */
  readonly variable: string;
}

export interface EnvLayer {
  readonly overrides: readonly EnvOverride[];
  /** Variables that look meant for Tonearm but name no key, or that contradict each other. */
  readonly problems: readonly string[];
  /** NATS_URL or REDIS_URL is set: the process is meant to run as part of a cluster. */
  readonly clusterRequested: boolean;
}

interface Leaf {
  readonly path: readonly string[];
  readonly schema: SchemaNode;
  /** The variable documented for the key, e.g. TONEARM_RUNTIME_THREADSMIN. */
  readonly variable: string;
}

const TRUE_WORDS = new Set(["1", "t", "true"]);
const FALSE_WORDS = new Set(["0", "f", "false"]);

export function readEnvironment(env: NodeJS.ProcessEnv, schema: SchemaNode): EnvLayer {
  const leaves = leafTable(schema);
  const sections = new Set(
    Object.entries(schema.properties ?? {})
      .filter(([, node]) => node.properties !== undefined)
      .map(([name]) => name.toLowerCase()),
  );
  const overrides = new Map<string, EnvOverride>();
  const problems: string[] = [];

  for (const [variable, raw] of Object.entries(env)) {
    if (raw === undefined || raw === "" || variable.slice(0, ENV_PREFIX.length).toUpperCase() !== ENV_PREFIX) continue;
    const rest = variable.slice(ENV_PREFIX.length);
    const leaf = leaves.get(squash(rest));
    if (!leaf) {
      const firstWord = (rest.split("_")[0] ?? "").toLowerCase();
      if (firstWord === PLUGIN_CONFIG_KEY.toLowerCase()) {
        problems.push(`${variable}: plugin settings cannot come from the environment; use [PluginConfig.<pluginId>] in the config file`);
      } else if (sections.has(firstWord)) {
        const guess = closest(squash(rest), leaves.keys());
        const hint = guess === undefined ? "" : ` (did you mean ${leaves.get(guess)?.variable}?)`;
        problems.push(`${variable}: unknown environment variable${hint}`);
      }
      // Other TONEARM_ variables (TONEARM_CONFIG, …) belong to the programs that read them.
      continue;
    }
    const key = leaf.path.join(".");
    const earlier = overrides.get(key);
    if (earlier) {
      problems.push(`${formatPath(leaf.path)}: set by both ${earlier.variable} and ${variable}`);
      continue;
    }
    overrides.set(key, { path: leaf.path, value: convert(raw, leaf.schema), variable });
  }

  const clusterUrls: [string, readonly string[], (raw: string) => unknown][] = [
    ["NATS_URL", ["nats", "servers"], splitList],
    ["REDIS_URL", ["redis", "url"], (raw) => raw.trim()],
  ];
  let clusterRequested = false;
  for (const [variable, path, parse] of clusterUrls) {
    const raw = env[variable];
    if (raw === undefined || raw.trim() === "") continue;
    clusterRequested = true;
    if (!overrides.has(path.join("."))) overrides.set(path.join("."), { path, value: parse(raw), variable });
  }

  return { overrides: [...overrides.values()], problems, clusterRequested };
}

/** Every key the environment may set, by its squashed name (lower case, no separators). */
function leafTable(schema: SchemaNode): Map<string, Leaf> {
  const table = new Map<string, Leaf>();
  const visit = (node: SchemaNode, path: readonly string[]): void => {
    for (const [name, child] of Object.entries(node.properties ?? {})) {
      if (path.length === 0 && name === PLUGIN_CONFIG_KEY) continue;
      const childPath = [...path, name];
      if (child.properties) {
        visit(child, childPath);
        continue;
      }
      const squashed = squash(childPath.join(""));
      if (table.has(squashed)) throw new Error(`config schema keys ${childPath.join(".")} and another share one environment name`);
      table.set(squashed, { path: childPath, schema: child, variable: ENV_PREFIX + childPath.map((p) => p.toUpperCase()).join("_") });
    }
  };
  visit(schema, []);
  return table;
}

function squash(name: string): string {
  return name.replaceAll("_", "").toLowerCase();
}

function convert(raw: string, schema: SchemaNode): unknown {
  const types = typeof schema.type === "string" ? [schema.type] : (schema.type ?? []);
  if (types.includes("integer")) return /^[+-]?\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
  if (types.includes("boolean")) {
    const word = raw.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
    return raw;
  }
  if (types.includes("array")) return splitList(raw);
  return raw;
}

function splitList(raw: string): string[] {
  return raw
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}
