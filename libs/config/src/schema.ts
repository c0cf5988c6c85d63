import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";

/**
 * The one copy of the schema is the repository's `schema/config.schema.json`; this module reads it
 * from there (three levels above `dist/`) rather than keeping a second copy in the package.
 */
export const CONFIG_SCHEMA_PATH = fileURLToPath(new URL("../../../schema/config.schema.json", import.meta.url));

/** `$id` of the schema version this package validates against. */
export const CONFIG_SCHEMA_ID = "https://tonearm.dev/schema/config/v1.json";

/** The part of a JSON Schema node this package reads to match keys and convert environment values. */
export interface SchemaNode {
  readonly type?: string | readonly string[];
  readonly enum?: readonly unknown[];
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly items?: SchemaNode;
  readonly default?: unknown;
  /** What a `pattern` or `format` failure means, in words; replaces Ajv's text in errors. */
  readonly "x-hint"?: string;
}

let schema: SchemaNode | undefined;
let validator: ValidateFunction | undefined;

/** The configuration JSON Schema (draft-07), as a frozen object. */
export function configSchema(): SchemaNode {
  if (!schema) {
    const parsed = JSON.parse(readFileSync(CONFIG_SCHEMA_PATH, "utf8")) as Record<string, unknown>;
    if (parsed.$id !== CONFIG_SCHEMA_ID) {
      throw new Error(`${CONFIG_SCHEMA_PATH} has $id ${String(parsed.$id)}, expected ${CONFIG_SCHEMA_ID}`);
    }
    schema = deepFreeze(parsed);
  }
  return schema;
}

/**
 * The compiled validator. It fills in the schema's defaults (so the schema is the one place they
 * are written) and reports every violation, with the failing schema node and value attached.
 */
export function configValidator(): ValidateFunction {
  if (!validator) {
    const ajv = new Ajv({ allErrors: true, strict: true, useDefaults: true, verbose: true, allowUnionTypes: true });
    // ajv-formats is CommonJS: under NodeNext its types see the module object, whose `default` is
    // the plugin (at run time the plugin function carries itself as `default`).
    addFormatsModule.default(ajv, ["uri"]);
    ajv.addKeyword({ keyword: "x-hint", schemaType: "string" });
    validator = ajv.compile(structuredClone(configSchema()));
  }
  return validator;
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
