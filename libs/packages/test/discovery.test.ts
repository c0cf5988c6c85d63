import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DiscoveryError, DiscoveryFailure, discoverPlugins, type DiscoveredPlugin } from "@tonearm/packages";

// Discovery never compiles modules, so any bytes do as plugin.wasm.
const FAKE_WASM = "fake wasm content";

let root: string; // holds the plugins folder and any symlink targets
let plugins: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "tonearm-discovery-"));
  plugins = join(root, "plugins");
  await mkdir(plugins);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function manifest(name: string, overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    name,
    author: "Test Author",
    version: "1.0.0",
    description: "Test Plugin",
    website: `https://test.navidrome.org/${name}`,
    capabilities: ["MetadataAgent"],
    permissions: {},
    ...overrides,
  });
}

async function pluginDir(dir: string, files: { manifest?: string; wasm?: boolean }): Promise<string> {
  await mkdir(dir, { recursive: true });
  if (files.manifest !== undefined) await writeFile(join(dir, "manifest.json"), files.manifest);
  if (files.wasm) await writeFile(join(dir, "plugin.wasm"), FAKE_WASM);
  return dir;
}

const validPlugin = (id: string, name = id, overrides: Record<string, unknown> = {}): Promise<string> =>
  pluginDir(join(plugins, id), { manifest: manifest(name, overrides), wasm: true });

function only(found: DiscoveredPlugin[]): DiscoveredPlugin {
  expect(found).toHaveLength(1);
  return found[0] as DiscoveredPlugin;
}

function failure(found: DiscoveredPlugin): DiscoveryError {
  if (found.ok) throw new Error(`${found.id} was discovered without error`);
  return found.error;
}

describe("discoverPlugins: valid plugins", () => {
  it("discovers directories with plugin.wasm and manifest.json, the directory name being the id", async () => {
    await validPlugin("test-plugin", "Test Plugin");
    await validPlugin("another-plugin", "Another Plugin", { capabilities: ["Scrobbler"], version: "2.0.0" });
    const found = await discoverPlugins(plugins);
    expect(found.map((p) => [p.id, p.ok])).toEqual([
      ["another-plugin", true],
      ["test-plugin", true],
    ]);
    const [another, test] = found;
    if (!another?.ok || !test?.ok) throw new Error("expected loaded plugins");
    expect(test.manifest.name).toBe("Test Plugin");
    expect(test.manifest.capabilities[0]).toBe("MetadataAgent");
    expect(test.path).toBe(join(plugins, "test-plugin"));
    expect(test.wasmPath).toBe(join(plugins, "test-plugin", "plugin.wasm"));
    expect(test.isSymlink).toBe(false);
    expect(another.manifest.capabilities[0]).toBe("Scrobbler");
  });

  it("keeps two directories whose manifests share a name as distinct plugins", async () => {
    await validPlugin("lastfm-official", "lastfm", { author: "Official Author" });
    await validPlugin("lastfm-custom", "lastfm", { author: "Custom Author" });
    const found = await discoverPlugins(plugins);
    expect(found.map((p) => p.id)).toEqual(["lastfm-custom", "lastfm-official"]);
    expect(found.map((p) => (p.ok ? [p.manifest.name, p.manifest.author] : p.error.message))).toEqual([
      ["lastfm", "Custom Author"],
      ["lastfm", "Official Author"],
    ]);
  });

  it("discovers plugins with no, one or several permissions and a non-wasm plugin.wasm", async () => {
    await validPlugin("plugin-with-none");
    await validPlugin("plugin-with-http", "plugin-with-http", {
      permissions: { http: { reason: "To fetch metadata", allowedUrls: { "*": ["*"] } } },
    });
    await validPlugin("plugin-with-several", "plugin-with-several", {
      permissions: {
        http: { reason: "r", allowedUrls: { "*": ["*"] } },
        config: { reason: "r" },
        scheduler: { reason: "r" },
      },
    });
    const found = await discoverPlugins(plugins);
    expect(found.map((p) => [p.id, p.ok])).toEqual([
      ["plugin-with-http", true],
      ["plugin-with-none", true],
      ["plugin-with-several", true],
    ]);
  });
});

