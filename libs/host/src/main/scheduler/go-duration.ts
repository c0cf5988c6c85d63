/**
 * Go's `time.ParseDuration`: `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, units ns us µs μs ms s m h, at most
 * about 292 years. Errors carry Go's texts, which Navidrome passes through to cron errors.
 */
import { quoteTime } from "./go-text.js";

const UNIT_NANOS: ReadonlyMap<string, bigint> = new Map([
  ["ns", 1n],
  ["us", 1_000n],
  ["\u00b5s", 1_000n], // micro sign
  ["\u03bcs", 1_000n], // Greek mu
  ["ms", 1_000_000n],
  ["s", 1_000_000_000n],
  ["m", 60_000_000_000n],
  ["h", 3_600_000_000_000n],
]);
const LIMIT = 1n << 63n;

const isDigit = (ch: string | undefined): boolean => ch !== undefined && ch >= "0" && ch <= "9";

/** Nanoseconds, negative when the text says so; throws an Error with Go's message. */
export function parseGoDuration(text: string): bigint {
  const invalid = (): Error => new Error(`time: invalid duration ${quoteTime(text)}`);
  let rest = text;
  let negative = false;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    negative = rest.startsWith("-");
    rest = rest.slice(1);
  }
  if (rest === "0") return 0n;
  if (rest === "") throw invalid();

  let total = 0n;
  while (rest !== "") {
    if (!(rest[0] === "." || isDigit(rest[0]))) throw invalid();

    let i = 0;
    let whole = 0n;
    while (isDigit(rest[i])) {
      whole = whole * 10n + BigInt(rest.charCodeAt(i) - 48);
      if (whole > LIMIT) throw invalid();
      i++;
    }
    const hadWhole = i > 0;
    rest = rest.slice(i);

    // The fraction stops gaining precision (but keeps being consumed) once it would overflow.
    let fraction = 0n;
    let scale = 1;
    let hadFraction = false;
    if (rest.startsWith(".")) {
      rest = rest.slice(1);
      let overflowed = false;
      let j = 0;
      while (isDigit(rest[j])) {
        const next = fraction * 10n + BigInt(rest.charCodeAt(j) - 48);
        if (overflowed || fraction > (LIMIT - 1n) / 10n || next > LIMIT) overflowed = true;
        else {
          fraction = next;
          scale *= 10;
        }
        j++;
      }
      hadFraction = j > 0;
      rest = rest.slice(j);
    }
    if (!hadWhole && !hadFraction) throw invalid();

    let u = 0;
    while (u < rest.length && rest[u] !== "." && !isDigit(rest[u])) u++;
    if (u === 0) throw new Error(`time: missing unit in duration ${quoteTime(text)}`);
    const unitText = rest.slice(0, u);
    rest = rest.slice(u);
    const unit = UNIT_NANOS.get(unitText);
    if (unit === undefined) throw new Error(`time: unknown unit ${quoteTime(unitText)} in duration ${quoteTime(text)}`);

    if (whole > LIMIT / unit) throw invalid();
    let value = whole * unit;
    if (fraction > 0n) {
      // Go computes the fractional part in float64, so this does too, to truncate the same way.
      value += BigInt(Math.trunc(Number(fraction) * (Number(unit) / scale)));
      if (value > LIMIT) throw invalid();
    }
    total += value;
    if (total > LIMIT) throw invalid();
  }
  if (negative) return -total;
  if (total > LIMIT - 1n) throw invalid();
  return total;
}
