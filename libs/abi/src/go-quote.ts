/**
 * Go's `strconv.Quote` (`%q`, and `%#v` of a string), which shapes many of the error texts
 * Navidrome's plugins and operators see: manifest errors, cron errors, `net/url` errors.
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

/** One rune as strconv.Quote writes it. */
function quoteRune(codePoint: number): string {
  const ch = String.fromCodePoint(codePoint);
  if (ch === '"' || ch === "\\") return `\\${ch}`;
  if (PRINTABLE.test(ch)) return ch;
  if (NAMED_ESCAPES[ch] !== undefined) return NAMED_ESCAPES[ch];
  if (codePoint < 0x80) return `\\x${hex(codePoint, 2)}`;
  if (codePoint < 0x10000) return `\\u${hex(codePoint, 4)}`;
  return `\\U${hex(codePoint, 8)}`;
}

/**
 * `strconv.Quote` of a text. A lone surrogate is not UTF-8: Go (and its JSON decoder) sees U+FFFD
 * in its place.
 */
export function goQuote(text: string): string {
  let out = '"';
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    out += cp >= 0xd800 && cp <= 0xdfff ? "\ufffd" : quoteRune(cp);
  }
  return `${out}"`;
}

/**
 * `strconv.Quote` of a byte string (a JavaScript string whose every code unit is one byte, 0–255):
 * runes of valid UTF-8 as Go prints them, any other byte as `\xNN`.
 */
export function goQuoteBytes(bytes: string): string {
  let out = '"';
  for (let i = 0; i < bytes.length; ) {
    const rune = decodeRune(bytes, i);
    if (rune === undefined) {
      out += `\\x${hex(bytes.charCodeAt(i), 2)}`;
      i++;
    } else {
      out += quoteRune(rune.codePoint);
      i += rune.width;
    }
  }
  return `${out}"`;
}

/** The UTF-8 sequence at `i`, or undefined when the bytes there are not one (overlong, surrogate, cut short). */
function decodeRune(bytes: string, i: number): { codePoint: number; width: number } | undefined {
  const lead = bytes.charCodeAt(i);
  if (lead < 0x80) return { codePoint: lead, width: 1 };
  const width = lead >= 0xf0 && lead <= 0xf4 ? 4 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xc2 && lead <= 0xdf ? 2 : 0;
  if (width === 0 || i + width > bytes.length) return undefined;
  let codePoint = lead & (0xff >> (width + 1));
  for (let k = 1; k < width; k++) {
    const next = bytes.charCodeAt(i + k);
    if ((next & 0xc0) !== 0x80) return undefined;
    codePoint = (codePoint << 6) | (next & 0x3f);
  }
  const minimum = [0, 0, 0x80, 0x800, 0x10000][width] ?? 0;
  if (codePoint < minimum || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) return undefined;
  return { codePoint, width };
}
