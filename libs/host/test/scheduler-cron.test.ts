// How `schedule_recurring` reads a cron expression: robfig/cron v3's standard parser with its error
// texts (ABI.md §8), Go's time.ParseDuration for `@every`, and the pattern handed to the store.
import { CronExpressionParser } from "cron-parser";
import { describe, expect, it } from "vitest";
import { parseGoDuration } from "../src/main/scheduler/go-duration.js";
import { CronSpecError, parseCronSpec } from "../src/main/scheduler/index.js";

function failure(expression: string): string {
  try {
    parseCronSpec(expression);
  } catch (error) {
    expect(error).toBeInstanceOf(CronSpecError);
    return (error as Error).message;
  }
  throw new Error(`${JSON.stringify(expression)} was accepted`);
}

describe("cron expressions Navidrome accepts", () => {
  it.each([
    ["* * * * *", "* * * * *"],
    ["0 * * * *", "0 * * * *"],
    ["*/5 * * * *", "0,5,10,15,20,25,30,35,40,45,50,55 * * * *"],
    ["15/20 * * * *", "15,35,55 * * * *"],
    ["*/1 * * * *", "* * * * *"],
    ["0-59 * * * *", "0-59 * * * *"],
    ["0 9-17 * * MON-FRI", "0 9-17 * * 1-5"],
    ["30 4 1,15 * 5", "30 4 1,15 * 5"],
    ["0 0 ? * sun", "0 0 * * 0"],
    ["0 0 1 jan,Jul *", "0 0 1 1,7 *"],
    ["0 0 1,2,3,5 * *", "0 0 1-3,5 * *"],
    ["5,5,1 * * * *", "1,5 * * * *"],
    ["0 12 * * *-5", "0 12 * * *"], // robfig ignores what follows `*-`
    ["  0\t8  * * *  ", "0 8 * * *"],
    ["@yearly", "0 0 1 1 *"],
    ["@annually", "0 0 1 1 *"],
    ["@monthly", "0 0 1 * *"],
    ["@weekly", "0 0 * * 0"],
    ["@daily", "0 0 * * *"],
    ["@midnight", "0 0 * * *"],
    ["@hourly", "0 * * * *"],
  ])("%j → pattern %j in the local zone", (expression, pattern) => {
    expect(parseCronSpec(expression)).toEqual({ type: "cron", pattern });
  });

  it.each([
    ["TZ=Europe/Berlin 0 8 * * *", "0 8 * * *", "Europe/Berlin"],
    ["CRON_TZ=America/New_York @daily", "0 0 * * *", "America/New_York"],
    ["TZ=UTC   30 * * * *", "30 * * * *", "UTC"],
    ["TZ= 30 * * * *", "30 * * * *", "UTC"], // Go loads "" as UTC
  ])("%j carries its zone", (expression, pattern, tz) => {
    expect(parseCronSpec(expression)).toEqual({ type: "cron", pattern, tz });
  });

  it("TZ=Local means the scheduler's own zone", () => {
    expect(parseCronSpec("TZ=Local 0 8 * * *")).toEqual({ type: "cron", pattern: "0 8 * * *" });
  });

  it.each([
    ["@every 41s", 41_000],
    ["@every 5s", 5_000],
    ["@every 1h30m", 5_400_000],
    ["@every 90s", 90_000],
    ["@every 500ms", 1_000], // sub-second rounds up to one second
    ["@every 1µs", 1_000],
    ["@every 2.9s", 2_000], // fractions of a second are dropped
    ["TZ=Europe/Paris @every 1m", 60_000],
  ])("%j fires every %i ms", (expression, everyMs) => {
    expect(parseCronSpec(expression)).toEqual({ type: "every", everyMs });
  });

  it("normalised patterns fire when robfig would: weekday and day-of-month both restricted match either", () => {
    const spec = parseCronSpec("0 0 13 * FRI");
    if (spec.type !== "cron") throw new Error("expected a cron spec");
    const next = CronExpressionParser.parse(spec.pattern, { tz: "UTC", currentDate: "2026-01-01T00:00:00Z" });
    // 2 January 2026 is a Friday; the 13th comes later.
    expect(next.next().toISOString()).toBe("2026-01-02T00:00:00.000Z");
  });

  it("a stepped day field is restricted, not a star, as in robfig", () => {
    const spec = parseCronSpec("0 0 */2 * MON");
    if (spec.type !== "cron") throw new Error("expected a cron spec");
    expect(spec.pattern).toBe("0 0 1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31 * 1");
  });
});