describe("discoverPlugins: broken plugins", () => {
  it("reports a directory without plugin.wasm", async () => {
    const dir = await pluginDir(join(plugins, "manifest-only"), { manifest: manifest("manifest-only") });
    const found = only(await discoverPlugins(plugins));
    expect(found).toMatchObject({ id: "manifest-only", ok: false, path: dir, isSymlink: false });
    expect(failure(found).code).toBe(DiscoveryFailure.MissingWasm);
    expect(failure(found).message).toBe(`no plugin.wasm found: stat ${join(dir, "plugin.wasm")}: no such file or directory`);
  });

  it("reports a directory without manifest.json", async () => {
    const dir = await pluginDir(join(plugins, "wasm-only"), { wasm: true });
    const found = only(await discoverPlugins(plugins));
    expect(found.id).toBe("wasm-only");
    expect(failure(found).code).toBe(DiscoveryFailure.InvalidManifest);
    expect(failure(found).message).toBe(
      `failed to load manifest: failed to read manifest file: open ${join(dir, "manifest.json")}: no such file or directory`,
    );
  });

  it("reports an invalid manifest with the loader's text", async () => {
    await pluginDir(join(plugins, "invalid-manifest"), { manifest: '{ "invalid": "json" }', wasm: true });
    const found = only(await discoverPlugins(plugins));
    expect(found.id).toBe("invalid-manifest");
    expect(failure(found).message).toBe("failed to load manifest: invalid manifest: field author in PluginManifest: required");
  });

  it("reports empty capabilities, and a null list as having no capabilities", async () => {
    await validPlugin("empty-capabilities", "empty-capabilities", { capabilities: [] });
    await validPlugin("null-capabilities", "null-capabilities", { capabilities: null });
    const [empty, none] = await discoverPlugins(plugins);
    expect(failure(empty as DiscoveredPlugin).message).toBe(
      "failed to load manifest: invalid manifest: field capabilities length: must be >= 1",
    );
    expect(failure(none as DiscoveredPlugin).code).toBe(DiscoveryFailure.NoCapabilities);
    expect(failure(none as DiscoveredPlugin).message).toBe("no capabilities found in manifest");
  });

  it("checks plugin.wasm before the manifest", async () => {
    await pluginDir(join(plugins, "empty-dir"), {});
    await pluginDir(join(plugins, "bad-manifest-no-wasm"), { manifest: "not json" });
    const found = await discoverPlugins(plugins);
    expect(found.map((p) => failure(p).code)).toEqual([DiscoveryFailure.MissingWasm, DiscoveryFailure.MissingWasm]);
  });

  it("returns the good plugins next to one result per bad entry", async () => {
    await validPlugin("valid-plugin");
    await pluginDir(join(plugins, "manifest-only"), { manifest: manifest("manifest-only") });
    await pluginDir(join(plugins, "invalid-manifest"), { manifest: '{ "invalid": "json" }', wasm: true });
    await validPlugin("another-valid", "another-valid", { capabilities: ["Scrobbler"] });
    const found = await discoverPlugins(plugins);
    expect(found.map((p) => [p.id, p.ok])).toEqual([
      ["another-valid", true],
      ["invalid-manifest", false],
      ["manifest-only", false],
      ["valid-plugin", true],
    ]);
  });
});

