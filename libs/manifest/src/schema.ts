import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Ajv, type ValidateFunction } from "ajv";

/**
 * The one copy of the schema is the repository's `schema/manifest.schema.json`; this module reads
 * it from there (three levels above `dist/`) rather than keeping a second copy in the package.
 */
export const MANIFEST_SCHEMA_PATH = fileURLToPath(new URL("../../../schema/manifest.schema.json", import.meta.url));

/** `$id` of the schema version this package validates against. */
export const MANIFEST_SCHEMA_ID = "https://tonearm.dev/schema/manifest/v1.json";

let schema: Readonly<Record<string, unknown>> | undefined;
let validator: ValidateFunction | undefined;

/** The manifest JSON Schema (draft-07), as an object. */
export function manifestSchema(): Readonly<Record<string, unknown>> {
  if (!schema) {
    const parsed = JSON.parse(readFileSync(MANIFEST_SCHEMA_PATH, "utf8")) as Record<string, unknown>;
    if (parsed.$id !== MANIFEST_SCHEMA_ID) {
      throw new Error(`${MANIFEST_SCHEMA_PATH} has $id ${String(parsed.$id)}, expected ${MANIFEST_SCHEMA_ID}`);
    }
    schema = deepFreeze(parsed);
  }
  return schema;
}

/** The compiled validator; it reports every violation so the loader can pick the one Navidrome would. */
export function manifestValidator(): ValidateFunction {
  validator ??= new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(
    structuredClone(manifestSchema()),
  );
  return validator;
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
