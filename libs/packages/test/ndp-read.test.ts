import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PackageError, PackageFailure, readPackage, readPackageFile, type PackageLimits } from "@tonearm/packages";
import { EMPTY_MODULE, manifestJson, validPackage, zipArchive, type RawEntry } from "./zip-writer.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tonearm-ndp-read-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function refusal(bytes: Uint8Array, limits?: PackageLimits): Promise<PackageError> {
  const error: unknown = await readPackage(bytes, limits).then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(error instanceof PackageError)) throw new Error(`expected a PackageError, got ${String(error)}`);
  return error;
}

const withEntry = (entry: RawEntry): Buffer => validPackage("test-plugin", [entry]);

describe("readPackage: what a package holds", () => {
  it("reads the manifest, the module and every other file as documentation", async () => {
    const bytes = validPackage("test-plugin", [
      { name: "README.md", data: "# readme" },
      { name: "docs/", data: "", unixMode: 0o040755 },
      { name: "docs/guide.md", data: "guide", method: "store" },
    ]);
    const pkg = await readPackage(bytes);
    expect(pkg.manifest).toMatchObject({ name: "test-plugin", author: "Test Author", version: "1.0.0" });
    expect(pkg.manifestJson).toBe(manifestJson("test-plugin"));
    expect(pkg.wasm).toEqual(EMPTY_MODULE);
    expect([...pkg.docs.keys()]).toEqual(["README.md", "docs/guide.md"]);
    expect(new TextDecoder().decode(pkg.docs.get("docs/guide.md"))).toBe("guide");
  });

  it("finds manifest.json and plugin.wasm whatever their letter case, at the archive root only", async () => {
    const pkg = await readPackage(
      zipArchive([
        { name: "MANIFEST.JSON", data: manifestJson("upper") },
        { name: "Plugin.Wasm", data: EMPTY_MODULE },
        { name: "sub/plugin.wasm", data: "not the module" },
      ]),
    );
    expect(pkg.manifest.name).toBe("upper");
    expect(pkg.wasm).toEqual(EMPTY_MODULE);
    expect([...pkg.docs.keys()]).toEqual(["sub/plugin.wasm"]);
  });

  it("names a missing manifest or module with Navidrome's text", async () => {
    const noManifest = await refusal(zipArchive([{ name: "plugin.wasm", data: EMPTY_MODULE }]));
    expect(noManifest).toMatchObject({ code: PackageFailure.MissingManifest, message: "failed to load plugin package: plugin package missing required manifest.json" });
    const noWasm = await refusal(zipArchive([{ name: "manifest.json", data: manifestJson("x") }]));
    expect(noWasm).toMatchObject({ code: PackageFailure.MissingWasm, message: "failed to load plugin package: plugin package missing required plugin.wasm" });
  });

  it("refuses an invalid manifest with the loader's text", async () => {
    const bytes = zipArchive([{ name: "manifest.json", data: '{"name":"x"}' }, { name: "plugin.wasm", data: EMPTY_MODULE }]);
    expect(await refusal(bytes)).toMatchObject({
      code: PackageFailure.InvalidManifest,
      message: "failed to load plugin package: invalid manifest: field author in PluginManifest: required",
    });
    const notJson = zipArchive([{ name: "manifest.json", data: "{" }, { name: "plugin.wasm", data: EMPTY_MODULE }]);
    expect((await refusal(notJson)).message).toMatch(/^failed to load plugin package: invalid manifest: /);
  });

  it("refuses what is not a ZIP archive", async () => {
    const error = await refusal(new TextEncoder().encode("not a zip at all, just text"));
    expect(error.code).toBe(PackageFailure.Unreadable);
    expect(error.message).toMatch(/^failed to load plugin package: error opening \.ndp file: /);
  });
});

