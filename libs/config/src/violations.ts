/**
 * Turns the validator's findings into lines an operator can act on: the key path as they would
 * write it, what is wrong in words, the value found, and the environment variable when the value
 * came from one.
 */
import type { ErrorObject } from "ajv";
import type { EnvOverride } from "./env.js";
import { formatPath, isTable } from "./keys.js";
import { looksSecret } from "./secrets/secret-names.js";
import type { SchemaNode } from "./schema.js";
import { closest } from "./suggest.js";

export interface Violation {
  readonly text: string;
  /** False when the value at fault came from an environment variable. */
  readonly inFile: boolean;
}

const TYPE_WORDS: Record<string, string> = {
  string: "a string",
  integer: "an integer",
  number: "a number",
  boolean: "a boolean",
  object: "a table",
  array: "a list",
};

export function describeViolations(
  errors: readonly ErrorObject[],
  schema: SchemaNode,
  overrides: readonly EnvOverride[],
): Violation[] {
  const seen = new Set<string>();
  const violations: Violation[] = [];
  for (const error of errors) {
    // A propertyNames failure is reported once, by its own keyword, not also by the inner rule.
    if (error.propertyName !== undefined) continue;
    const path = decodePointer(error.instancePath);
    const described = describe(error, path, schema);
    const variable = overrides.find((o) => startsWith(path, o.path))?.variable;
    const text = `${formatPath(described.path)}: ${described.message}${suffix(described.got, variable)}`;
    if (seen.has(text)) continue;
    seen.add(text);
    violations.push({ text, inFile: variable === undefined });
  }
  return violations;
}

interface Described {
  readonly path: readonly string[];
  readonly message: string;
  readonly got?: string;
}

function describe(error: ErrorObject, path: readonly string[], schema: SchemaNode): Described {
  const params = error.params as Record<string, unknown>;
  const hint = (error.parentSchema as SchemaNode | undefined)?.["x-hint"];
  const got = describeValue(error.data, path);
  switch (error.keyword) {
    case "additionalProperties": {
      const key = String(params.additionalProperty);
      const known = Object.keys(schemaAt(schema, path)?.properties ?? {});
      const guess = closest(key, known);
      return { path: [...path, key], message: `unknown key${guess === undefined ? "" : ` (did you mean ${guess}?)`}` };
    }
    case "type": {
      const types = String(params.type).split(",");
      const words = types.length === 1 && types[0] === "boolean" ? ["true or false"] : types.map((t) => TYPE_WORDS[t] ?? t);
      return { path, message: `must be ${joinAlternatives(words)}`, got };
    }
    case "enum":
      return {
        path,
        message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`,
        got,
      };
    case "pattern":
    case "format":
      return { path, message: hint ?? error.message ?? error.keyword, got };
    case "minLength":
      return { path, message: params.limit === 1 ? "must not be empty" : (error.message ?? error.keyword) };
    case "minItems":
      return { path, message: params.limit === 1 ? "must list at least one entry" : (error.message ?? error.keyword) };
    case "propertyNames":
      return { path, message: `has an empty key ""` };
    default:
      return { path, message: error.message ?? error.keyword, got };
  }
}

function suffix(got: string | undefined, variable: string | undefined): string {
  const parts = [got === undefined ? undefined : `got ${got}`, variable === undefined ? undefined : `from ${variable}`];
  const present = parts.filter((p) => p !== undefined);
  return present.length === 0 ? "" : ` (${present.join(", ")})`;
}

function joinAlternatives(words: readonly string[]): string {
  if (words.length <= 1) return words[0] ?? "";
  return `${words.slice(0, -1).join(", ")} or ${words.at(-1)}`;
}

// Secrets are never echoed back into logs; only their kind is.
function describeValue(value: unknown, path: readonly string[]): string | undefined {
  const secret = looksSecret(path.at(-1) ?? "");
  if (Array.isArray(value)) return "a list";
  if (value instanceof Date) return "a date";
  if (isTable(value)) return "a table";
  if (typeof value === "string") return secret ? "a string" : JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return secret ? `a ${typeof value}` : String(value);
  return undefined;
}

function decodePointer(pointer: string): string[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((segment) => segment.replaceAll("~1", "/").replaceAll("~0", "~"));
}

function startsWith(path: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= path.length && prefix.every((segment, i) => path[i] === segment);
}

function schemaAt(schema: SchemaNode, path: readonly string[]): SchemaNode | undefined {
  let node: SchemaNode | undefined = schema;
  for (const segment of path) node = node?.properties?.[segment];
  return node;
}
