// The `tonearm` binary as a user runs it: real processes, real fixture plugins.
import { execFile } from "node:child_process";
import { mkdtemp, symlink, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fixturePaths } from "@tonearm/test-harness";
import { describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const PLUGINS = fixturePaths.folder("plugins");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function tonearm(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 20_000, env: { ...process.env, TONEARM_CONFIG: "" } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const call = (plugin: string, method: string, json?: string) =>
  tonearm("call", "--folder", PLUGINS, plugin, method, ...(json === undefined ? [] : [json]));

describe("tonearm call", () => {
  it.each([
    ["fake_artist_agent", "MetadataAgent/GetArtistMBID", '{"id":"1","name":"The Beatles"}', '{"mbid":"1234567890"}'],
    ["fake_artist_agent", "MetadataAgent/GetArtistURL", '{"id":"1","name":"The Beatles"}', '{"url":"https://example.com"}'],
    ["fake_artist_agent", "MetadataAgent/GetArtistBiography", '{"id":"1","name":"The Beatles"}', '{"biography":"This is a test biography"}'],
    [
      "fake_artist_agent",
      "MetadataAgent/GetArtistImages",
      '{"id":"1","name":"The Beatles"}',
      '{"images":[{"url":"https://example.com/image1.jpg","size":100},{"url":"https://example.com/image2.jpg","size":200}]}',
    ],
    [
      "fake_album_agent",
      "MetadataAgent/GetAlbumInfo",
      '{"name":"Abbey Road","artist":"The Beatles"}',
      '{"info":{"name":"Abbey Road","mbid":"album-mbid-123","description":"This is a test album description","url":"https://example.com/album"}}',
    ],
    ["fake_scrobbler", "Scrobbler/IsAuthorized", '{"username":"alice"}', '{"authorized":true}'],
    ["fake_scrobbler", "Scrobbler/Scrobble", '{"username":"alice","track":{"name":"Something"}}', "{}"],
    ["multi_plugin", "MetadataAgent/GetArtistMBID", '{"name":"X"}', '{"mbid":"multi-artist-mbid"}'],
    ["fake_init_service", "LifecycleManagement/OnInit", undefined, "{}"],
  ])("%s %s prints the response as protobuf JSON", async (plugin, method, json, expected) => {
    const run = await call(plugin, method, json);
    expect(run).toMatchObject({ code: 0, stdout: `${expected}\n` });
  });

  it.each([
    ["fake_artist_agent", "MetadataAgent/GetArtistMBID", '{"id":"1"}', "not_found"],
    ["no_such_plugin", "MetadataAgent/GetArtistMBID", "{}", "not_found"],
    ["fake_artist_agent", "MetadataAgent/GetAlbumInfo", '{"name":"A","artist":"B"}', "not_implemented"],
    ["fake_artist_agent", "MetadataAgent/GetArtistMBID", "{not json", "bad_request"],
    ["fake_artist_agent", "MetadataAgent/GetArtistMBID", '{"unknown":1}', "bad_request"],
    ["fake_artist_agent", "NoSuchCapability/Method", "{}", "bad_request"],
    ["unauthorized_plugin", "MetadataAgent/GetAlbumInfo", '{"name":"A","artist":"B"}', "load_error"],
  ])("%s %s %s fails with %s", async (plugin, method, json, code) => {
    const run = await call(plugin, method, json);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(new RegExp(`^error: ${code}: .+$`, "m"));
  });

  it("fails with plugin_error when a plugin traps, and timeout at the deadline", async () => {
    const hostile = fixturePaths.folder("hostile");
    const trapped = await tonearm("call", "--folder", hostile, "trap", "MetadataAgent/GetArtistMBID", '{"name":"X"}');
    expect(trapped.stderr).toContain("error: plugin_error: wasm trap: unreachable");
    const looped = await tonearm("call", "--folder", hostile, "--timeout", "300", "infinite_loop", "MetadataAgent/GetArtistMBID", '{"name":"X"}');
    expect(looped.code).toBe(1);
    expect(looped.stderr).toMatch(/^error: timeout: /m);
  });

  it("hands [PluginConfig.<id>] from the config file to the plugin, keys lower-cased", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tonearm-cli-"));
    const config = join(dir, "tonearm.toml");
    await writeFile(config, `[PluginConfig.host_probe]\nClientID = "abc"\nregion = "eu"\n`);
    const run = await tonearm("call", "--folder", PLUGINS, "--config", config, "host_probe", "MetadataAgent/GetArtistBiography", '{"name":"config"}');
    expect(run).toMatchObject({ code: 0, stdout: '{"biography":"clientid=abc;region=eu"}\n' });
  });
});

describe("tonearm plugin list", () => {
  it("prints Navidrome's table with a row per plugin and ERROR rows for broken ones", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tonearm-list-"));
    await symlink(fixturePaths.plugin("plugins", "fake_scrobbler"), join(dir, "fake_scrobbler"));
    await mkdir(join(dir, "broken"));
    await writeFile(join(dir, "broken", "plugin.wasm"), "");
    await writeFile(join(dir, "broken", "manifest.json"), "{");
    const run = await tonearm("plugin", "list", "--folder", dir);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+NAME\s+AUTHOR\s+VERSION\s+CAPABILITIES\s+DESCRIPTION$/);
    expect(lines[1]).toMatch(/^broken\s+ERROR\s+ERROR\s+ERROR\s+ERROR\s+failed to load manifest: invalid manifest: /);
    expect(lines[2]).toMatch(/^fake_scrobbler\s+fake_scrobbler \(dev\)\s+Navidrome Test\s+1\.0\.0\s+Scrobbler\s+/);
    expect(lines).toHaveLength(3);
  });
});
