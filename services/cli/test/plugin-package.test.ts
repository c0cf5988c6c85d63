// `tonearm plugin pack|info|install|update` on a plugins folder: Navidrome's outputs, hostile
// packages refused with a clear error and nothing left behind, updates rolled back. The commands
// run in this process; plugin-binary.test.ts runs them through the binary.
import { mkdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fixturePaths } from "@tonearm/test-harness";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runPluginInfo, runPluginInstall, runPluginPack, runPluginUpdate, type PluginCommandOptions } from "../dist/plugin-commands.js";
import { capture, fixturePackage, fixtureWasm, manifestJson, removeScratch, scratchFolder, tonearm, tree, writePackage, zipArchive, type RawEntry } from "./plugin-support.js";

let work: string;
let plugins: string;
beforeEach(async () => {
  work = await scratchFolder();
  plugins = join(work, "plugins");
  await mkdir(plugins);
});
afterEach(removeScratch);

const install = (file: string, options: PluginCommandOptions = {}) => capture((io) => runPluginInstall(file, { folder: plugins, ...options }, io));
const update = (file: string) => capture((io) => runPluginUpdate(file, { folder: plugins }, io));
const info = (target: string) => capture((io) => runPluginInfo(target, { folder: plugins }, io));
const pack = (dir: string, output?: string) => capture((io) => runPluginPack(dir, output === undefined ? {} : { output }, io));
const call = (id: string, json = '{"id":"1","name":"The Beatles"}') => tonearm(["call", "--folder", plugins, id, "MetadataAgent/GetArtistMBID", json]);

describe("tonearm plugin pack", () => {
  it("packs a plugin folder into a .ndp that installs and answers calls", async () => {
    const packed = await pack(fixturePaths.plugin("plugins", "fake_artist_agent"), join(work, "artist.ndp"));
    expect(packed).toMatchObject({ code: 0, stderr: "" });
    expect(packed.stdout).toMatch(/^Plugin package created: .*artist\.ndp \(manifest\.json, plugin\.wasm; \d+ bytes\)\n$/);
    expect(await install(join(work, "artist.ndp"))).toMatchObject({ code: 0, stdout: "Plugin 'fake_artist_agent' v1.0.0 installed successfully\n" });
    expect(await call("fake_artist_agent")).toMatchObject({ code: 0, stdout: '{"mbid":"1234567890"}\n' });
  });

  it("refuses a folder that would not load, and an output without the .ndp extension", async () => {
    const empty = join(work, "empty");
    await mkdir(empty);
    const run = await pack(empty, join(work, "x.ndp"));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: failed to load manifest: failed to read manifest file: open .*manifest\.json: no such file or directory\n$/);
    const zip = await pack(fixturePaths.plugin("plugins", "fake_artist_agent"), join(work, "x.zip"));
    expect(zip.stderr).toBe(`error: not a valid plugin package: ${join(work, "x.zip")} (expected .ndp extension)\n`);
    expect(await tree(work)).toEqual(["empty", "plugins"]);
  });
});

