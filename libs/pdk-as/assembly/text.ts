// UTF-8 conversions for `bytes` fields (payloads, bodies) that carry text.
export namespace utf8 {
  /** The UTF-8 bytes of `text`. */
  export function encode(text: string): Uint8Array {
    return Uint8Array.wrap(String.UTF8.encode(text));
  }

  /** Text from UTF-8 bytes; invalid sequences are decoded leniently. */
  export function decode(bytes: Uint8Array): string {
    return String.UTF8.decodeUnsafe(bytes.dataStart, <usize>bytes.length);
  }
}
