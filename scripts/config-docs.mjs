#!/usr/bin/env node
// Writes docs/configuration.md from schema/config.schema.json, the one place keys, defaults and
// descriptions are written: `npm run docs:config` after changing the schema. With `--check` it only
// says whether the page is current (exit 1 when not). A test compares the page with the schema too.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
export const SCHEMA_PATH = `${root}schema/config.schema.json`;
export const CONFIG_DOCS_PATH = `${root}docs/configuration.md`;
export const REGENERATE_COMMAND = "npm run docs:config";

const ENV_PREFIX = "TONEARM_";
/** Section whose keys are free-form per plugin, never set from the environment. */
const PLUGIN_CONFIG = "PluginConfig";
/** Variables that also set a key (libs/config/src/env.ts: the switch to cluster mode). */
const ALSO_SET_BY = { "nats.servers": "NATS_URL", "redis.url": "REDIS_URL" };

/** The environment variable of a key, as libs/config reads it: TONEARM_<SECTION>_<KEY>. */
export function environmentVariable(path) {
  return ENV_PREFIX + path.map((part) => part.toUpperCase()).join("_");
}

/** Every settable key: `{ path, node }` in schema order, sections' keys after the top level's. */
export function configLeaves(schema) {
  const leaves = [];
  const visit = (node, path) => {
    for (const [name, child] of Object.entries(node.properties ?? {})) {
      if (path.length === 0 && name === PLUGIN_CONFIG) continue;
      if (child.properties) visit(child, [...path, name]);
      else leaves.push({ path: [...path, name], node: child });
    }
  };
  visit(schema, []);
  return leaves;
}

export function renderConfigDocs(schema) {
  const sections = new Map([["", []]]);
  for (const leaf of configLeaves(schema)) {
    const section = leaf.path.slice(0, -1).join(".");
    if (!sections.has(section)) sections.set(section, []);
    sections.get(section).push(leaf);
  }
  const lines = [
    "# Configuration",
    "",
    `<!-- Generated from schema/config.schema.json by \`${REGENERATE_COMMAND}\`. Edit the schema, not this page. -->`,
    "",
    "Tonearm reads one TOML file: the one given by `--config`, else the one named by `TONEARM_CONFIG`, else",
    "`tonearm.toml` in the working folder when there is one (else only defaults and the environment apply).",
    "`tonearm.example.toml` shows a complete file. Keys are matched ignoring case, as Navidrome does, so",
    "Navidrome's own keys (`BaseURL`, `Plugins.Folder`, `[PluginConfig.<id>]`, …) can be copied unchanged.",
    "Unknown keys are errors, with a suggestion when a known key is close.",
    "",
    "Every key can also be set by its environment variable, which wins over the file. Integers are written",
    "in decimal, booleans as `1`/`t`/`true` or `0`/`f`/`false` (any case), lists as comma-separated text",
    "(`TONEARM_NATS_SERVERS=nats://a:4222,nats://b:4222`). Underscores inside a variable's name are optional",
    "(`TONEARM_RUNTIME_THREADS_MIN` works as well as `TONEARM_RUNTIME_THREADSMIN`). `NATS_URL` and",
    "`REDIS_URL` set the servers too, and make `cluster` the default mode.",
    "",
    "A key without a default is unset unless given; its description says what Tonearm does then.",
    "",
  ];
  for (const [section, leaves] of sections) {
    const node = section === "" ? schema : nodeAt(schema, section.split("."));
    lines.push(section === "" ? "## Top level" : `## \`[${section}]\``, "");
    if (section !== "" && node.description) lines.push(cell(oneLine(node.description)), "");
    lines.push("| Key | Type | Default | Environment | Description |", "|---|---|---|---|---|");
    for (const { path, node: leaf } of leaves) {
      const variables = [environmentVariable(path), ALSO_SET_BY[path.join(".")]].filter(Boolean).map((v) => `\`${v}\``);
      lines.push(
        `| \`${path.at(-1)}\` | ${cell(typeText(leaf))} | ${cell(defaultText(leaf))} | ${variables.join("<br>")} | ${cell(oneLine(leaf.description ?? ""))} |`,
      );
    }
    lines.push("");
  }
  const pluginConfig = schema.properties?.[PLUGIN_CONFIG];
  if (pluginConfig) {
    lines.push(
      "## `[PluginConfig.<pluginId>]`",
      "",
      cell(oneLine(pluginConfig.description ?? "")),
      "These tables come only from the file: plugin settings cannot be set from the environment.",
      "",
      "```toml",
      "[PluginConfig.my_plugin]",
      'apiKey = "…"',
      "region = \"eu\"",
      "```",
      "",
    );
  }
  return `${lines.join("\n").trimEnd()}\n`;
}

function nodeAt(schema, path) {
  return path.reduce((node, name) => node.properties[name], schema);
}

function typeText(node) {
  if (node.enum) return `one of ${node.enum.map((v) => `\`${v}\``).join(", ")}`;
  let text = Array.isArray(node.type) ? node.type.join(" or ") : (node.type ?? "any");
  if (node.type === "array") text = `list of ${node.items?.type ?? "values"}s`;
  const bounds = [];
  if (node.minimum !== undefined && node.maximum !== undefined) bounds.push(`${node.minimum}–${node.maximum}`);
  else if (node.minimum !== undefined) bounds.push(`≥ ${node.minimum}`);
  else if (node.maximum !== undefined) bounds.push(`≤ ${node.maximum}`);
  if (node.minItems) bounds.push(`at least ${node.minItems}`);
  if (node.minLength) bounds.push("not empty");
  if (node["x-hint"]) bounds.push(node["x-hint"]);
  return bounds.length > 0 ? `${text}: ${bounds.join("; ")}` : text;
}

function defaultText(node) {
  if (!("default" in node)) return "—";
  const value = node.default;
  if (value === "") return '`""` (empty)';
  if (Array.isArray(value)) return value.length === 0 ? "`[]`" : `\`[${value.map((v) => JSON.stringify(v)).join(", ")}]\``;
  return `\`${JSON.stringify(value)}\``;
}

function oneLine(text) {
  return text.replace(/\s+/g, " ").trim();
}

/** Table-safe text: pipes escaped, and `<…>` placeholders kept visible outside code spans. */
function cell(text) {
  return text
    .split("`")
    .map((part, i) => (i % 2 === 1 ? part : part.replaceAll("<", "&lt;").replaceAll(">", "&gt;")))
    .join("`")
    .replaceAll("|", "\\|");
}

function main() {
  const schema = JSON.parse(readFileSync(SCHEMA_PATH, "utf8"));
  const page = renderConfigDocs(schema);
  if (process.argv.includes("--check")) {
    let current = "";
    try {
      current = readFileSync(CONFIG_DOCS_PATH, "utf8");
    } catch {
      // A missing page is out of date.
    }
    if (current !== page) {
      process.stderr.write(`docs/configuration.md does not match schema/config.schema.json; run \`${REGENERATE_COMMAND}\`\n`);
      process.exit(1);
    }
    return;
  }
  writeFileSync(CONFIG_DOCS_PATH, page);
  process.stdout.write(`wrote docs/configuration.md (${configLeaves(schema).length} keys)\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
