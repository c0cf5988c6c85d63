// `.ndp` package reading (@tonearm/packages readPackage) fed hostile archives: damaged packages
// (bytes flipped, truncated, spliced), entries named to escape the plugin folder, lying size
// headers, bombs and floods of entries. It reads a package whose every path stays inside it, or
// refuses with a PackageError, nothing else, and never wedges.
import { PackageError, readPackage, type PluginPackage } from "@tonearm/packages";
import fc from "fast-check";
import { posix } from "node:path";
import { describe, expect, it } from "vitest";
import { validPackage, zipArchive, type RawEntry } from "../../libs/packages/test/zip-writer.js";
import { awkwardText, callsFinishWithin, libraryEntry } from "./support.js";

const README = { name: "README.md", data: "# Fixture\n".repeat(40) };
const BASE = validPackage("fuzzed", [README, { name: "docs/usage.txt", data: "use it" }]);

/** What a package that was read may hold: docs only under relative paths that stay inside. */
function expectContained(pkg: PluginPackage): void {
  for (const path of pkg.docs.keys()) {
    expect(path.startsWith("/") || /^[A-Za-z]:/.test(path) || path.includes("\0"), path).toBe(false);
    expect(posix.normalize(path).split("/"), path).not.toContain("..");
  }
}

async function read(bytes: Uint8Array): Promise<PluginPackage | PackageError> {
  try {
    return await readPackage(bytes);
  } catch (err) {
    if (err instanceof PackageError) return err;
    throw new Error(`readPackage threw ${String(err)}`, { cause: err });
  }
}

/** The base package with a few edits: bytes replaced, spans cut or repeated, or cut short. */
const damaged = fc
  .array(fc.tuple(fc.constantFrom("flip", "cut", "repeat", "truncate"), fc.nat(), fc.nat(64), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 })
  .map((edits) =>
    edits.reduce<Buffer>((bytes, [kind, at, length, mask]) => {
      const i = at % Math.max(1, bytes.length);
      if (kind === "flip") {
        const copy = Buffer.from(bytes);
        copy[i] = (copy[i] ?? 0) ^ mask;
        return copy;
      }
      if (kind === "cut") return Buffer.concat([bytes.subarray(0, i), bytes.subarray(i + length)]);
      if (kind === "repeat") return Buffer.concat([bytes.subarray(0, i + length), bytes.subarray(i, i + length), bytes.subarray(i + length)]);
      return bytes.subarray(0, i);
    }, BASE),
  );

const hostileName = fc.oneof(
  fc.constantFrom("../evil", "a/../../evil", "/etc/passwd", "C:\\evil", "C:evil", "a\\..\\..\\evil", "..\\evil", "a/./../b", "docs/..", "nul\0byte", "", "/", "./README", "docs//x", "README.md"),
  fc.tuple(fc.constantFrom("", "docs/", "./", "a/b/"), awkwardText(6)).map(([dir, name]) => dir + name),
  // Long, up to what a ZIP header can hold (65 535 bytes).
  fc.integer({ min: 150, max: 30_000 }).map((n) => `${"d/".repeat(n)}x`),
);
const extraEntry: fc.Arbitrary<RawEntry> = fc.record({
  name: hostileName,
  data: awkwardText(6),
  method: fc.constantFrom("store" as const, "deflate" as const),
  unixMode: fc.constantFrom(0o100644, 0o120777, 0o040755, 0o010644, 0o140644, 0),
  declaredSize: fc.option(fc.constantFrom(0, 1, 2 ** 31, 2 ** 32 - 1), { nil: undefined }),
  flags: fc.constantFrom(0, 1, 8),
});

describe(".ndp package fuzz", () => {
  it("reads the fixture package it is built from", async () => {
    const pkg = await read(BASE);
    expect(pkg).not.toBeInstanceOf(PackageError);
    expect([...(pkg as PluginPackage).docs.keys()].sort()).toEqual(["README.md", "docs/usage.txt"]);
  });

  it("reads damaged packages or refuses them with a PackageError, within a time limit", async () => {
    const inputs = fc.sample(damaged, 300);
    const outcomes = await callsFinishWithin(libraryEntry("packages"), "readPackage", inputs.map((bytes) => [new Uint8Array(bytes)]), 60_000);
    for (const outcome of outcomes) {
      if (outcome.ok) expectContained(outcome.value as PluginPackage);
      else expect(outcome.name, outcome.message).toBe("PackageError");
    }
    // Most damage is caught; some (inside a README, say) leaves a readable package.
    expect(outcomes.some((o) => !o.ok)).toBe(true);
  }, 90_000);

  it("keeps every entry inside the package, whatever names, types and sizes its headers claim", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(extraEntry, { maxLength: 4 }), async (extra) => {
        const result = await read(validPackage("hostile", extra));
        if (!(result instanceof PackageError)) expectContained(result);
      }),
      { numRuns: 300 },
    );
  });

  it("refuses a bomb, a flood of entries and lying sizes by their limits", async () => {
    const bomb = validPackage("bomb", [{ name: "README.md", data: Buffer.alloc(20 * 1024 * 1024) }]);
    expect(bomb.length).toBeLessThan(100_000);
    expect(await read(bomb)).toMatchObject({ code: "too_large" });
    const flood = zipArchive(Array.from({ length: 1_500 }, (_, i) => ({ name: `f${i}`, data: "" })));
    expect(await read(flood)).toMatchObject({ code: "too_large" });
    const lying = validPackage("liar", [{ name: "README.md", data: Buffer.alloc(64 * 1024), declaredSize: 10 }]);
    expect(await read(lying)).toBeInstanceOf(PackageError);
  });
});
