/**
 * Go-formatted pieces of Navidrome's loader errors: `%#v` of strings and string slices, and the
 * `encoding/json` type-mismatch sentence.
 */
import { goQuote } from "@tonearm/abi";

export { goQuote };

/** The message of the generated enum check: `invalid value (expected one of []interface {}{…}): "X"`. */
export function invalidValue(allowed: readonly string[], value: string): string {
  return `invalid value (expected one of []interface {}{${allowed.map(goQuote).join(", ")}}): ${goQuote(value)}`;
}

/** How `encoding/json` names the JSON kind it could not store. */
export type JsonKind = "string" | "number" | "bool" | "array" | "object" | "null";

export function jsonKind(value: unknown): JsonKind {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  switch (typeof value) {
    case "string":
      return "string";
    case "number":
      return "number";
    case "boolean":
      return "bool";
    default:
      return "object";
  }
}

/** `encoding/json`'s UnmarshalTypeError text, with or without a struct field path. */
export function cannotUnmarshal(kind: JsonKind, goType: string, field?: { struct: string; path: string }): string {
  return field
    ? `json: cannot unmarshal ${kind} into Go struct field ${field.struct}.${field.path} of type ${goType}`
    : `json: cannot unmarshal ${kind} into Go value of type ${goType}`;
}
