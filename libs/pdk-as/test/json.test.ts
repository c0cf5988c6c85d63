// The PDK's JSON reader and writer (assembly/json.ts), compiled into a small plugin and compared
// with the JavaScript engine's JSON on generated documents.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { findMethod } from "@tonearm/abi";
import { api } from "@tonearm/proto";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { buildPlugin } from "../src/index.js";
import { TestHost } from "./support/test-host.js";

let host: TestHost;

/** Equal JSON values, numbers within 4 units in the last place (the reader's bound off its exact path). */
function expectSameJson(actual: unknown, expected: unknown, path = "$"): void {
  if (typeof expected === "number" && typeof actual === "number") {
    const tolerance = 4 * Number.EPSILON * Math.max(Math.abs(expected), Number.MIN_VALUE / Number.EPSILON);
    if (Math.abs(actual - expected) > tolerance) expect(actual, path).toBe(expected);
    return;
  }
  if (Array.isArray(expected) && Array.isArray(actual)) {
    expect(actual.length, path).toBe(expected.length);
    expected.forEach((item, i) => expectSameJson(actual[i], item, `${path}[${i}]`));
    return;
  }
  if (expected !== null && typeof expected === "object" && actual !== null && typeof actual === "object") {
    expect(Object.keys(actual).sort(), path).toEqual(Object.keys(expected).sort());
    for (const [key, item] of Object.entries(expected)) expectSameJson((actual as Record<string, unknown>)[key], item, `${path}.${key}`);
    return;
  }
  expect(actual, path).toEqual(expected);
}
const exportName = findMethod("MetadataAgent", "GetArtistBiography")?.exportName ?? "";

/** What the plugin makes of `text`: the value it wrote back, or "malformed". */
function roundTrip(text: string): string {
  const out = host.call(exportName, toBinary(api.ArtistBiographyRequestSchema, create(api.ArtistBiographyRequestSchema, { name: text })));
  if (!out.ok) throw new Error(out.error);
  return fromBinary(api.ArtistBiographyResponseSchema, out.bytes).biography;
}

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), "pdk-json-"));
  const entry = fileURLToPath(new URL("./json-probe/index.ts", import.meta.url));
  const { binary } = await buildPlugin({ entry, outFile: join(dir, "plugin.wasm") });
  host = await TestHost.load(binary);
});

describe("parseJson and stringify", () => {
  it("read every JSON document the engine reads and write back the same value", () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: "grapheme", maxDepth: 6 }), (value) => {
        const text = JSON.stringify(value);
        expectSameJson(JSON.parse(roundTrip(text)), JSON.parse(text));
      }),
      { numRuns: 300 },
    );
  });

  it("read numbers exactly where a double can hold them, and any other within a few units in the last place", () => {
    for (const text of ["0", "-0.5", "0.1", "1e22", "1e23", "123456789012345", "9007199254740993", "2.5e-7", "8.0972372852390255e40"]) {
      expect(JSON.parse(roundTrip(text)), text).toBe(JSON.parse(text));
    }
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (value) => {
        expectSameJson(JSON.parse(roundTrip(JSON.stringify(value))), value === 0 ? 0 : value);
      }),
      { numRuns: 2000 },
    );
  });

  it("read escapes, surrounding space and numbers in every notation", () => {
    const text = ' { "a" : "q\\"b\\\\s\\/\\b\\f\\n\\r\\t\\u00e9\\ud83c\\udfb5" , "n": [0, -0.5, 1e3, 2E-2, 1.5e+2], "t": true, "f": false, "z": null } ';
    expect(JSON.parse(roundTrip(text))).toEqual(JSON.parse(text));
  });

  it.each([
    "",
    "{",
    '{"a":1,}',
    "[1 2]",
    "01",
    "1.",
    "-",
    ".5",
    "1e",
    '"unterminated',
    '"bad \\x escape"',
    '"raw\ncontrol"',
    "tru",
    "nul",
    "[1] trailing",
    "{'single':1}",
  ])("refuse %j", (text) => {
    expect(roundTrip(text)).toBe("malformed");
  });

  it("refuse nesting deeper than 64 levels instead of exhausting the stack", () => {
    expect(roundTrip(`${"[".repeat(64)}${"]".repeat(64)}`)).not.toBe("malformed");
    expect(roundTrip(`${"[".repeat(100_000)}${"]".repeat(100_000)}`)).toBe("malformed");
  });
});
