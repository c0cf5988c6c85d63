// JSON for the example plugins: AssemblyScript has no JSON built in, and web APIs speak it.
//
// Reading: `parseJson(text)` builds a tree of JsonValue, or returns null for malformed text. A
// missing field, an index past the end or a value of another kind reads as JSON null, so paths
// chain without checks: `root.field("artists").at(0).field("id").text()`.
// Writing: `JsonObjectWriter` and `jsonArray` assemble already-encoded values; `jsonString` quotes.

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
    const start = this.pos;
    this.eat(0x2d);
    if (this.eat(0x30)) {
      // a leading zero stands alone
    } else if (this.digits() == 0) {
      return this.fail();
    }
    if (this.eat(0x2e) && this.digits() == 0) return this.fail();
    if (this.eat(0x65) || this.eat(0x45)) {
      if (!this.eat(0x2b)) this.eat(0x2d);
      if (this.digits() == 0) return this.fail();
    }
    return JsonValue.ofNumber(F64.parseFloat(this.src.substring(start, this.pos)));
  }

  private digits(): i32 {
    const start = this.pos;
    while (this.pos < this.src.length) {
      const c = this.src.charCodeAt(this.pos);
      if (c < 0x30 || c > 0x39) break;
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

function hexDigit(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}
