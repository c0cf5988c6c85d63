/**
 * Reads a plugin's `cron_expression` exactly as Navidrome did (robfig/cron v3's standard parser, ABI.md §8):
 * five fields (minute hour day-of-month month day-of-week) with `*`, `?`, `,`, `-`, `/` and
 * month/weekday names, the descriptors `@yearly @annually @monthly @weekly @daily @midnight @hourly`,
 * `@every <Go duration>`, and an optional `TZ=`/`CRON_TZ=` zone prefix. Errors carry robfig's texts.
 *
 * A cron expression comes out as five plain numeric fields, so that cron-parser (which BullMQ
 * fires by) reads the same times robfig would have, and is checked with cron-parser before it is
 * accepted: a pattern the scheduler service could not run is refused here, not later.
 */
import { CronExpressionParser } from "cron-parser";
import { parseGoDuration } from "./go-duration.js";
import { atoi } from "./go-text.js";
import type { RecurringSpec } from "./store.js";

/** A `cron_expression` Navidrome would have refused (or Tonearm cannot run); the message is robfig's. */
export class CronSpecError extends Error {
  override readonly name = "CronSpecError";
}

interface Bounds {
  readonly min: number;
  readonly max: number;
  readonly names?: Readonly<Record<string, number>>;
}

const MINUTES: Bounds = { min: 0, max: 59 };
const HOURS: Bounds = { min: 0, max: 23 };
const DAYS_OF_MONTH: Bounds = { min: 1, max: 31 };
const MONTHS: Bounds = {
  min: 1,
  max: 12,
  names: { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 },
};
const DAYS_OF_WEEK: Bounds = { min: 0, max: 6, names: { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 } };
const FIELD_BOUNDS = [MINUTES, HOURS, DAYS_OF_MONTH, MONTHS, DAYS_OF_WEEK] as const;

/** robfig's descriptors as the five fields they stand for. */
const DESCRIPTORS: Readonly<Record<string, string>> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};
const EVERY = "@every ";
const NANOS_PER_MS = 1_000_000n;
const NANOS_PER_SECOND = 1_000_000_000n;

// Go's unicode.IsSpace, which strings.Fields and strings.TrimSpace split and trim on.
const GO_SPACE = "\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const GO_SPACES = new RegExp(`[${GO_SPACE}]+`, "u");
const GO_TRIM = new RegExp(`^[${GO_SPACE}]+|[${GO_SPACE}]+$`, "gu");

/** One field's matching values; `star` marks `*`/`?`, which robfig treats apart for the two day fields. */
interface FieldSet {
  readonly values: ReadonlySet<number>;
  readonly star: boolean;
}

/** Parses a `cron_expression`; throws `CronSpecError` with robfig's text when Navidrome would have refused it. */
export function parseCronSpec(expression: string): RecurringSpec {
  if (expression.length === 0) throw new CronSpecError("empty spec string");
  let spec = expression;
  let tz: string | undefined;
  if (spec.startsWith("TZ=") || spec.startsWith("CRON_TZ=")) {
    // robfig takes the zone up to the first ASCII space (and panics when there is none: read as the end).
    const space = spec.indexOf(" ");
    const end = space < 0 ? spec.length : space;
    tz = zoneOf(spec.slice(spec.indexOf("=") + 1, end));
    spec = spec.slice(end).replace(GO_TRIM, "");
  }

  if (spec.startsWith("@")) return descriptor(spec, tz);

  const fields = spec.split(GO_SPACES).filter((f) => f !== "");
  if (fields.length !== 5) {
    throw new CronSpecError(`expected exactly 5 fields, found ${fields.length}: [${fields.join(" ")}]`);
  }
  const sets = fields.map((field, i) => parseField(field, FIELD_BOUNDS[i] ?? MINUTES));
  return cronSpec(sets.map(render).join(" "), tz);
}

function descriptor(spec: string, tz: string | undefined): RecurringSpec {
  const pattern = DESCRIPTORS[spec];
  if (pattern !== undefined) return cronSpec(pattern, tz);
  if (spec.startsWith(EVERY)) {
    let nanos: bigint;
    try {
      nanos = parseGoDuration(spec.slice(EVERY.length));
    } catch (error) {
      throw new CronSpecError(`failed to parse duration ${spec}: ${(error as Error).message}`);
    }
    // robfig would run a zero or negative interval every second; a plugin asking for that has a bug.
    if (nanos <= 0n) throw new CronSpecError(`failed to parse duration ${spec}: duration must be greater than zero`);
    // robfig's Every: whole seconds, at least one.
    const seconds = nanos / NANOS_PER_SECOND;
    const everyMs = Number(((seconds > 0n ? seconds : 1n) * NANOS_PER_SECOND) / NANOS_PER_MS);
    return { type: "every", everyMs };
  }
  throw new CronSpecError(`unrecognized descriptor: ${spec}`);
}

