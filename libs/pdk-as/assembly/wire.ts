// Protobuf (proto3) wire format for the generated message classes.
//
// Reader walks a byte range of linear memory and never traps: every read is bounds-checked, and
// malformed input (truncated values, lengths past the end, bad tags, nesting deeper than
// MAX_DEPTH) sets `failed` and ends the walk, so a decoder returns what it read so far.
// Writer appends to a growable buffer; nested messages are written in place (fork/join).

/** Protobuf wire types. */
export namespace WireType {
  export const Varint: u32 = 0;
  export const Fixed64: u32 = 1;
  export const LengthDelimited: u32 = 2;
  export const StartGroup: u32 = 3;
  export const EndGroup: u32 = 4;
  export const Fixed32: u32 = 5;
}

/** Deepest nesting of messages and groups a Reader follows before giving up. */
export const MAX_DEPTH: i32 = 64;

/** Base class of every generated message. */
export abstract class Message {
  /** Appends this message's fields to `w` (proto3: fields holding their default value are omitted). */
  abstract encodeTo(w: Writer): void;

  /** The message in protobuf binary format. */
  encode(): Uint8Array {
    const w = new Writer();
    this.encodeTo(w);
    return w.finish();
  }
}

export class Reader {
  /** Current position and the end of the innermost message being read (absolute addresses). */
  pos: usize;
  end: usize;
  /** Field number and wire type of the tag read by the last successful `next()`. */
  field: u32 = 0;
  wireType: u32 = 0;
  /** Set on the first malformed input; every later read returns a default value. */
  failed: bool = false;
  private depth: i32 = 0;
  // Keeps a managed source buffer alive while its memory is read.
  private source: Uint8Array | null = null;

  constructor(ptr: usize, len: usize) {
    this.pos = ptr;
    this.end = ptr + len;
  }

  static of(buf: Uint8Array): Reader {
    const r = new Reader(buf.dataStart, <usize>buf.length);
    r.source = buf;
    return r;
  }

  /** Reads the next tag of the current message; false at its end or after a failure. */
  next(): bool {
    if (this.failed || this.pos >= this.end) return false;
    const tag = this.varint();
    if (this.failed) return false;
    const field = tag >> 3;
    const wireType = <u32>(tag & 7);
    if (field == 0 || field > 0x1fffffff || wireType > WireType.Fixed32 || wireType == WireType.EndGroup) {
      this.fail();
      return false;
    }
    this.field = <u32>field;
    this.wireType = wireType;
    return true;
  }

  /** True while the current length-delimited range (e.g. a packed field) has unread bytes. */
  more(): bool {
    return !this.failed && this.pos < this.end;
  }

  fail(): void {
    this.failed = true;
    this.pos = this.end;
  }

  varint(): u64 {
    let result: u64 = 0;
    for (let shift: u64 = 0; shift < 70; shift += 7) {
      if (this.pos >= this.end) break;
      const b = <u64>load<u8>(this.pos++);
      result |= (b & 0x7f) << shift;
      if (b < 0x80) return result;
    }
    this.fail(); // truncated, or more than 10 bytes
    return 0;
  }

  int32(): i32 {
    return <i32>this.varint();
  }
  uint32(): u32 {
    return <u32>this.varint();
  }
  int64(): i64 {
    return <i64>this.varint();
  }
  uint64(): u64 {
    return this.varint();
  }
  bool(): bool {
    return this.varint() != 0;
  }
  sint32(): i32 {
    const n = <u32>this.varint();
    return <i32>((n >>> 1) ^ (0 - (n & 1)));
  }
  sint64(): i64 {
    const n = this.varint();
    return <i64>((n >>> 1) ^ (0 - (n & 1)));
  }
  enumValue(): i32 {
    return <i32>this.varint();
  }

  fixed32(): u32 {
    if (!this.take(4)) return 0;
    return load<u32>(this.pos - 4);
  }
  fixed64(): u64 {
    if (!this.take(8)) return 0;
    return load<u64>(this.pos - 8);
  }
  sfixed32(): i32 {
    return <i32>this.fixed32();
  }
  sfixed64(): i64 {
    return <i64>this.fixed64();
  }
  float(): f32 {
    return reinterpret<f32>(this.fixed32());
  }
  double(): f64 {
    return reinterpret<f64>(this.fixed64());
  }

