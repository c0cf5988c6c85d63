/**
 * The Go standard-library pieces that shape Navidrome's cron error texts: `strconv.Quote`,
 * `time`'s own quoting, and `strconv.Atoi`'s errors.
 */

import { goQuote } from "@tonearm/abi";

const utf8 = new TextEncoder();
const hex = (n: number, width: number): string => n.toString(16).padStart(width, "0");

/** `strconv.Quote` (Go's `%q`). */
export const quote = goQuote;

/** The `time` package's quoting in its errors: every byte of a control or non-ASCII character as `\xNN`. */
export function quoteTime(text: string): string {
  let out = '"';
  for (const ch of text) {
    if (ch < " " || ch >= "\x80") {
      for (const byte of utf8.encode(ch)) out += `\\x${hex(byte, 2)}`;
    } else {
      out += ch === '"' || ch === "\\" ? `\\${ch}` : ch;
    }
  }
  return `${out}"`;
}

const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

/** `strconv.Atoi` on a 64-bit platform: the value, or an Error with Go's text. */
export function atoi(text: string): bigint {
  const fail = (reason: string): Error => new Error(`strconv.Atoi: parsing ${quote(text)}: ${reason}`);
  const negative = text.startsWith("-");
  const digits = text.startsWith("-") || text.startsWith("+") ? text.slice(1) : text;
  if (digits === "") throw fail("invalid syntax");
  // Digits are checked one by one and overflow is reported where it happens, as ParseUint does.
  let value = 0n;
  for (const ch of digits) {
    if (ch < "0" || ch > "9") throw fail("invalid syntax");
    value = value * 10n + BigInt(ch.charCodeAt(0) - 48);
    if (value > UINT64_MAX) throw fail("value out of range");
  }
  if (negative ? value > INT64_MAX + 1n : value > INT64_MAX) throw fail("value out of range");
  return negative ? -value : value;
}
