// Manifest parsing (@tonearm/manifest) fed what a hostile package may hold: arbitrary text and
// JSON, valid manifests with bytes flipped, spans cut or repeated, and pathological nesting. It
// accepts or refuses with a ManifestError (Navidrome's texts), nothing else; what it accepts has
// the fields the runtime relies on, and parsing again gives the same result.
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { ManifestError, parseManifest, type PluginManifest } from "@tonearm/manifest";
import { fixturePaths } from "@tonearm/test-harness";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { awkwardText } from "./support.js";

let manifests: string[] = [];

beforeAll(async () => {
  const root = fixturePaths.folder("plugins");
  manifests = await Promise.all((await readdir(root)).map((id) => readFile(join(root, id, "manifest.json"), "utf8")));
});

/** The manifest, or the ManifestError refusing it; any other failure fails the test. */
function parse(text: string): PluginManifest | ManifestError {
  try {
    return parseManifest(text);
  } catch (err) {
    if (err instanceof ManifestError) return err;
    throw new Error(`parseManifest threw ${String(err)} for ${JSON.stringify(text.slice(0, 200))}`, { cause: err });
  }
}

function expectWellFormed(result: PluginManifest | ManifestError, text: string): void {
  if (result instanceof ManifestError) {
    expect(result.message).toMatch(/\S/);
    return;
  }
  expect(typeof result.name).toBe("string");
  expect(typeof result.version).toBe("string");
  expect(Array.isArray(result.capabilities)).toBe(true);
  expect(parseManifest(text)).toEqual(result);
}

/** One of the fixture manifests with a few edits: bytes replaced, spans cut or repeated. */
const mutatedManifest = fc
  .tuple(fc.nat(), fc.array(fc.tuple(fc.constantFrom("replace", "cut", "repeat"), fc.nat(), fc.nat(40), awkwardText(3)), { minLength: 1, maxLength: 4 }))
  .map(([pick, edits]) =>
    edits.reduce((text, [kind, at, length, piece]) => {
      const i = at % (text.length + 1);
      if (kind === "replace") return text.slice(0, i) + piece + text.slice(i + 1);
      if (kind === "cut") return text.slice(0, i) + text.slice(i + length);
      return text.slice(0, i) + text.slice(i, i + length).repeat(3) + text.slice(i + length);
    }, manifests[pick % manifests.length] ?? "{}"),
  );

describe("manifest fuzz", () => {
  it("accepts or refuses arbitrary text with a ManifestError", () => {
    fc.assert(
      fc.property(fc.oneof(awkwardText(30), fc.json({ maxDepth: 4 }), fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v))), (text) => {
        expectWellFormed(parse(text), text);
      }),
    );
  });

  it("accepts or refuses edited manifests with a ManifestError", () => {
    fc.assert(
      fc.property(mutatedManifest, (text) => {
        expectWellFormed(parse(text), text);
      }),
      { numRuns: 1_000 },
    );
  });

  it("accepts or refuses manifests whose fields hold any JSON value", () => {
    const fields = ["name", "author", "version", "description", "website", "capabilities", "permissions", "__proto__", "constructor"];
    fc.assert(
      fc.property(fc.nat(), fc.dictionary(fc.constantFrom(...fields), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }), (pick, replaced) => {
        const base = JSON.parse(manifests[pick % manifests.length] ?? "{}") as Record<string, unknown>;
        const text = JSON.stringify({ ...base, ...replaced });
        expectWellFormed(parse(text), text);
      }),
    );
  });

  it("refuses pathological documents with a ManifestError", () => {
    const deep = (open: string, close: string, depth: number): string => open.repeat(depth) + close.repeat(depth);
    for (const text of [
      deep("[", "]", 200_000),
      `{"name":${deep("[", "]", 200_000)}}`,
      `{"permissions":{"http":{"reason":"r","allowedUrls":{"a":${deep("[", "]", 100_000)}}}}}`,
      `{"capabilities":["${"MetadataAgent".repeat(100_000)}"]}`,
      "\uFEFF{}",
      "{\"name\":\"\\ud800\"}",
      "1e999999",
      "",
    ]) {
      expect(parse(text)).toBeInstanceOf(ManifestError);
    }
  });
});
