import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  PackageFailure,
  discoverPlugins,
  installPackage,
  packPluginFolder,
  pluginFolderName,
  readPackage,
  type InstalledPlugin,
} from "@tonearm/packages";
import { EMPTY_MODULE, manifestJson, validPackage, zipArchive } from "./zip-writer.js";

let root: string;
let plugins: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "tonearm-ndp-install-"));
  plugins = join(root, "plugins");
  await mkdir(plugins);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const pkg = (name: string, version = "1.0.0", extra: Parameters<typeof validPackage>[1] = []) =>
  readPackage(validPackage(name, extra, { version }));

/** Every path under `dir`, hidden ones included, so leftovers show. */
async function tree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).sort();
}

describe("installPackage: install", () => {
  it("extracts into the folder named after the plugin, folders 0700 and files 0600, and discovery loads it", async () => {
    const installed = await installPackage(plugins, await pkg("test-plugin", "1.0.0", [{ name: "docs/guide.md", data: "g" }]), { mode: "install" });
    expect(installed).toMatchObject({ id: "test-plugin", path: join(plugins, "test-plugin") });
    expect(await tree(plugins)).toEqual(["test-plugin", "test-plugin/docs", "test-plugin/docs/guide.md", "test-plugin/manifest.json", "test-plugin/plugin.wasm"]);
    expect((await stat(join(plugins, "test-plugin"))).mode & 0o777).toBe(0o700);
    expect((await stat(join(plugins, "test-plugin", "docs"))).mode & 0o777).toBe(0o700);
    expect((await stat(join(plugins, "test-plugin", "plugin.wasm"))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(plugins, "test-plugin", "manifest.json"), "utf8")).toBe(manifestJson("test-plugin"));
    const [found] = await discoverPlugins(plugins);
    expect(found).toMatchObject({ id: "test-plugin", ok: true });
  });

  it("writes the manifest and module under their canonical names", async () => {
    const upper = await readPackage(zipArchive([{ name: "Manifest.JSON", data: manifestJson("upper") }, { name: "PLUGIN.WASM", data: EMPTY_MODULE }]));
    await installPackage(plugins, upper, { mode: "install" });
    expect(await tree(join(plugins, "upper"))).toEqual(["manifest.json", "plugin.wasm"]);
  });

  it("creates a missing plugins folder", async () => {
    const folder = join(root, "new", "plugins");
    await installPackage(folder, await pkg("p"), { mode: "install" });
    expect(await tree(folder)).toEqual(["p", "p/manifest.json", "p/plugin.wasm"]);
  });

  it("refuses a plugin that is already installed and leaves it as it was", async () => {
    await installPackage(plugins, await pkg("test-plugin"), { mode: "install" });
    await expect(installPackage(plugins, await pkg("test-plugin", "2.0.0"), { mode: "install" })).rejects.toMatchObject({
      code: PackageFailure.AlreadyInstalled,
      message: `Plugin already installed: test-plugin (path: ${join(plugins, "test-plugin")}); use \`plugin update\``,
    });
    expect(JSON.parse(await readFile(join(plugins, "test-plugin", "manifest.json"), "utf8"))).toMatchObject({ version: "1.0.0" });
    expect(await tree(plugins)).toEqual(["test-plugin", "test-plugin/manifest.json", "test-plugin/plugin.wasm"]);
  });

  it("refuses a module that is not WebAssembly and leaves nothing behind", async () => {
    const bad = await readPackage(zipArchive([{ name: "manifest.json", data: manifestJson("bad") }, { name: "plugin.wasm", data: "not wasm" }]));
    await expect(installPackage(plugins, bad, { mode: "install" })).rejects.toMatchObject({
      code: PackageFailure.InvalidWasm,
      message: "plugin.wasm is not a valid WebAssembly module",
    });
    expect(await tree(plugins)).toEqual([]);
  });

  it("undoes the install when the check of the installed version fails", async () => {
    let seen: InstalledPlugin | undefined;
    const verify = async (plugin: InstalledPlugin) => {
      seen = plugin;
      expect(await tree(plugin.path)).toEqual(["manifest.json", "plugin.wasm"]);
      throw new Error('"get" is not exported in module "env"');
    };
    await expect(installPackage(plugins, await pkg("test-plugin"), { mode: "install", verify })).rejects.toMatchObject({
      code: PackageFailure.Rejected,
      message: `plugin 'test-plugin' v1.0.0 did not load, nothing was installed: "get" is not exported in module "env"`,
    });
    expect(seen?.id).toBe("test-plugin");
    expect(await tree(plugins)).toEqual([]);
  });

  it("reports each step", async () => {
    const steps: string[] = [];
    await installPackage(plugins, await pkg("p"), { mode: "install", verify: async () => undefined, onStep: (s) => steps.push(s) });
    expect(steps).toEqual(["extracting p", "checking p", "verifying p"]);
  });
});