describe("cron expressions Navidrome refuses, with robfig's texts", () => {
  it.each([
    ["", "empty spec string"],
    ["*/2 * * * * *", "expected exactly 5 fields, found 6: [*/2 * * * * *]"],
    ["* * * *", "expected exactly 5 fields, found 4: [* * * *]"],
    [" @daily", "expected exactly 5 fields, found 1: [@daily]"],
    ["TZ=UTC", "expected exactly 5 fields, found 0: []"],
    ["60 * * * *", "end of range (60) above maximum (59): 60"],
    ["* 24 * * *", "end of range (24) above maximum (23): 24"],
    ["* * 0 * *", "beginning of range (0) below minimum (1): 0"],
    ["* * * 13 *", "end of range (13) above maximum (12): 13"],
    ["* * * * 7", "end of range (7) above maximum (6): 7"],
    ["5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"],
    ["1-2-3 * * * *", "too many hyphens: 1-2-3"],
    ["*/2/3 * * * *", "too many slashes: */2/3"],
    ["*/0 * * * *", "step of range should be a positive number: */0"],
    ["x * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'],
    ["-1 * * * *", 'failed to parse int from : strconv.Atoi: parsing "": invalid syntax'],
    ["*/ * * * *", 'failed to parse int from : strconv.Atoi: parsing "": invalid syntax'],
    ["*/-1 * * * *", "negative number (-1) not allowed: -1"],
    [
      "99999999999999999999 * * * *",
      'failed to parse int from 99999999999999999999: strconv.Atoi: parsing "99999999999999999999": value out of range',
    ],
    ["* * * FOO *", 'failed to parse int from FOO: strconv.Atoi: parsing "FOO": invalid syntax'],
    ["@fortnightly", "unrecognized descriptor: @fortnightly"],
    ["@daily ", "unrecognized descriptor: @daily "],
    ["@every", "unrecognized descriptor: @every"],
    ["@every ", 'failed to parse duration @every : time: invalid duration ""'],
    ["@every 5", 'failed to parse duration @every 5: time: missing unit in duration "5"'],
    ["@every 1x", 'failed to parse duration @every 1x: time: unknown unit "x" in duration "1x"'],
    ["@every 1h 30m", 'failed to parse duration @every 1h 30m: time: unknown unit "h " in duration "1h 30m"'],
    ["TZ=Mars/Olympus * * * * *", "provided bad location Mars/Olympus: unknown time zone Mars/Olympus"],
    ["CRON_TZ=../etc/passwd @daily", "provided bad location ../etc/passwd: time: invalid location name"],
    // Tonearm refusals: robfig would take these, but they can never run as the plugin meant.
    ["@every 0s", "failed to parse duration @every 0s: duration must be greater than zero"],
    ["@every -5s", "failed to parse duration @every -5s: duration must be greater than zero"],
    [", * * * *", "no values in field ,"],
    ["0 0 30 2 *", "Invalid explicit day of month definition"],
  ])("%j → %j", (expression, message) => {
    expect(failure(expression)).toBe(message);
  });
});

describe("Go durations", () => {
  it.each([
    ["0", 0n],
    ["-0", 0n],
    ["1ns", 1n],
    ["1.5h", 5_400_000_000_000n],
    [".5s", 500_000_000n],
    ["1.s", 1_000_000_000n],
    ["+5s", 5_000_000_000n],
    ["-1m30s", -90_000_000_000n],
    ["1h1m1s1ms1us1ns", 3_661_001_001_001n],
    ["2\u03bcs", 2_000n],
    ["9223372036854775807ns", 9_223_372_036_854_775_807n],
    ["-9223372036854775808ns", -9_223_372_036_854_775_808n],
    ["0.1234567890123456789s", 123_456_789n],
  ])("%j = %i ns", (text, nanos) => {
    expect(parseGoDuration(text)).toBe(nanos);
  });

  it.each([
    ["", 'time: invalid duration ""'],
    [".", 'time: invalid duration "."'],
    ["-", 'time: invalid duration "-"'],
    ["s", 'time: invalid duration "s"'],
    ["1", 'time: missing unit in duration "1"'],
    ["1ms5", 'time: missing unit in duration "1ms5"'],
    ["1\u00e9", 'time: unknown unit "\\xc3\\xa9" in duration "1\\xc3\\xa9"'],
    ["9223372036854775808ns", 'time: invalid duration "9223372036854775808ns"'],
    ["3000000h", 'time: invalid duration "3000000h"'],
  ])("%j fails: %s", (text, message) => {
    expect(() => parseGoDuration(text)).toThrow(message);
  });
});
