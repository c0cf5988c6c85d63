import { lstat, mkdir, mkdtemp, readdir, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PackageFailure, linkDevPlugin, removePlugin } from "@tonearm/packages";
import { manifestJson } from "./zip-writer.js";

let root: string;
let plugins: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "tonearm-entries-"));
  plugins = join(root, "plugins");
  await mkdir(plugins);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function sourceFolder(name: string, manifest?: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  if (manifest !== undefined) await writeFile(join(dir, "manifest.json"), manifest);
  return dir;
}

describe("removePlugin", () => {
  it("removes a plugin folder with everything in it", async () => {
    await mkdir(join(plugins, "regular-plugin", "docs"), { recursive: true });
    await writeFile(join(plugins, "regular-plugin", "docs", "x"), "x");
    expect(await removePlugin(plugins, "regular-plugin")).toEqual({ id: "regular-plugin", path: join(plugins, "regular-plugin"), symlink: false });
    expect(await readdir(plugins)).toEqual([]);
  });

  it("removes only the link of a development plugin, and a dangling link too", async () => {
    const dev = await sourceFolder("dev", manifestJson("dev-plugin"));
    await symlink(dev, join(plugins, "dev-plugin"));
    await symlink(join(root, "gone"), join(plugins, "dangling"));
    expect(await removePlugin(plugins, "dev-plugin")).toMatchObject({ symlink: true });
    expect(await removePlugin(plugins, "dangling")).toMatchObject({ symlink: true });
    expect(await readdir(plugins)).toEqual([]);
    expect(await readdir(dev)).toEqual(["manifest.json"]);
  });

  it("refuses a missing plugin with Navidrome's text", async () => {
    await expect(removePlugin(plugins, "nope")).rejects.toMatchObject({
      code: PackageFailure.PluginNotFound,
      message: `plugin not found: nope (path: ${join(plugins, "nope")})`,
    });
  });

  it("refuses a regular file", async () => {
    await writeFile(join(plugins, "file"), "x");
    await expect(removePlugin(plugins, "file")).rejects.toMatchObject({
      code: PackageFailure.NotAPluginDirectory,
      message: `not a valid plugin directory: ${join(plugins, "file")}`,
    });
    expect(await readdir(plugins)).toEqual(["file"]);
  });

  it.each(["..", "../plugins", "a/b", ".", ""])("refuses the id %j, which would reach outside the plugins folder", async (id) => {
    await expect(removePlugin(plugins, id)).rejects.toMatchObject({ code: PackageFailure.InvalidName });
    expect(await readdir(root)).toEqual(["plugins"]);
  });
});

describe("linkDevPlugin", () => {
  const never = { confirmReplace: () => Promise.reject(new Error("should not ask")) };

  it("links the folder under its manifest's name; plugin.wasm may come later", async () => {
    const dev = await sourceFolder("my-dev-folder", manifestJson("dev-plugin"));
    const link = await linkDevPlugin(plugins, dev, never);
    expect(link).toEqual({ id: "dev-plugin", target: join(plugins, "dev-plugin"), source: dev });
    expect(await readlink(join(plugins, "dev-plugin"))).toBe(dev);
  });

  it("uses the folder's name when the manifest's name is empty, and creates the plugins folder", async () => {
    const dev = await sourceFolder("unnamed", manifestJson(""));
    const folder = join(root, "new-plugins");
    expect((await linkDevPlugin(folder, dev, never)).target).toBe(join(folder, "unnamed"));
  });

  it("refuses sources that are no plugin folders with Navidrome's texts", async () => {
    const missing = join(root, "missing");
    await expect(linkDevPlugin(plugins, missing, never)).rejects.toMatchObject({
      code: PackageFailure.InvalidSource,
      message: `source folder not found: ${missing} (stat ${missing}: no such file or directory)`,
    });
    await writeFile(join(root, "file"), "x");
    await expect(linkDevPlugin(plugins, join(root, "file"), never)).rejects.toMatchObject({
      message: `source path is not a directory: ${join(root, "file")}`,
    });
    const empty = await sourceFolder("empty");
    await expect(linkDevPlugin(plugins, empty, never)).rejects.toMatchObject({ message: `source folder missing manifest.json: ${empty}` });
    const broken = await sourceFolder("broken", "{");
    await expect(linkDevPlugin(plugins, broken, never)).rejects.toMatchObject({ code: PackageFailure.InvalidManifest });
    expect(await readdir(plugins)).toEqual([]);
  });

  it("refuses to link again what is already linked", async () => {
    const dev = await sourceFolder("dev", manifestJson("dev-plugin"));
    await linkDevPlugin(plugins, dev, never);
    await expect(linkDevPlugin(plugins, dev, never)).rejects.toMatchObject({ code: PackageFailure.AlreadyLinked, message: "symlink already exists" });
  });

  it("asks before replacing another entry: no keeps it, yes replaces it", async () => {
    await mkdir(join(plugins, "dev-plugin"));
    await writeFile(join(plugins, "dev-plugin", "keep"), "x");
    const dev = await sourceFolder("dev", manifestJson("dev-plugin"));
    const asked: string[] = [];
    const answer = (yes: boolean) => ({ confirmReplace: async (target: string) => (asked.push(target), yes) });
    await expect(linkDevPlugin(plugins, dev, answer(false))).rejects.toMatchObject({ code: PackageFailure.Canceled, message: "operation canceled" });
    expect(await readdir(join(plugins, "dev-plugin"))).toEqual(["keep"]);
    await linkDevPlugin(plugins, dev, answer(true));
    expect((await lstat(join(plugins, "dev-plugin"))).isSymbolicLink()).toBe(true);
    expect(asked).toEqual([join(plugins, "dev-plugin"), join(plugins, "dev-plugin")]);
  });
});
