import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { childSpan, formatTraceparent, newTrace, parseTraceparent, type TraceContext } from "@tonearm/telemetry";

const EXAMPLE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

describe("parseTraceparent", () => {
  it("reads the specification's example", () => {
    expect(parseTraceparent(EXAMPLE)).toEqual({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      sampled: true,
    });
    expect(parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")?.sampled).toBe(false);
    // Only bit 0 means sampled; other flag bits are ignored.
    expect(parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03")?.sampled).toBe(true);
    expect(parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02")?.sampled).toBe(false);
  });

  it.each([
    ["all-zero trace id", "00-00000000000000000000000000000000-00f067aa0ba902b7-01"],
    ["all-zero span id", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"],
    ["uppercase hex", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"],
    ["uppercase flags", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A"],
    ["short trace id", "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01"],
    ["long span id", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b70-01"],
    ["one-digit flags", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1"],
    ["another version", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"],
    ["invalid version ff", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"],
    ["trailing data", `${EXAMPLE}-extra`],
    ["surrounding space", ` ${EXAMPLE}`],
    ["non-hex digit", "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01"],
    ["wrong separator", "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01"],
    ["empty", ""],
  ])("rejects %s", (_case, header) => {
    expect(parseTraceparent(header)).toBeUndefined();
  });

  it("treats a missing header as no context", () => {
    expect(parseTraceparent(undefined)).toBeUndefined();
    expect(parseTraceparent(null)).toBeUndefined();
  });
});

describe("formatTraceparent", () => {
  it("round-trips every valid context", () => {
    const hex = (length: number): fc.Arbitrary<string> =>
      fc.stringMatching(new RegExp(`^[0-9a-f]{${length}}$`)).filter((s) => !/^0+$/.test(s));
    fc.assert(
      fc.property(fc.record({ traceId: hex(32), spanId: hex(16), sampled: fc.boolean() }), (context: TraceContext) => {
        const header = formatTraceparent(context);
        expect(header).toHaveLength(55);
        expect(parseTraceparent(header)).toEqual(context);
      }),
    );
    expect(formatTraceparent(parseTraceparent(EXAMPLE) as TraceContext)).toBe(EXAMPLE);
  });

  it("refuses to write ids a receiver would reject", () => {
    const valid = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", sampled: true };
    expect(() => formatTraceparent({ ...valid, traceId: "0".repeat(32) })).toThrow(RangeError);
    expect(() => formatTraceparent({ ...valid, spanId: "00F067AA0BA902B7" })).toThrow(/span id must be 16 lowercase hex digits/);
    expect(() => formatTraceparent({ ...valid, traceId: "abc" })).toThrow(/trace id must be 32 lowercase hex digits/);
  });
});

describe("newTrace and childSpan", () => {
  it("start sampled traces with fresh valid ids", () => {
    const a = newTrace();
    const b = newTrace();
    expect(parseTraceparent(formatTraceparent(a))).toEqual(a);
    expect(a.sampled).toBe(true);
    expect(a.traceId).not.toBe(b.traceId);
    expect(a.spanId).not.toBe(b.spanId);
  });

  it("keep the trace and its sampling, with a new span id", () => {
    const parent = { ...newTrace(), sampled: false };
    const child = childSpan(parent);
    expect(child.traceId).toBe(parent.traceId);
    expect(child.sampled).toBe(false);
    expect(child.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(child.spanId).not.toBe(parent.spanId);
  });
});