  bytes(): Uint8Array {
    const len = this.length();
    const out = new Uint8Array(<i32>len);
    if (len > 0) memory.copy(out.dataStart, this.pos - len, len);
    return out;
  }

  /** A UTF-8 string; invalid sequences are decoded leniently, never rejected. */
  string(): string {
    const len = this.length();
    if (len == 0) return "";
    return String.UTF8.decodeUnsafe(this.pos - len, len);
  }

  /**
   * Enters a length-delimited sub-message: until `leave`, the reader's end is the sub-message's.
   * Returns the outer end to pass to `leave`.
   */
  enter(): usize {
    const outer = this.end;
    if (this.depth >= MAX_DEPTH) {
      this.fail();
      return outer;
    }
    const len = this.length();
    if (this.failed) return outer;
    this.end = this.pos;
    this.pos -= len;
    this.depth++;
    return outer;
  }

  leave(outer: usize): void {
    if (this.failed) {
      this.end = outer;
      this.pos = outer;
      return;
    }
    this.pos = this.end;
    this.end = outer;
    this.depth--;
  }

  /** Skips the value of the last tag read, whatever its wire type. */
  skip(): void {
    const wireType = this.wireType;
    if (wireType == WireType.Varint) this.varint();
    else if (wireType == WireType.Fixed64) this.take(8);
    else if (wireType == WireType.LengthDelimited) this.length();
    else if (wireType == WireType.Fixed32) this.take(4);
    else if (wireType == WireType.StartGroup) this.skipGroup(this.field);
    else this.fail();
  }

  private skipGroup(field: u32): void {
    if (this.depth >= MAX_DEPTH) {
      this.fail();
      return;
    }
    this.depth++;
    while (!this.failed) {
      if (this.pos >= this.end) {
        this.fail();
        break;
      }
      const tag = this.varint();
      const wireType = <u32>(tag & 7);
      const inner = tag >> 3;
      if (this.failed || inner == 0 || inner > 0x1fffffff || wireType > WireType.Fixed32) {
        this.fail();
        break;
      }
      if (wireType == WireType.EndGroup) {
        if (<u32>inner != field) this.fail();
        break;
      }
      this.field = <u32>inner;
      this.wireType = wireType;
      this.skip();
    }
    this.depth--;
  }

  /** Reads a length prefix and consumes that many bytes; returns the length (0 on failure). */
  private length(): usize {
    const len = this.varint();
    if (this.failed) return 0;
    if (len > <u64>(this.end - this.pos)) {
      this.fail();
      return 0;
    }
    this.pos += <usize>len;
    return <usize>len;
  }

  private take(n: usize): bool {
    if (this.end - this.pos < n) {
      this.fail();
      return false;
    }
    this.pos += n;
    return true;
  }
}

export class Writer {
  private buf: ArrayBuffer = new ArrayBuffer(64);
  private len: i32 = 0;
  private forks: Array<i32> = [];

  get length(): i32 {
    return this.len;
  }

