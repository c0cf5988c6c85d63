// `tonearm plugin remove|refresh|dev` on a plugins folder, with Navidrome's outputs and errors.
// The commands run in this process; plugin-binary.test.ts runs them through the binary.
import { cp, lstat, mkdir, readdir, readlink, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fixturePaths } from "@tonearm/test-harness";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runPluginDev, runPluginRefresh, runPluginRemove, type PluginCommandOptions } from "../dist/plugin-commands.js";
import { capture, fixtureWasm, manifestJson, removeScratch, scratchFolder, tree } from "./plugin-support.js";

let work: string;
let plugins: string;
beforeEach(async () => {
  work = await scratchFolder();
  plugins = join(work, "plugins");
  await mkdir(plugins);
});
afterEach(removeScratch);

const remove = (id: string) => capture((io) => runPluginRemove(id, { folder: plugins }, io));
const refresh = (id?: string, options: PluginCommandOptions = {}) => capture((io) => runPluginRefresh(id, { folder: plugins, ...options }, io));
const dev = (source: string, answer = "") => capture((io) => runPluginDev(source, { folder: plugins }, io), answer);

async function copyFixture(fixture: string, id = fixture): Promise<string> {
  const dir = join(plugins, id);
  await cp(fixturePaths.plugin("plugins", fixture), dir, { recursive: true });
  return dir;
}

async function devFolder(name: string, manifestName = name): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir);
  await writeFile(join(dir, "manifest.json"), manifestJson(manifestName, { capabilities: ["MetadataAgent"] }));
  return dir;
}

describe("tonearm plugin remove", () => {
  it("removes a plugin folder with Navidrome's line", async () => {
    await copyFixture("fake_artist_agent", "regular-plugin");
    expect(await remove("regular-plugin")).toEqual({ code: 0, stdout: "Plugin 'regular-plugin' removed successfully\n", stderr: "" });
    expect(await tree(plugins)).toEqual([]);
  });

  it("removes only the link of a development plugin and keeps its folder", async () => {
    const source = await devFolder("dev-source", "dev-plugin");
    await symlink(source, join(plugins, "dev-plugin"));
    expect(await remove("dev-plugin")).toEqual({
      code: 0,
      stdout: "Development plugin symlink 'dev-plugin' removed successfully (target directory preserved)\n",
      stderr: "",
    });
    expect(await readdir(plugins)).toEqual([]);
    expect(await readdir(source)).toEqual(["manifest.json"]);
  });

  it("fails for a missing plugin, a file, and an id reaching outside the folder", async () => {
    expect(await remove("nope")).toEqual({ code: 1, stdout: "", stderr: `error: plugin not found: nope (path: ${join(plugins, "nope")})\n` });
    await writeFile(join(plugins, "file"), "x");
    expect((await remove("file")).stderr).toBe(`error: not a valid plugin directory: ${join(plugins, "file")}\n`);
    expect((await remove("../plugins")).stderr).toBe('error: invalid plugin id "../plugins": a plugin id is one folder name\n');
    expect(await readdir(work)).toEqual(["plugins"]);
  });
});

