// JSON for plugins: AssemblyScript has none built in, and the web APIs plugins call speak it.
//
// Reading: `parseJson(text)` builds a tree of JsonValue, or returns null for malformed text. A
// missing field, an index past the end or a value of another kind reads as JSON null, so paths
// chain without checks: `root.field("artists").at(0).field("id").text()`.
// Writing: `JsonObjectWriter` and `jsonArray` assemble already-encoded values; `jsonString` and
// `jsonNumber` encode one value; `stringify` encodes a whole JsonValue tree.

export namespace JsonKind {
  export const Null: u8 = 0;
  export const Bool: u8 = 1;
  export const Number: u8 = 2;
  export const String: u8 = 3;
  export const Array: u8 = 4;
  export const Object: u8 = 5;
}

/** Nesting deeper than this is refused, so hostile input cannot exhaust the stack. */
const MAX_DEPTH: i32 = 64;

export class JsonValue {
  private flag: bool = false;
  private num: f64 = 0;
  private str: string = "";
  private items: Array<JsonValue> = [];
  private fields: Map<string, JsonValue> = new Map<string, JsonValue>();

  constructor(public readonly kind: u8) {}

  static ofBool(value: bool): JsonValue {
    const v = new JsonValue(JsonKind.Bool);
    v.flag = value;
    return v;
  }

  static ofNumber(value: f64): JsonValue {
    const v = new JsonValue(JsonKind.Number);
    v.num = value;
    return v;
  }

  static ofString(value: string): JsonValue {
    const v = new JsonValue(JsonKind.String);
    v.str = value;
    return v;
  }

  get isNull(): bool {
    return this.kind == JsonKind.Null;
  }

  /** An object's field; null for a missing field or when this is not an object. */
  field(name: string): JsonValue {
    if (this.kind != JsonKind.Object || !this.fields.has(name)) return JSON_NULL;
    return this.fields.get(name);
  }

  /** An array's item; null past the end or when this is not an array. */
  at(index: i32): JsonValue {
    if (this.kind != JsonKind.Array || index < 0 || index >= this.items.length) return JSON_NULL;
    return this.items[index];
  }

  /** Items of an array, fields of an object, 0 otherwise. */
  get length(): i32 {
    if (this.kind == JsonKind.Array) return this.items.length;
    if (this.kind == JsonKind.Object) return this.fields.size;
    return 0;
  }

  /** Field names of an object, in no particular order. */
  keys(): Array<string> {
    return this.kind == JsonKind.Object ? this.fields.keys() : [];
  }

  text(fallback: string = ""): string {
    return this.kind == JsonKind.String ? this.str : fallback;
  }

  number(fallback: f64 = 0): f64 {
    return this.kind == JsonKind.Number ? this.num : fallback;
  }

  boolean(fallback: bool = false): bool {
    return this.kind == JsonKind.Bool ? this.flag : fallback;
  }

  addItem(item: JsonValue): void {
    this.items.push(item);
  }

  setField(name: string, value: JsonValue): void {
    this.fields.set(name, value);
  }
}

/** JSON null: what lookups of missing fields and items answer. */
export const JSON_NULL = new JsonValue(JsonKind.Null);

/** The value of a JSON text, or null when the text is not JSON. */
export function parseJson(text: string): JsonValue | null {
  const parser = new Parser(text);
  const value = parser.value(0);
  parser.skipSpace();
  if (parser.failed || parser.pos != text.length) return null;
  return value;
}

/** `value` as a JSON string literal. */
export function jsonString(value: string): string {
  const parts = new Array<string>();
  parts.push('"');
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0x20 && c != 0x22 && c != 0x5c) continue;
    if (i > start) parts.push(value.substring(start, i));
    parts.push(escapeOf(c));
    start = i + 1;
  }
  if (start < value.length) parts.push(value.substring(start));
  parts.push('"');
  return parts.join("");
}

/** `value` as a JSON number; NaN and the infinities, which JSON cannot express, become null. */
export function jsonNumber(value: f64): string {
  if (!isFinite(value)) return "null";
  // Whole numbers without the ".0" AssemblyScript's f64 formatting adds.
  if (value == Math.trunc(value) && Math.abs(value) < 9007199254740992) return (<i64>value).toString();
  return value.toString();
}

/** A JsonValue tree as JSON text (object fields in no particular order). */
export function stringify(value: JsonValue): string {
  if (value.kind == JsonKind.Bool) return value.boolean() ? "true" : "false";
  if (value.kind == JsonKind.Number) return jsonNumber(value.number());
  if (value.kind == JsonKind.String) return jsonString(value.text());
  if (value.kind == JsonKind.Array) {
    const items = new Array<string>();
    for (let i = 0; i < value.length; i++) items.push(stringify(value.at(i)));
    return jsonArray(items);
  }
  if (value.kind == JsonKind.Object) {
    const writer = new JsonObjectWriter();
    const keys = value.keys();
    for (let i = 0; i < keys.length; i++) writer.raw(keys[i], stringify(value.field(keys[i])));
    return writer.toString();
  }
  return "null";
}