describe("installPackage: the target folder's name", () => {
  it.each([
    ["../../escape", "_.._escape"],
    ["a/b", "a_b"],
    [" .hidden", "hidden"],
    ["C:\\evil", "C__evil"],
    ["LastFM Agent", "LastFM Agent"],
    ["ünïcode", "ünïcode"],
    ["nul\u0000byte", "nul_byte"],
  ])("installs a plugin named %j into %j, inside the plugins folder", async (name, folder) => {
    expect(pluginFolderName(name)).toBe(folder);
    const installed = await installPackage(plugins, await pkg(name), { mode: "install" });
    expect(installed.id).toBe(folder);
    expect(await readdir(plugins)).toEqual([folder]);
    expect(await readdir(root)).toEqual(["plugins"]);
  });

  it.each(["", "...", ". .", "   "])("refuses the name %j that leaves no folder name", async (name) => {
    await expect(installPackage(plugins, await pkg(name), { mode: "install" })).rejects.toMatchObject({ code: PackageFailure.InvalidName });
    expect(await tree(plugins)).toEqual([]);
  });
});

describe("installPackage: update", () => {
  it("replaces the installed version and keeps no backup", async () => {
    await installPackage(plugins, await pkg("test-plugin", "1.0.0", [{ name: "OLD.md", data: "old" }]), { mode: "install" });
    const updated = await installPackage(plugins, await pkg("test-plugin", "2.0.0"), { mode: "update" });
    expect(updated.manifest.version).toBe("2.0.0");
    expect(await tree(plugins)).toEqual(["test-plugin", "test-plugin/manifest.json", "test-plugin/plugin.wasm"]);
    expect(JSON.parse(await readFile(join(plugins, "test-plugin", "manifest.json"), "utf8"))).toMatchObject({ version: "2.0.0" });
  });

  it("refuses to update a plugin that is not installed", async () => {
    await expect(installPackage(plugins, await pkg("test-plugin"), { mode: "update" })).rejects.toMatchObject({
      code: PackageFailure.PluginNotFound,
      message: `Plugin not found: test-plugin (path: ${join(plugins, "test-plugin")}); use \`plugin install\``,
    });
    expect(await tree(plugins)).toEqual([]);
  });

  it("keeps the installed version when the new module is not WebAssembly", async () => {
    await installPackage(plugins, await pkg("test-plugin"), { mode: "install" });
    const before = await readFile(join(plugins, "test-plugin", "manifest.json"));
    const bad = await readPackage(zipArchive([{ name: "manifest.json", data: manifestJson("test-plugin", { version: "2.0.0" }) }, { name: "plugin.wasm", data: "junk" }]));
    await expect(installPackage(plugins, bad, { mode: "update" })).rejects.toMatchObject({ code: PackageFailure.InvalidWasm });
    expect(await readFile(join(plugins, "test-plugin", "manifest.json"))).toEqual(before);
    expect(await tree(plugins)).toEqual(["test-plugin", "test-plugin/manifest.json", "test-plugin/plugin.wasm"]);
  });

  it("rolls back to the previous version when the new one fails its check, keeping the backup until then", async () => {
    await installPackage(plugins, await pkg("test-plugin", "1.0.0", [{ name: "README.md", data: "v1" }]), { mode: "install" });
    const verify = async (plugin: InstalledPlugin) => {
      expect(plugin.manifest.version).toBe("2.0.0");
      const entries = await readdir(plugins);
      expect(entries.filter((e) => e.startsWith(".test-plugin.bak."))).toHaveLength(1);
      throw new Error("failed verification");
    };
    await expect(installPackage(plugins, await pkg("test-plugin", "2.0.0"), { mode: "update", verify })).rejects.toMatchObject({
      code: PackageFailure.Rejected,
      message: "plugin 'test-plugin' v2.0.0 did not load, the previous version was restored: failed verification",
    });
    expect(await tree(plugins)).toEqual(["test-plugin", "test-plugin/README.md", "test-plugin/manifest.json", "test-plugin/plugin.wasm"]);
    expect(JSON.parse(await readFile(join(plugins, "test-plugin", "manifest.json"), "utf8"))).toMatchObject({ version: "1.0.0" });
    expect(await readFile(join(plugins, "test-plugin", "README.md"), "utf8")).toBe("v1");
  });

  it("replaces a development symlink with the package and keeps the development folder", async () => {
    const dev = join(root, "dev");
    await mkdir(dev);
    await writeFile(join(dev, "manifest.json"), manifestJson("test-plugin"));
    await symlink(dev, join(plugins, "test-plugin"));
    await installPackage(plugins, await pkg("test-plugin", "2.0.0"), { mode: "update" });
    expect((await lstat(join(plugins, "test-plugin"))).isDirectory()).toBe(true);
    expect(await tree(dev)).toEqual(["manifest.json"]);
    expect(await tree(plugins)).toEqual(["test-plugin", "test-plugin/manifest.json", "test-plugin/plugin.wasm"]);
  });
});