describe("readPackage: hostile entries", () => {
  it.each(["../evil.sh", "docs/../../evil.sh", "..\\evil.sh", "a..b.txt", "/etc/evil", "C:/evil", "C:\\evil", "nul\0.txt"])(
    "refuses the entry %j as an illegal path (Zip Slip)",
    async (name) => {
      const error = await refusal(withEntry({ name, data: "x" }));
      expect(error.code).toBe(PackageFailure.IllegalPath);
      expect(error.message).toMatch(/^failed to load plugin package: illegal file path in plugin package: /);
    },
  );

  it("refuses a symlink entry, whatever it points at", async () => {
    const error = await refusal(withEntry({ name: "link", data: "/etc/passwd", unixMode: 0o120777 }));
    expect(error).toMatchObject({
      code: PackageFailure.IllegalEntryType,
      message: "failed to load plugin package: illegal file type in plugin package: link (symbolic link)",
    });
    const asModule = zipArchive([{ name: "manifest.json", data: manifestJson("x") }, { name: "plugin.wasm", data: "/etc/passwd", unixMode: 0o120777 }]);
    expect((await refusal(asModule)).code).toBe(PackageFailure.IllegalEntryType);
  });

  it("refuses devices and pipes", async () => {
    expect((await refusal(withEntry({ name: "fifo", unixMode: 0o010644 }))).message).toContain("(named pipe)");
  });

  it("refuses an entry declared bigger than the limit before inflating it, with Navidrome's text", async () => {
    const error = await refusal(withEntry({ name: "big.bin", data: "small", declaredSize: 11 * 1024 * 1024 }));
    expect(error).toMatchObject({
      code: PackageFailure.TooLarge,
      message: "failed to load plugin package: error extracting file: size exceeds limit (10485760 bytes) for big.bin",
    });
  });

  it("refuses a real entry over the limit, and one that inflates to more than it declares", async () => {
    const big = new Uint8Array(10 * 1024 * 1024 + 1);
    expect((await refusal(withEntry({ name: "zeros.bin", data: big }))).code).toBe(PackageFailure.TooLarge);
    const lying = await refusal(withEntry({ name: "bomb.bin", data: new Uint8Array(100_000), declaredSize: 10 }));
    expect(lying.code).toBe(PackageFailure.Unreadable);
    expect(lying.message).toMatch(/^failed to load plugin package: error reading file in plugin package: bomb\.bin: /);
  });

  it("holds the total size and the number of entries to their limits", async () => {
    const twoFiles = withEntry({ name: "a.bin", data: new Uint8Array(600) });
    expect((await refusal(twoFiles, { maxTotalBytes: 500 })).message).toBe(
      "failed to load plugin package: plugin package is larger than the limit of 500 bytes uncompressed",
    );
    expect((await refusal(twoFiles, { maxEntries: 2 })).message).toBe(
      "failed to load plugin package: plugin package has 3 entries, more than the limit of 2",
    );
  });

  it.each([
    ["manifest.json", "a second manifest"],
    ["./manifest.json", "a manifest by another spelling"],
    ["PLUGIN.WASM", "a second module"],
  ])("refuses %j (%s) as a duplicate", async (name) => {
    const error = await refusal(withEntry({ name, data: "x" }));
    expect(error).toMatchObject({ code: PackageFailure.DuplicateEntry, message: `failed to load plugin package: duplicate file in plugin package: ${name}` });
  });

  it("refuses two documents that differ only in letter case", async () => {
    const error = await refusal(validPackage("x", [{ name: "docs/a.md" }, { name: "DOCS/A.md" }]));
    expect(error.code).toBe(PackageFailure.DuplicateEntry);
  });

  it("refuses encrypted entries", async () => {
    expect(await refusal(withEntry({ name: "secret", data: "x", flags: 1 }))).toMatchObject({
      code: PackageFailure.UnsupportedEntry,
      message: "failed to load plugin package: encrypted file in plugin package: secret",
    });
  });
});

describe("readPackageFile", () => {
  it("reads a package file", async () => {
    const file = join(dir, "test-plugin.ndp");
    await writeFile(file, validPackage("test-plugin"));
    expect((await readPackageFile(file)).manifest.name).toBe("test-plugin");
  });

  it("refuses a missing file and a file without the .ndp extension with Navidrome's texts", async () => {
    const missing = join(dir, "missing.ndp");
    await expect(readPackageFile(missing)).rejects.toMatchObject({ code: PackageFailure.NotFound, message: `plugin package not found: ${missing}` });
    const zip = join(dir, "test-plugin.zip");
    await writeFile(zip, validPackage("test-plugin"));
    await expect(readPackageFile(zip)).rejects.toMatchObject({
      code: PackageFailure.NotAPackage,
      message: `not a valid plugin package: ${zip} (expected .ndp extension)`,
    });
  });
});