describe("tonearm plugin info", () => {
  it("prints a package's details, permissions and package information", async () => {
    const manifest = {
      capabilities: ["MetadataAgent", "Scrobbler"],
      permissions: {
        http: { reason: "To fetch metadata", allowedUrls: { "https://api.example.com/*": ["GET", "POST"] } },
        config: { reason: "To read the API key" },
        subsonicapi: { reason: "To look up users" },
      },
    };
    const file = await writePackage(work, "test-plugin.ndp", await fixturePackage("fake_artist_agent", "test-plugin", manifest));
    const run = await info(file);
    expect(run.code).toBe(0);
    const size = (await stat(file)).size;
    expect(run.stdout).toMatch(
      new RegExp(
        [
          "",
          "Plugin Information:",
          "  Name:        test-plugin",
          "  Author:      Test Author",
          "  Version:     1.0.0",
          "  Description: Plugin for testing",
          "  Capabilities:    MetadataAgent, Scrobbler",
          "  Required Permissions:",
          "    http:",
          "      Reason: To fetch metadata",
          "      Allow Local Network: false",
          "      Allowed URLs:",
          "        https://api\\.example\\.com/\\*: \\[GET, POST\\]",
          "",
          "    config:",
          "      Reason: To read the API key",
          "",
          "    subsonicapi:",
          "      Reason: To look up users",
          "      Allow Admins: false",
          "      Allowed Usernames: \\[All Users\\]",
          "",
          "Package Information:",
          `  File:        ${file}`,
          `  Size:        ${size} bytes \\(${(size / 1024).toFixed(2).replace(".", "\\.")} KB\\)`,
          "  SHA-256:     [0-9a-f]{64}",
          "  Modified:    \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(Z|[+-]\\d\\d:\\d\\d)",
          "",
        ].join("\n") + "$",
      ),
    );
  });

  it("prints an installed plugin's details and file permissions, a development link's target too", async () => {
    await install(await writePackage(work, "test-plugin.ndp", await fixturePackage("fake_artist_agent", "test-plugin")));
    const installed = await info("test-plugin");
    expect(installed.code).toBe(0);
    expect(installed.stdout).toContain("  Name:        test-plugin\n");
    expect(installed.stdout).toContain(
      `File Permissions:\n  Plugin Directory: ${join(plugins, "test-plugin")} (drwx------)\n  Manifest File:    -rw-------\n  WASM File:        -rw-------\n`,
    );
    await symlink(fixturePaths.plugin("plugins", "fake_scrobbler"), join(plugins, "dev"));
    const dev = await info("dev");
    expect(dev.stdout).toContain(`  Plugin Directory: ${join(plugins, "dev")} (Lrwxrwxrwx)\n  Symlink Target:   ${fixturePaths.plugin("plugins", "fake_scrobbler")} (d`);
  });

  it("fails with Navidrome's texts for a missing plugin, a missing package and a broken manifest", async () => {
    expect(await info("nope")).toMatchObject({
      code: 1,
      stdout: "",
      stderr: `error: plugin not found: nope (path: ${join(plugins, "nope")})\n`,
    });
    const missing = join(work, "missing.ndp");
    expect((await info(missing)).stderr).toBe(`error: plugin package not found: ${missing}\n`);
    await mkdir(join(plugins, "broken"));
    await writeFile(join(plugins, "broken", "manifest.json"), '{"name":"broken"}');
    expect((await info("broken")).stderr).toBe("error: invalid manifest: field author in PluginManifest: required\n");
  });
});