describe("packPluginFolder", () => {
  it("packs manifest, module and top-level documents into a package that reads back the same", async () => {
    const dir = join(root, "src");
    await mkdir(join(dir, "node_modules"), { recursive: true });
    await writeFile(join(dir, "manifest.json"), manifestJson("packed"));
    await writeFile(join(dir, "plugin.wasm"), EMPTY_MODULE);
    await writeFile(join(dir, "README.md"), "# packed");
    await writeFile(join(dir, "LICENSE"), "GPL");
    await writeFile(join(dir, "main.go"), "package main");
    const packed = await packPluginFolder(dir);
    expect(packed.entries).toEqual(["manifest.json", "plugin.wasm", "LICENSE", "README.md"]);
    const read = await readPackage(packed.bytes);
    expect(read.manifestJson).toBe(manifestJson("packed"));
    expect(read.wasm).toEqual(EMPTY_MODULE);
    expect([...read.docs.keys()]).toEqual(["LICENSE", "README.md"]);
  });

  it("refuses a folder that would not load", async () => {
    const dir = join(root, "src");
    await mkdir(dir);
    await expect(packPluginFolder(dir)).rejects.toMatchObject({ code: PackageFailure.InvalidManifest, message: /^failed to load manifest: failed to read manifest file: open / });
    await writeFile(join(dir, "manifest.json"), manifestJson("p"));
    await expect(packPluginFolder(dir)).rejects.toMatchObject({ code: PackageFailure.InvalidWasm, message: /^no plugin\.wasm found: / });
    await writeFile(join(dir, "plugin.wasm"), "junk");
    await expect(packPluginFolder(dir)).rejects.toMatchObject({ code: PackageFailure.InvalidWasm });
  });
});
