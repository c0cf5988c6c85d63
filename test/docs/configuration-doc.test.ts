// docs/configuration.md is generated from schema/config.schema.json: it must not drift from it, and
// every environment variable it names must be one the configuration loader reads.
import { readFile } from "node:fs/promises";
import { ConfigError, parseConfig } from "@tonearm/config";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain ES module script, without type declarations
import * as generator from "../../scripts/config-docs.mjs";

interface Leaf {
  readonly path: string[];
  readonly node: Record<string, unknown>;
}

const { CONFIG_DOCS_PATH, REGENERATE_COMMAND, SCHEMA_PATH, configLeaves, environmentVariable, renderConfigDocs } = generator as {
  CONFIG_DOCS_PATH: string;
  REGENERATE_COMMAND: string;
  SCHEMA_PATH: string;
  configLeaves: (schema: unknown) => Leaf[];
  environmentVariable: (path: string[]) => string;
  renderConfigDocs: (schema: unknown) => string;
};

const schema = JSON.parse(await readFile(SCHEMA_PATH, "utf8")) as Record<string, unknown>;
const page = await readFile(CONFIG_DOCS_PATH, "utf8");

describe("docs/configuration.md", () => {
  it("is what the schema generates", () => {
    expect(page, `docs/configuration.md is out of date with schema/config.schema.json: run \`${REGENERATE_COMMAND}\` and commit the page`).toBe(
      renderConfigDocs(schema),
    );
  });

  it("lists every key of the schema with its default and environment variable", () => {
    const leaves = configLeaves(schema);
    expect(leaves.length).toBeGreaterThan(20);
    for (const { path, node } of leaves) {
      const row = page.split("\n").find((line) => line.startsWith(`| \`${path.at(-1)}\` |`) && line.includes(`\`${environmentVariable(path)}\``));
      expect(row, `no row for ${path.join(".")}`).toBeDefined();
      if ("default" in node && node.default !== "" && !Array.isArray(node.default)) expect(row).toContain(`\`${JSON.stringify(node.default)}\``);
    }
    expect(page).toContain("## `[PluginConfig.<pluginId>]`");
  });

  it("names only environment variables the loader reads, into the key documented", () => {
    const variables = [...page.matchAll(/`(TONEARM_[A-Z0-9_]+)`/g)].map((m) => m[1] as string);
    expect(variables).toContain("TONEARM_RUNTIME_THREADSMIN");
    for (const variable of new Set(variables)) {
      let message = "";
      try {
        parseConfig("", { env: { [variable]: "not-a-valid-value-for-most-keys" } });
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        message = err.message;
      }
      expect(message, `${variable} is documented but not read`).not.toMatch(/unknown environment variable/);
    }
    // The loader does say so for a name it does not know, so the check above can fail.
    expect(() => parseConfig("", { env: { TONEARM_RUNTIME_THREADSMINIMUM: "1" } })).toThrow(/unknown environment variable/);
  });

  it("sets the documented key from its variable", () => {
    const config = parseConfig("", { env: { [environmentVariable(["runtime", "threadsMin"])]: "3", [environmentVariable(["Plugins", "ReloadDebounceMs"])]: "42" } });
    expect(config.runtime.threadsMin).toBe(3);
    expect(config.plugins.reloadDebounceMs).toBe(42);
  });
});