/** A JSON array of already-encoded values. */
export function jsonArray(encodedItems: Array<string>): string {
  return "[" + encodedItems.join(",") + "]";
}

/** Builds a JSON object field by field, in the order written. */
export class JsonObjectWriter {
  private members: Array<string> = [];

  string(name: string, value: string): JsonObjectWriter {
    return this.raw(name, jsonString(value));
  }

  integer(name: string, value: i64): JsonObjectWriter {
    return this.raw(name, value.toString());
  }

  number(name: string, value: f64): JsonObjectWriter {
    return this.raw(name, jsonNumber(value));
  }

  boolean(name: string, value: bool): JsonObjectWriter {
    return this.raw(name, value ? "true" : "false");
  }

  /** A field whose value is already JSON (an object, an array). */
  raw(name: string, encodedValue: string): JsonObjectWriter {
    this.members.push(jsonString(name) + ":" + encodedValue);
    return this;
  }

  toString(): string {
    return "{" + this.members.join(",") + "}";
  }
}

function escapeOf(c: i32): string {
  if (c == 0x22) return '\\"';
  if (c == 0x5c) return "\\\\";
  if (c == 0x0a) return "\\n";
  if (c == 0x0d) return "\\r";
  if (c == 0x09) return "\\t";
  if (c == 0x08) return "\\b";
  if (c == 0x0c) return "\\f";
  return "\\u00" + (c < 0x10 ? "0" : "") + c.toString(16);
}

class Parser {
  pos: i32 = 0;
  failed: bool = false;

  constructor(private readonly src: string) {}

  value(depth: i32): JsonValue {
    this.skipSpace();
    if (depth > MAX_DEPTH || this.pos >= this.src.length) return this.fail();
    const c = this.src.charCodeAt(this.pos);
    if (c == 0x7b) return this.object(depth);
    if (c == 0x5b) return this.array(depth);
    if (c == 0x22) {
      const s = this.string();
      return this.failed ? JSON_NULL : JsonValue.ofString(s);
    }
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (this.literal("true")) return JsonValue.ofBool(true);
    if (this.literal("false")) return JsonValue.ofBool(false);
    if (this.literal("null")) return JSON_NULL;
    return this.fail();
  }