  /** A copy of what was written. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.len);
    if (this.len > 0) memory.copy(out.dataStart, changetype<usize>(this.buf), this.len);
    return out;
  }

  // Field writers: tag, then value. They always write; omitting defaults is the caller's choice.

  int32(field: u32, value: i32): void {
    this.tag(field, WireType.Varint);
    this.varint(<u64><i64>value); // negative values take 10 bytes, as proto3 requires
  }
  uint32(field: u32, value: u32): void {
    this.tag(field, WireType.Varint);
    this.varint(<u64>value);
  }
  int64(field: u32, value: i64): void {
    this.tag(field, WireType.Varint);
    this.varint(<u64>value);
  }
  uint64(field: u32, value: u64): void {
    this.tag(field, WireType.Varint);
    this.varint(value);
  }
  bool(field: u32, value: bool): void {
    this.tag(field, WireType.Varint);
    this.varint(value ? 1 : 0);
  }
  sint32(field: u32, value: i32): void {
    this.tag(field, WireType.Varint);
    this.varint(<u64><u32>((value << 1) ^ (value >> 31)));
  }
  sint64(field: u32, value: i64): void {
    this.tag(field, WireType.Varint);
    this.varint(<u64>((value << 1) ^ (value >> 63)));
  }
  enumValue(field: u32, value: i32): void {
    this.int32(field, value);
  }
  fixed32(field: u32, value: u32): void {
    this.tag(field, WireType.Fixed32);
    this.rawFixed32(value);
  }
  sfixed32(field: u32, value: i32): void {
    this.fixed32(field, <u32>value);
  }
  float(field: u32, value: f32): void {
    this.fixed32(field, reinterpret<u32>(value));
  }
  fixed64(field: u32, value: u64): void {
    this.tag(field, WireType.Fixed64);
    this.rawFixed64(value);
  }
  sfixed64(field: u32, value: i64): void {
    this.fixed64(field, <u64>value);
  }
  double(field: u32, value: f64): void {
    this.fixed64(field, reinterpret<u64>(value));
  }

  bytes(field: u32, value: Uint8Array): void {
    this.tag(field, WireType.LengthDelimited);
    const n = value.length;
    this.varint(<u64>n);
    this.reserve(n);
    if (n > 0) memory.copy(changetype<usize>(this.buf) + <usize>this.len, value.dataStart, <usize>n);
    this.len += n;
  }

  string(field: u32, value: string): void {
    this.tag(field, WireType.LengthDelimited);
    const n = String.UTF8.byteLength(value);
    this.varint(<u64>n);
    this.reserve(n);
    String.UTF8.encodeUnsafe(changetype<usize>(value), value.length, changetype<usize>(this.buf) + <usize>this.len);
    this.len += n;
  }

  // Packed repeated scalars: `fork()`, raw values, `join(field)`.

  rawVarint(value: u64): void {
    this.varint(value);
  }
  rawInt32(value: i32): void {
    this.varint(<u64><i64>value);
  }
  rawSint32(value: i32): void {
    this.varint(<u64><u32>((value << 1) ^ (value >> 31)));
  }
  rawSint64(value: i64): void {
    this.varint(<u64>((value << 1) ^ (value >> 63)));
  }
  rawFixed32(value: u32): void {
    this.reserve(4);
    store<u32>(changetype<usize>(this.buf) + <usize>this.len, value);
    this.len += 4;
  }
  rawFixed64(value: u64): void {
    this.reserve(8);
    store<u64>(changetype<usize>(this.buf) + <usize>this.len, value);
    this.len += 8;
  }

  /** Starts a length-delimited value (sub-message, map entry, packed field) written in place. */
  fork(): void {
    this.forks.push(this.len);
  }

  /** Ends the value started by the matching `fork` and prefixes it with its tag and length. */
  join(field: u32): void {
    const start = this.forks.pop();
    const bodyLen = this.len - start;
    const tag = (<u64>field << 3) | WireType.LengthDelimited;
    const header = varintSize(tag) + varintSize(<u64>bodyLen);
    this.reserve(header);
    const base = changetype<usize>(this.buf);
    memory.copy(base + <usize>(start + header), base + <usize>start, <usize>bodyLen);
    let p = base + <usize>start;
    p = putVarint(p, tag);
    putVarint(p, <u64>bodyLen);
    this.len += header;
  }

  private tag(field: u32, wireType: u32): void {
    this.varint((<u64>field << 3) | <u64>wireType);
  }

  private varint(value: u64): void {
    this.reserve(10);
    const p = changetype<usize>(this.buf) + <usize>this.len;
    this.len += <i32>(putVarint(p, value) - p);
  }

  private reserve(n: i32): void {
    const need = this.len + n;
    const cap = this.buf.byteLength;
    if (need <= cap) return;
    let next = cap << 1;
    while (next < need) next <<= 1;
    const grown = new ArrayBuffer(next);
    memory.copy(changetype<usize>(grown), changetype<usize>(this.buf), <usize>this.len);
    this.buf = grown;
  }
}

function varintSize(value: u64): i32 {
  let n = 1;
  while (value >= 0x80) {
    value >>= 7;
    n++;
  }
  return n;
}

function putVarint(p: usize, value: u64): usize {
  while (value >= 0x80) {
    store<u8>(p++, <u8>(value & 0x7f) | 0x80);
    value >>= 7;
  }
  store<u8>(p++, <u8>value);
  return p;
}
