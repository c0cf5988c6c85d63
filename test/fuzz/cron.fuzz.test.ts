// Cron validation of the scheduler host service (@tonearm/host parseCronSpec), fed what a plugin may
// pass to schedule_recurring: arbitrary text, near-valid expressions, huge numbers and durations.
// It accepts (five numeric fields cron-parser runs, or a whole-second interval) or refuses with a
// CronSpecError carrying robfig's text, nothing else, and what it accepts reads back unchanged.
import { CronSpecError, parseCronSpec, type RecurringSpec } from "@tonearm/host";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { awkwardText, callsFinishWithin, libraryEntry } from "./support.js";

function parse(expression: string): RecurringSpec | CronSpecError {
  try {
    return parseCronSpec(expression);
  } catch (err) {
    if (err instanceof CronSpecError) return err;
    throw new Error(`parseCronSpec threw ${String(err)} for ${JSON.stringify(expression.slice(0, 200))}`, { cause: err });
  }
}

function expectWellFormed(result: RecurringSpec | CronSpecError): void {
  if (result instanceof CronSpecError) {
    expect(result.message).toMatch(/\S/);
    return;
  }
  if (result.type === "every") {
    expect(Number.isSafeInteger(result.everyMs) && result.everyMs >= 1_000 && result.everyMs % 1_000 === 0).toBe(true);
    return;
  }
  expect(result.type).toBe("cron");
  const fields = result.pattern.split(" ");
  expect(fields).toHaveLength(5);
  for (const field of fields) expect(field).toMatch(/^(\*|\d+(-\d+)?(,\d+(-\d+)?)*)$/);
  // What was accepted is its own normal form.
  const again = parseCronSpec(result.tz === undefined ? result.pattern : `CRON_TZ=${result.tz} ${result.pattern}`);
  expect(again).toEqual(result);
}

const number = fc.oneof(fc.integer({ min: -2, max: 70 }).map(String), fc.constantFrom("", "00", "007", "-0", "+1", "99999999999999999999999", "1e3", "0x1f"));
const name = fc.constantFrom("jan", "DEC", "mon", "Sun", "feb", "sat", "xyz");
const atom = fc.oneof(number, name, fc.constantFrom("*", "?"));
const range = fc.oneof(atom, fc.tuple(atom, atom).map(([a, b]) => `${a}-${b}`), fc.tuple(atom, atom, atom).map(([a, b, c]) => `${a}-${b}-${c}`));
const field = fc.array(fc.oneof(range, fc.tuple(range, number).map(([r, s]) => `${r}/${s}`), fc.tuple(range, number, number).map(([r, s, t]) => `${r}/${s}/${t}`)), { minLength: 1, maxLength: 3 }).map((parts) => parts.join(","));
const separator = fc.constantFrom(" ", "  ", "\t", "\u3000", " \n ");
const fields = fc.array(fc.tuple(field, separator), { minLength: 3, maxLength: 7 }).map((parts) => parts.map(([f, s]) => f + s).join("").trim());
const zone = fc.constantFrom("", "TZ=UTC ", "CRON_TZ=Europe/Paris ", "TZ=Local ", "TZ=Mars/Olympus ", "TZ=../etc/passwd ", "CRON_TZ=", "TZ=America/New_York  ");
const duration = fc.oneof(
  fc.tuple(fc.constantFrom("", "-", "+"), fc.array(fc.tuple(fc.constantFrom("0", "1", "1.5", ".5", "9999999999", "", "."), fc.constantFrom("ns", "us", "µs", "ms", "s", "m", "h", "d", "")), { maxLength: 4 })).map(
    ([sign, parts]) => sign + parts.map(([n, u]) => n + u).join(""),
  ),
  awkwardText(6),
);
const expression = fc.oneof(
  fc.tuple(zone, fields).map(([z, f]) => z + f),
  duration.map((d) => `@every ${d}`),
  fc.constantFrom("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly", "@reboot", "@", "@every", ""),
  awkwardText(20),
);

describe("cron fuzz", () => {
  it("accepts a runnable schedule or refuses with a CronSpecError, whatever the text", () => {
    fc.assert(
      fc.property(expression, (text) => {
        expectWellFormed(parse(text));
      }),
      { numRuns: 2_000 },
    );
  });

  it("finishes on huge expressions", async () => {
    const calls = [
      [`${"1,".repeat(200_000)}1 * * * *`],
      [`@every ${"9".repeat(200_000)}h`],
      [`@every ${"1s".repeat(100_000)}`],
      [`0-59/1 ${"0-23,".repeat(50_000)}0 * * *`],
      [`${"9".repeat(300_000)} * * * *`],
    ];
    const outcomes = await callsFinishWithin(libraryEntry("host", "main/scheduler/cron-spec.js"), "parseCronSpec", calls, 20_000);
    expect(outcomes.map((o) => (o.ok ? "accepted" : o.name))).toEqual(["accepted", "CronSpecError", "accepted", "accepted", "CronSpecError"]);
  });
});