  skipSpace(): void {
    while (this.pos < this.src.length) {
      const c = this.src.charCodeAt(this.pos);
      if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) break;
      this.pos++;
    }
  }

  private object(depth: i32): JsonValue {
    const obj = new JsonValue(JsonKind.Object);
    this.pos++; // {
    this.skipSpace();
    if (this.eat(0x7d)) return obj;
    do {
      this.skipSpace();
      if (this.pos >= this.src.length || this.src.charCodeAt(this.pos) != 0x22) return this.fail();
      const name = this.string();
      this.skipSpace();
      if (this.failed || !this.eat(0x3a)) return this.fail();
      const member = this.value(depth + 1);
      if (this.failed) return JSON_NULL;
      obj.setField(name, member);
      this.skipSpace();
    } while (this.eat(0x2c));
    return this.eat(0x7d) ? obj : this.fail();
  }

  private array(depth: i32): JsonValue {
    const arr = new JsonValue(JsonKind.Array);
    this.pos++; // [
    this.skipSpace();
    if (this.eat(0x5d)) return arr;
    do {
      const item = this.value(depth + 1);
      if (this.failed) return JSON_NULL;
      arr.addItem(item);
      this.skipSpace();
    } while (this.eat(0x2c));
    return this.eat(0x5d) ? arr : this.fail();
  }

  /** A string literal starting at the opening quote. */
  private string(): string {
    const src = this.src;
    const parts = new Array<string>();
    let start = ++this.pos;
    while (this.pos < src.length) {
      const c = src.charCodeAt(this.pos);
      if (c == 0x22) {
        parts.push(src.substring(start, this.pos++));
        return parts.join("");
      }
      if (c < 0x20) break;
      if (c != 0x5c) {
        this.pos++;
        continue;
      }
      parts.push(src.substring(start, this.pos));
      const escaped = this.escape();
      if (escaped < 0) break;
      parts.push(String.fromCharCode(escaped));
      start = this.pos;
    }
    this.fail();
    return "";
  }

  /** The UTF-16 unit of an escape sequence starting at its backslash, or -1. Surrogate pairs arrive as two escapes. */
  private escape(): i32 {
    const src = this.src;
    if (this.pos + 1 >= src.length) return -1;
    const c = src.charCodeAt(this.pos + 1);
    this.pos += 2;
    if (c == 0x22 || c == 0x5c || c == 0x2f) return c;
    if (c == 0x62) return 0x08;
    if (c == 0x66) return 0x0c;
    if (c == 0x6e) return 0x0a;
    if (c == 0x72) return 0x0d;
    if (c == 0x74) return 0x09;
    if (c != 0x75 || this.pos + 4 > src.length) return -1;
    let unit = 0;
    for (let i = 0; i < 4; i++) {
      const d = hexDigit(src.charCodeAt(this.pos + i));
      if (d < 0) return -1;
      unit = (unit << 4) | d;
    }
    this.pos += 4;
    return unit;
  }

  /** A number as RFC 8259 spells it: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
  private number(): JsonValue {
    const negative = this.eat(0x2d);
    const number = new DecimalNumber();
    if (this.eat(0x30)) {
      // a leading zero stands alone
    } else if (this.digits(number, false) == 0) {
      return this.fail();
    }
    if (this.eat(0x2e) && this.digits(number, true) == 0) return this.fail();
    if (this.eat(0x65) || this.eat(0x45)) {
      const negativeExponent = this.eat(0x2d);
      if (!negativeExponent) this.eat(0x2b);
      const start = this.pos;
      let exponent = 0;
      while (this.pos < this.src.length) {
        const c = this.src.charCodeAt(this.pos);
        if (c < 0x30 || c > 0x39) break;
        // Past 10 000 the value is zero or infinite anyway; stop before the count overflows.
        if (exponent < 10000) exponent = exponent * 10 + (c - 0x30);
        this.pos++;
      }
      if (this.pos == start) return this.fail();
      number.exponent += negativeExponent ? -exponent : exponent;
    }
    const value = number.toF64();
    return JsonValue.ofNumber(negative ? -value : value);
  }

  /** Reads digits into `number` (as fraction digits when `fraction`); answers how many there were. */
  private digits(number: DecimalNumber, fraction: bool): i32 {
    const start = this.pos;
    while (this.pos < this.src.length) {
      const c = this.src.charCodeAt(this.pos);
      if (c < 0x30 || c > 0x39) break;
      number.addDigit(c - 0x30, fraction);
      this.pos++;
    }
    return this.pos - start;
  }

  private literal(word: string): bool {
    if (this.src.substr(this.pos, word.length) != word) return false;
    this.pos += word.length;
    return true;
  }

  private eat(c: i32): bool {
    if (this.pos < this.src.length && this.src.charCodeAt(this.pos) == c) {
      this.pos++;
      return true;
    }
    return false;
  }

  private fail(): JsonValue {
    this.failed = true;
    return JSON_NULL;
  }
}

// Exact powers of ten: every one up to 1e22 is a double without rounding.
const EXACT_POWERS_OF_TEN: StaticArray<f64> = [
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21,
  1e22,
];
const MAX_EXACT_INTEGER: u64 = 9007199254740992; // 2^53

/**
 * A decimal number as significant digits times a power of ten, converted to the nearest double.
 * AssemblyScript's own parseFloat is off for some inputs (e.g. "1e23", 17-digit mantissas), so
 * JSON numbers are converted here: exactly when the digits and the power of ten are both exact
 * doubles (Clinger's fast path, which covers the numbers web APIs send), else within a few units
 * in the last place.
 */
class DecimalNumber {
  /** The first 19 significant digits. */
  digits: u64 = 0;
  count: i32 = 0;
  exponent: i32 = 0;

  addDigit(digit: i32, fraction: bool): void {
    if (this.count == 0 && digit == 0) {
      if (fraction) this.exponent--; // leading zeros of a fraction only move the point
      return;
    }
    if (this.count < 19) {
      this.digits = this.digits * 10 + <u64>digit;
      this.count++;
      if (fraction) this.exponent--;
    } else if (!fraction) {
      this.exponent++; // an integer digit past the 19th still counts as a power of ten
    }
  }

  toF64(): f64 {
    if (this.digits == 0) return 0;
    let digits = this.digits;
    let exponent = this.exponent;
    if (digits <= MAX_EXACT_INTEGER) {
      // Move powers of ten into the digits while they stay exact, e.g. 1e23 = 10 × 1e22.
      while (exponent > 22 && digits * 10 <= MAX_EXACT_INTEGER) {
        digits *= 10;
        exponent--;
      }
      if (exponent >= 0 && exponent <= 22) return <f64>digits * EXACT_POWERS_OF_TEN[exponent];
      if (exponent < 0 && exponent >= -22) return <f64>digits / EXACT_POWERS_OF_TEN[-exponent];
    }
    const value = <f64>digits;
    if (exponent > 0) return exponent > 400 ? Infinity : value * Math.pow(10, exponent);
    // Two steps below 1e-300, so the power of ten itself does not underflow.
    if (exponent < -300) return exponent < -400 ? 0 : value / 1e300 / Math.pow(10, -300 - exponent);
    return value / Math.pow(10, -exponent);
  }
}

function hexDigit(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}