describe("tonearm plugin install", () => {
  it("installs into <folder>/<name> and reports Navidrome's line; nothing on stderr when not asked for progress", async () => {
    const file = await writePackage(work, "p.ndp", await fixturePackage("fake_artist_agent", "test-plugin", { version: "1.2.3" }, [{ name: "README.md", data: "# hi" }]));
    expect(await install(file)).toEqual({ code: 0, stdout: "Plugin 'test-plugin' v1.2.3 installed successfully\n", stderr: "" });
    expect(await tree(plugins)).toEqual(["test-plugin", "test-plugin/README.md", "test-plugin/manifest.json", "test-plugin/plugin.wasm"]);
    expect(await call("test-plugin")).toMatchObject({ code: 0, stdout: '{"mbid":"1234567890"}\n' });
  });

  it("reports progress on stderr when asked, keeping stdout to the result", async () => {
    const file = await writePackage(work, "p.ndp", await fixturePackage("fake_artist_agent", "test-plugin"));
    const run = await install(file, { progress: true });
    expect(run.stdout).toBe("Plugin 'test-plugin' v1.0.0 installed successfully\n");
    expect(run.stderr.split("\n")).toEqual([`reading ${file}`, "extracting test-plugin", "checking test-plugin", "verifying test-plugin", ""]);
  });

  it("installs a plugin with an unsafe name into a sanitised folder inside the plugins folder, and says so", async () => {
    const file = await writePackage(work, "p.ndp", await fixturePackage("fake_artist_agent", "../../escaped"));
    const run = await install(file);
    expect(run).toMatchObject({ code: 0, stdout: "Plugin '../../escaped' v1.0.0 installed successfully\n" });
    expect(run.stderr).toBe("note: the plugin's folder, and so its id, is '_.._escaped'\n");
    expect(await tree(work)).toEqual(["p.ndp", "plugins", "plugins/_.._escaped", "plugins/_.._escaped/manifest.json", "plugins/_.._escaped/plugin.wasm"]);
  });

  it("refuses a plugin already installed and keeps it", async () => {
    const file = await writePackage(work, "p.ndp", await fixturePackage("fake_artist_agent", "test-plugin"));
    await install(file);
    const before = await readFile(join(plugins, "test-plugin", "manifest.json"), "utf8");
    expect(await install(await writePackage(work, "p2.ndp", await fixturePackage("fake_artist_agent", "test-plugin", { version: "2.0.0" })))).toEqual({
      code: 1,
      stdout: "",
      stderr: `error: Plugin already installed: test-plugin (path: ${join(plugins, "test-plugin")}); use \`plugin update\`\n`,
    });
    expect(await readFile(join(plugins, "test-plugin", "manifest.json"), "utf8")).toBe(before);
  });

  it("refuses a missing file and a file without the .ndp extension", async () => {
    expect((await install(join(work, "nope.ndp"))).stderr).toBe(`error: plugin package not found: ${join(work, "nope.ndp")}\n`);
    const zip = await writePackage(work, "p.zip", await fixturePackage("fake_artist_agent", "p"));
    expect((await install(zip)).stderr).toBe(`error: not a valid plugin package: ${zip} (expected .ndp extension)\n`);
  });

  it("refuses a plugin whose module does not link with its permissions, leaving nothing behind", async () => {
    const file = await writePackage(work, "p.ndp", await fixturePackage("unauthorized_plugin", "test-plugin"));
    const run = await install(file);
    expect(run).toMatchObject({ code: 1, stdout: "" });
    expect(run.stderr).toBe(`error: plugin 'test-plugin' v1.0.0 did not load, nothing was installed: "get" is not exported in module "env"\n`);
    expect(await tree(plugins)).toEqual([]);
  });

  describe("refuses hostile and broken packages with a clear error and no leftover files", () => {
    const wasm = (): Promise<Buffer> => fixtureWasm("fake_artist_agent");
    const hostile = async (extra: RawEntry): Promise<Buffer> => fixturePackage("fake_artist_agent", "hostile", {}, [extra]);
    const cases: [string, () => Promise<Buffer>, string][] = [
      ["Zip Slip ../x", () => hostile({ name: "../x", data: "pwned" }), "illegal file path in plugin package: ../x"],
      ["Zip Slip deep", () => hostile({ name: "docs/../../../x", data: "pwned" }), "illegal file path in plugin package: docs/../../../x"],
      ["an absolute path", () => hostile({ name: "/tmp/tonearm-pwned", data: "pwned" }), "illegal file path in plugin package: /tmp/tonearm-pwned"],
      ["a symlink entry", () => hostile({ name: "link", data: "/etc/passwd", unixMode: 0o120777 }), "illegal file type in plugin package: link (symbolic link)"],
      [
        "an oversized entry",
        () => hostile({ name: "big.bin", data: new Uint8Array(10 * 1024 * 1024 + 1) }),
        "error extracting file: size exceeds limit (10485760 bytes) for big.bin",
      ],
      [
        "no manifest",
        async () => zipArchive([{ name: "plugin.wasm", data: await wasm() }]),
        "plugin package missing required manifest.json",
      ],
      ["no module", async () => zipArchive([{ name: "manifest.json", data: manifestJson("x") }]), "plugin package missing required plugin.wasm"],
      [
        "an invalid manifest",
        async () => zipArchive([{ name: "manifest.json", data: manifestJson("x", { capabilities: ["Nope"] }) }, { name: "plugin.wasm", data: await wasm() }]),
        'invalid manifest: invalid value (expected one of []interface {}{"MetadataAgent", "Scrobbler", "SchedulerCallback", "LifecycleManagement", "WebSocketCallback"}): "Nope"',
      ],
    ];
    it.each(cases)("%s", async (_case, build, reason) => {
      const file = await writePackage(work, "hostile.ndp", await build());
      const run = await install(file);
      expect(run).toEqual({ code: 1, stdout: "", stderr: `error: failed to load plugin package: ${reason}\n` });
      expect(await tree(work)).toEqual(["hostile.ndp", "plugins"]);
      await expect(stat("/tmp/tonearm-pwned")).rejects.toThrow();
    });

    it("a module that is not WebAssembly", async () => {
      const file = await writePackage(work, "bad.ndp", zipArchive([{ name: "manifest.json", data: manifestJson("bad") }, { name: "plugin.wasm", data: "MZ not wasm" }]));
      expect(await install(file)).toEqual({ code: 1, stdout: "", stderr: "error: plugin.wasm is not a valid WebAssembly module\n" });
      expect(await tree(work)).toEqual(["bad.ndp", "plugins"]);
    });
  });
});

