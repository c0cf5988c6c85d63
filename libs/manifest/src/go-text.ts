/**
 * Go-formatted pieces of Navidrome's loader errors: `%#v` of strings and string slices, and the
 * `encoding/json` type-mismatch sentence.
 */

// strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. Go 1.24's
// tables are Unicode 15.0; letters assigned later print as \U escapes there but unescaped here.
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;
const NAMED_ESCAPES: Readonly<Record<string, string>> = {
  "\x07": "\\a",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\v": "\\v",
};

const hex = (n: number, width: number): string => n.toString(16).padStart(width, "0");

/** Go's `%#v` of a string (strconv.Quote). */
export function goQuote(text: string): string {
  let out = '"';
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    // Go's JSON decoder turns a lone surrogate escape into U+FFFD before the value is printed.
    else if (cp >= 0xd800 && cp <= 0xdfff) out += "\ufffd";
    else if (PRINTABLE.test(ch)) out += ch;
    else if (NAMED_ESCAPES[ch] !== undefined) out += NAMED_ESCAPES[ch];
    else if (cp < 0x80) out += `\\x${hex(cp, 2)}`;
    else if (cp < 0x10000) out += `\\u${hex(cp, 4)}`;
    else out += `\\U${hex(cp, 8)}`;
  }
  return `${out}"`;
}

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