describe("tonearm plugin refresh", () => {
  it("compiles one plugin with Navidrome's lines", async () => {
    await copyFixture("fake_artist_agent");
    expect(await refresh("fake_artist_agent")).toEqual({
      code: 0,
      stdout: "Refreshing plugin 'fake_artist_agent'...\nPlugin 'fake_artist_agent' refreshed successfully\n",
      stderr: "",
    });
  });

  it("fails for a plugin that does not load, naming the reason", async () => {
    await copyFixture("unauthorized_plugin");
    const run = await refresh("unauthorized_plugin");
    expect(run).toEqual({
      code: 1,
      stdout: "Refreshing plugin 'unauthorized_plugin'...\n",
      stderr: `error: plugin 'unauthorized_plugin': "get" is not exported in module "env"\n`,
    });
    const dir = await copyFixture("fake_artist_agent", "no-wasm");
    await writeFile(join(dir, "plugin.wasm"), "");
    expect((await refresh("no-wasm")).stderr).toMatch(/^error: plugin 'no-wasm': .+\n$/);
  });

  it("fails for a plugin that is not in the folder", async () => {
    expect(await refresh("nope")).toEqual({
      code: 1,
      stdout: "Refreshing plugin 'nope'...\n",
      stderr: `error: plugin not found: nope (path: ${join(plugins, "nope")})\n`,
    });
  });

  it("without an id, compiles every plugin and reports each, failing if one fails; progress when asked", async () => {
    await copyFixture("fake_artist_agent");
    await copyFixture("fake_scrobbler");
    await mkdir(join(plugins, "broken"));
    await writeFile(join(plugins, "broken", "plugin.wasm"), await fixtureWasm("fake_scrobbler"));
    const run = await refresh(undefined, { progress: true });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("Plugin 'fake_artist_agent' refreshed successfully\nPlugin 'fake_scrobbler' refreshed successfully\n");
    expect(run.stderr.split("\n")).toEqual([
      `scanning ${plugins}`,
      "[1/3] compiling broken",
      `error: plugin 'broken': failed to load manifest: failed to read manifest file: open ${join(plugins, "broken", "manifest.json")}: no such file or directory`,
      "[2/3] compiling fake_artist_agent",
      "[3/3] compiling fake_scrobbler",
      "",
    ]);
  });

  it("rewrites one progress line on a terminal and clears it", async () => {
    await copyFixture("fake_artist_agent");
    const run = await capture((io) => runPluginRefresh(undefined, { folder: plugins }, io), "", true);
    expect(run.stdout).toBe("Plugin 'fake_artist_agent' refreshed successfully\n");
    expect(run.stderr).toBe(`\r\x1b[2Kscanning ${plugins}\r\x1b[2K[1/1] compiling fake_artist_agent\r\x1b[2K`);
  });

  it("fails for a folder that cannot be read", async () => {
    const run = await capture((io) => runPluginRefresh(undefined, { folder: join(work, "missing") }, io));
    expect(run).toEqual({ code: 1, stdout: "", stderr: `error: failed to read plugins directory ${join(work, "missing")}: open ${join(work, "missing")}: no such file or directory\n` });
  });
});

describe("tonearm plugin dev", () => {
  it("links a development folder under its manifest's name with Navidrome's lines", async () => {
    const source = await devFolder("my-work", "dev-plugin");
    expect(await dev(source)).toEqual({
      code: 0,
      stdout: `Development symlink created: '${join(plugins, "dev-plugin")}' -> '${source}'\nPlugin can be refreshed with: tonearm plugin refresh dev-plugin\n`,
      stderr: "",
    });
    expect(await readlink(join(plugins, "dev-plugin"))).toBe(source);
  });

  it("refuses to link the same folder twice", async () => {
    const source = await devFolder("dev-plugin");
    await dev(source);
    expect(await dev(source)).toEqual({ code: 1, stdout: "Symlink already exists and points to the correct source\n", stderr: "error: symlink already exists\n" });
  });

  it("asks before replacing another entry: anything but y cancels, y replaces", async () => {
    const source = await devFolder("dev-plugin");
    await copyFixture("fake_artist_agent", "dev-plugin");
    const target = join(plugins, "dev-plugin");
    const prompt = `Target path '${target}' already exists.\nDo you want to replace it? (y/N): `;
    expect(await dev(source, "n\n")).toEqual({ code: 1, stdout: prompt, stderr: "error: operation canceled\n" });
    expect(await dev(source)).toEqual({ code: 1, stdout: prompt, stderr: "error: operation canceled\n" });
    expect((await lstat(target)).isDirectory()).toBe(true);
    const replaced = await dev(source, "y\n");
    expect(replaced).toMatchObject({ code: 0, stdout: `${prompt}Development symlink created: '${target}' -> '${source}'\nPlugin can be refreshed with: tonearm plugin refresh dev-plugin\n` });
    expect(await readlink(target)).toBe(source);
  });

  it("refuses what is not a plugin development folder with Navidrome's texts", async () => {
    const missing = join(work, "missing");
    expect((await dev(missing)).stderr).toBe(`error: source folder not found: ${missing} (stat ${missing}: no such file or directory)\n`);
    const empty = join(work, "empty");
    await mkdir(empty);
    expect((await dev(empty)).stderr).toBe(`error: source folder missing manifest.json: ${empty}\n`);
    expect(await readdir(plugins)).toEqual([]);
  });
});