describe("tonearm plugin update", () => {
  const v1 = () => fixturePackage("fake_artist_agent", "test-plugin", { version: "1.0.0" }, [{ name: "README.md", data: "v1" }]);

  it("replaces the installed version with Navidrome's line and keeps no backup", async () => {
    await install(await writePackage(work, "v1.ndp", await v1()));
    const v2 = await writePackage(work, "v2.ndp", await fixturePackage("multi_plugin", "test-plugin", { version: "2.0.0", permissions: { scheduler: { reason: "r" } } }));
    expect(await update(v2)).toEqual({ code: 0, stdout: "Plugin 'test-plugin' updated to v2.0.0 successfully\n", stderr: "" });
    expect(await tree(plugins)).toEqual(["test-plugin", "test-plugin/manifest.json", "test-plugin/plugin.wasm"]);
    expect((await call("test-plugin")).stdout).toBe('{"mbid":"multi-artist-mbid"}\n');
  });

  it("rolls back to the installed version when the new one does not load", async () => {
    await install(await writePackage(work, "v1.ndp", await v1()));
    const broken = await writePackage(work, "v2.ndp", await fixturePackage("unauthorized_plugin", "test-plugin", { version: "2.0.0" }));
    expect(await update(broken)).toEqual({
      code: 1,
      stdout: "",
      stderr: `error: plugin 'test-plugin' v2.0.0 did not load, the previous version was restored: "get" is not exported in module "env"\n`,
    });
    expect(await tree(plugins)).toEqual(["test-plugin", "test-plugin/README.md", "test-plugin/manifest.json", "test-plugin/plugin.wasm"]);
    expect(JSON.parse(await readFile(join(plugins, "test-plugin", "manifest.json"), "utf8"))).toMatchObject({ version: "1.0.0" });
    expect((await call("test-plugin")).stdout).toBe('{"mbid":"1234567890"}\n');
  });

  it("keeps the installed version when the new package is hostile", async () => {
    await install(await writePackage(work, "v1.ndp", await v1()));
    const slip = await writePackage(work, "v2.ndp", await fixturePackage("fake_artist_agent", "test-plugin", { version: "2.0.0" }, [{ name: "../../x", data: "x" }]));
    expect((await update(slip)).stderr).toBe("error: failed to load plugin package: illegal file path in plugin package: ../../x\n");
    expect(await tree(plugins)).toEqual(["test-plugin", "test-plugin/README.md", "test-plugin/manifest.json", "test-plugin/plugin.wasm"]);
  });

  it("refuses to update a plugin that is not installed", async () => {
    const file = await writePackage(work, "p.ndp", await v1());
    expect(await update(file)).toEqual({
      code: 1,
      stdout: "",
      stderr: `error: Plugin not found: test-plugin (path: ${join(plugins, "test-plugin")}); use \`plugin install\`\n`,
    });
    expect(await tree(plugins)).toEqual([]);
  });
});