/** Go's time.LoadLocation, answered from the ICU zone data; undefined means the scheduler's local zone. */
function zoneOf(name: string): string | undefined {
  if (name === "" || name === "UTC") return "UTC";
  if (name === "Local") return undefined;
  if (name.includes("..") || name.startsWith("/") || name.startsWith("\\")) {
    throw new CronSpecError(`provided bad location ${name}: time: invalid location name`);
  }
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
  } catch {
    throw new CronSpecError(`provided bad location ${name}: unknown time zone ${name}`);
  }
  return name;
}

function cronSpec(pattern: string, tz: string | undefined): RecurringSpec {
  try {
    CronExpressionParser.parse(pattern, tz === undefined ? {} : { tz });
  } catch (error) {
    // e.g. `0 0 30 2 *`: robfig accepts a date that never comes; cron-parser (and so BullMQ) refuses it.
    throw new CronSpecError((error as Error).message);
  }
  return tz === undefined ? { type: "cron", pattern } : { type: "cron", pattern, tz };
}

/** robfig's getField: a comma-separated list of ranges. */
function parseField(field: string, bounds: Bounds): FieldSet {
  const values = new Set<number>();
  let star = false;
  for (const expr of field.split(",").filter((r) => r !== "")) {
    const range = parseRange(expr, bounds);
    for (const v of range.values) values.add(v);
    star ||= range.star;
  }
  if (values.size === 0) throw new CronSpecError(`no values in field ${field}`);
  return { values, star };
}

/** robfig's getRange: `*`, `?`, `N`, `N-M`, each optionally `/step` (`N/step` means `N-max/step`). */
function parseRange(expr: string, bounds: Bounds): FieldSet {
  const rangeAndStep = expr.split("/");
  const lowAndHigh = (rangeAndStep[0] ?? "").split("-");
  const singleValue = lowAndHigh.length === 1;
  let start: bigint;
  let end: bigint;
  let star = false;
  if (lowAndHigh[0] === "*" || lowAndHigh[0] === "?") {
    start = BigInt(bounds.min);
    end = BigInt(bounds.max);
    star = true;
  } else {
    start = intOrName(lowAndHigh[0] ?? "", bounds);
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) end = intOrName(lowAndHigh[1] ?? "", bounds);
    else throw new CronSpecError(`too many hyphens: ${expr}`);
  }

  let step = 1n;
  if (rangeAndStep.length === 2) {
    step = nonNegativeInt(rangeAndStep[1] ?? "");
    if (singleValue) end = BigInt(bounds.max);
    if (step > 1n) star = false;
  } else if (rangeAndStep.length > 2) {
    throw new CronSpecError(`too many slashes: ${expr}`);
  }

  if (start < bounds.min) throw new CronSpecError(`beginning of range (${start}) below minimum (${bounds.min}): ${expr}`);
  if (end > bounds.max) throw new CronSpecError(`end of range (${end}) above maximum (${bounds.max}): ${expr}`);
  if (start > end) throw new CronSpecError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step === 0n) throw new CronSpecError(`step of range should be a positive number: ${expr}`);

  const values = new Set<number>();
  for (let v = start; v <= end; v += step) values.add(Number(v));
  return { values, star };
}

function intOrName(expr: string, bounds: Bounds): bigint {
  const named = bounds.names?.[expr.toLowerCase()];
  return named !== undefined ? BigInt(named) : nonNegativeInt(expr);
}

function nonNegativeInt(expr: string): bigint {
  let n: bigint;
  try {
    n = atoi(expr);
  } catch (error) {
    throw new CronSpecError(`failed to parse int from ${expr}: ${(error as Error).message}`);
  }
  if (n < 0n) throw new CronSpecError(`negative number (${n}) not allowed: ${expr}`);
  return n;
}

/** A field as cron-parser should read it: `*` where robfig saw a star, else the values (runs as ranges). */
function render(field: FieldSet): string {
  if (field.star) return "*";
  const sorted = [...field.values].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] ?? 0) + 1) j++;
    const [first, last] = [sorted[i], sorted[j]];
    parts.push(j - i >= 2 ? `${first}-${last}` : sorted.slice(i, j + 1).join(","));
    i = j + 1;
  }
  return parts.join(",");
}
