import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import {
  CONFIG_SCHEMA_ID,
  CONFIG_SCHEMA_PATH,
  configSchema,
  defaultConfig,
  parseConfig,
  toRuntimeOptions,
} from "@tonearm/config";

const EXAMPLE = fileURLToPath(new URL("../../../tonearm.example.toml", import.meta.url));
const example = await readFile(EXAMPLE, "utf8");

interface Node {
  properties?: Record<string, Node>;
}

/** Every key of the schema as a path; PluginConfig's free-form tables count as one key. */
function schemaKeys(node: Node, path: string[] = []): string[][] {
  return Object.entries(node.properties ?? {}).flatMap(([name, child]) =>
    child.properties ? schemaKeys(child, [...path, name]) : [[...path, name]],
  );
}

// Optional settings are written commented out as `#key = value` (no space after #), prose as `# …`.
const uncommented = example.replaceAll(/^#(?=[A-Za-z[])/gm, "");

describe("tonearm.example.toml", () => {
  it("is a valid configuration that states the defaults", () => {
    const config = parseConfig(example, { source: EXAMPLE, env: {} });
    expect(config).toEqual(parseConfig("", { source: EXAMPLE, env: {} }));
  });

  it("stays valid with every optional setting switched on", () => {
    const config = parseConfig(uncommented, { source: EXAMPLE, env: {} });
    expect(config.runtime.threadsMin).toBeDefined();
    expect(config.metrics.port).toBeDefined();
    expect(Object.keys(config.pluginConfig)).toHaveLength(1);
  });

  it("documents every key of the schema with a comment", () => {
    const lines = uncommented.split("\n");
    let section = "";
    const documented = new Set<string>();
    lines.forEach((line, i) => {
      const commented = lines[i - 1]?.startsWith("# ") === true;
      const header = /^\[([A-Za-z]+)(\.[^\]]+)?\]$/.exec(line);
      if (header?.[1]) {
        section = header[1];
        if (header[2] && commented) documented.add(section);
      }
      const key = /^([A-Za-z]+) = /.exec(line);
      if (key?.[1] && commented) documented.add(section ? `${section}.${key[1]}` : key[1]);
    });
    for (const path of schemaKeys(configSchema() as Node)) {
      expect(documented, path.join(".")).toContain(path.join("."));
    }
  });
});

describe("schema/config.schema.json", () => {
  it("is the draft-07 schema the package loads, with a versioned id", async () => {
    const text = await readFile(new URL("../../../schema/config.schema.json", import.meta.url), "utf8");
    const schema = JSON.parse(text) as Record<string, unknown>;
    expect(schema.$schema).toBe("http://json-schema.org/draft-07/schema#");
    expect(schema.$id).toBe(CONFIG_SCHEMA_ID);
    expect(CONFIG_SCHEMA_ID).toMatch(/\/v1\.json$/);
    expect(configSchema()).toEqual(schema);
    expect(CONFIG_SCHEMA_PATH.endsWith("schema/config.schema.json")).toBe(true);
  });

  it("compiles in a plain validator that only knows the uri format", () => {
    const ajv = new Ajv({ strict: false, validateFormats: false });
    expect(() => ajv.compile(structuredClone(configSchema()))).not.toThrow();
  });
});

describe("toRuntimeOptions", () => {
  it("maps each [runtime] setting onto the runtime's option", () => {
    const config = parseConfig(
      "[runtime]\nthreadsMin = 2\nthreadsMax = 6\nmaxThreadsPerPlugin = 2\nthreadIdleTtlMs = 1000\nmaxIdleInstances = 0\nmaxConcurrentCalls = 3\n" +
        "acquireTimeoutMs = 250\nmaxQueuedCalls = 7\ninstanceIdleTtlMs = 2000\ncallTimeoutMs = 5000\nmemoryLimitMiB = 64\nmaxResultBytes = 4096",
      { env: {} },
    );
    expect(toRuntimeOptions(config.runtime)).toEqual({
      threads: { min: 2, max: 6, maxPerPlugin: 2, idleTtlMs: 1000 },
      pool: { maxIdle: 0, maxConcurrent: 3, acquireTimeoutMs: 250, maxQueued: 7, idleTtlMs: 2000 },
      callTimeoutMs: 5000,
      memoryLimitBytes: 64 * 1024 * 1024,
      maxResultSize: 4096,
    });
  });

  it("leaves unset settings out, so the runtime's defaults apply", () => {
    expect(toRuntimeOptions(defaultConfig().runtime)).toEqual({});
    expect(toRuntimeOptions({ callTimeoutMs: 100 })).toEqual({ callTimeoutMs: 100 });
    expect(toRuntimeOptions({ maxConcurrentCalls: 1 })).toEqual({ pool: { maxConcurrent: 1 } });
  });
});