describe("discoverPlugins: symlinks", () => {
  it("follows an absolute symlink to a plugin directory", async () => {
    const real = await pluginDir(join(root, "real-plugin"), { manifest: manifest("symlinked-plugin"), wasm: true });
    await symlink(real, join(plugins, "symlinked-plugin"));
    const found = only(await discoverPlugins(plugins));
    if (!found.ok) throw found.error;
    expect(found).toMatchObject({ id: "symlinked-plugin", isSymlink: true, path: real, wasmPath: join(real, "plugin.wasm") });
    expect(found.manifest.name).toBe("symlinked-plugin");
  });

  it("follows a relative symlink from the plugins folder", async () => {
    const real = await pluginDir(join(root, "real-plugin-dir"), { manifest: manifest("relative-symlinked-plugin"), wasm: true });
    await symlink("../real-plugin-dir", join(plugins, "relative-symlinked-plugin"));
    const found = only(await discoverPlugins(plugins));
    expect(found).toMatchObject({ id: "relative-symlinked-plugin", ok: true, isSymlink: true, path: real });
  });

  it("reports a broken symlink", async () => {
    const target = join(root, "non", "existent", "path");
    await symlink(target, join(plugins, "broken-symlink"));
    const found = only(await discoverPlugins(plugins));
    expect(found).toMatchObject({ id: "broken-symlink", ok: false, isSymlink: true });
    expect(failure(found).code).toBe(DiscoveryFailure.SymlinkBroken);
    expect(failure(found).message).toBe(`failed to stat symlink target ${target}: stat ${target}: no such file or directory`);
  });

  it("reports a symlink to a file, and ignores the file itself", async () => {
    const file = join(plugins, "regular-file.txt");
    await writeFile(file, "content");
    await symlink(file, join(plugins, "symlink-to-file"));
    const found = only(await discoverPlugins(plugins));
    expect(found).toMatchObject({ id: "symlink-to-file", ok: false, isSymlink: true });
    expect(failure(found).message).toBe(`symlink target is not a directory: ${file}`);
  });

  it("marks a symlinked plugin's later failures as coming from a symlink", async () => {
    const real = await pluginDir(join(root, "dev-plugin"), { manifest: manifest("dev-plugin") });
    await symlink(real, join(plugins, "dev-plugin"));
    const found = only(await discoverPlugins(plugins));
    expect(found).toMatchObject({ ok: false, isSymlink: true, path: real });
    expect(failure(found).code).toBe(DiscoveryFailure.MissingWasm);
  });
});

describe("discoverPlugins: folder contents", () => {
  it("ignores hidden entries, hidden symlinks and regular files", async () => {
    await validPlugin(".hidden-plugin");
    await validPlugin("visible-plugin");
    await symlink(join(plugins, "visible-plugin"), join(plugins, ".hidden-link"));
    await writeFile(join(plugins, "regular-file.txt"), "content");
    await writeFile(join(plugins, "plugin.wasm"), FAKE_WASM);
    expect((await discoverPlugins(plugins)).map((p) => p.id)).toEqual(["visible-plugin"]);
  });

  it("sorts results by id in byte order", async () => {
    for (const id of ["b", "é", "a", "C", "a-b"]) await validPlugin(id);
    expect((await discoverPlugins(plugins)).map((p) => p.id)).toEqual(["C", "a", "a-b", "b", "é"]);
  });

  it("gives one result with an empty id for a folder that does not exist", async () => {
    const missing = join(root, "non", "existent", "plugins", "dir");
    const found = only(await discoverPlugins(missing));
    expect(found).toMatchObject({ id: "", ok: false, path: missing });
    expect(failure(found).code).toBe(DiscoveryFailure.UnreadableFolder);
    expect(failure(found).message).toBe(`failed to read plugins directory ${missing}: open ${missing}: no such file or directory`);
  });

  it("gives one result for a folder that cannot be listed", async () => {
    const file = join(root, "not-a-folder");
    await writeFile(file, "content");
    const found = only(await discoverPlugins(file));
    expect(failure(found).code).toBe(DiscoveryFailure.UnreadableFolder);
    expect(failure(found).message).toMatch(/^failed to read plugins directory .*not-a-folder: .*not a directory$/);
  });

  it("gives an empty list for an empty folder", async () => {
    expect(await discoverPlugins(plugins)).toEqual([]);
  });

  it("resolves a relative folder to absolute paths", async () => {
    await validPlugin("p");
    const [found] = await discoverPlugins(relative(process.cwd(), plugins));
    expect(found).toMatchObject({ id: "p", ok: true, path: join(plugins, "p") });
  });
});
