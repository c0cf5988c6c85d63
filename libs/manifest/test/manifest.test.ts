import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManifestError, ManifestReadError, loadManifest, parseManifest } from "@tonearm/manifest";

const CAPABILITY_ENUM =
  '[]interface {}{"MetadataAgent", "Scrobbler", "SchedulerCallback", "LifecycleManagement", "WebSocketCallback"}';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tonearm-manifest-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeManifest(text: string, sub = "plugin"): Promise<string> {
  const pluginDir = join(dir, sub);
  await mkdir(pluginDir, { recursive: true });
  await writeFile(join(pluginDir, "manifest.json"), text);
  return pluginDir;
}

function failureOf(text: string): ManifestError {
  try {
    parseManifest(text);
  } catch (error) {
    if (error instanceof ManifestError) return error;
    throw error;
  }
  throw new Error("manifest was accepted");
}

describe("loadManifest (manifest_test)", () => {
  it("loads a valid manifest, keeping capabilities in order and the http reason", async () => {
    const pluginDir = await writeManifest(`{
      "name": "test-plugin",
      "author": "Test Author",
      "version": "1.0.0",
      "description": "A test plugin",
      "website": "https://test.navidrome.org/test-plugin",
      "capabilities": ["MetadataAgent", "Scrobbler"],
      "permissions": {
        "http": { "reason": "To fetch metadata", "allowedUrls": { "https://api.example.com/*": ["GET"] } }
      }
    }`);
    const manifest = await loadManifest(pluginDir);
    expect(manifest).toMatchObject({
      name: "test-plugin",
      author: "Test Author",
      version: "1.0.0",
      description: "A test plugin",
      website: "https://test.navidrome.org/test-plugin",
      capabilities: ["MetadataAgent", "Scrobbler"],
    });
    expect(manifest.permissions.http?.reason).toBe("To fetch metadata");
    expect(manifest.permissions.http?.allowedUrls).toEqual({ "https://api.example.com/*": ["GET"] });
    expect(manifest.permissions.http?.allowLocalNetwork).toBe(false);
  });

  it("fails with 'failed to read manifest file' when there is no manifest", async () => {
    const missing = join(dir, "non-existent");
    const error = await loadManifest(missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ManifestReadError);
    expect((error as Error).message).toBe(
      `failed to read manifest file: open ${join(missing, "manifest.json")}: no such file or directory`,
    );
  });

  it("fails with 'failed to read manifest file' when manifest.json is a directory", async () => {
    await mkdir(join(dir, "manifest.json"));
    await expect(loadManifest(dir)).rejects.toThrow(/^failed to read manifest file: read .*manifest\.json: is a directory$/);
  });

  it("fails with 'invalid manifest' on malformed JSON", async () => {
    const pluginDir = await writeManifest(`{
      "name": "test-plugin",
      "author": "Test Author"
      "version": "1.0.0"
      "description": "A test plugin",
      "capabilities": ["MetadataAgent"],
      "permissions": {}
    }`);
    const error = await loadManifest(pluginDir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).message).toMatch(/^invalid manifest: /);
    expect((error as ManifestError).cause).toBeInstanceOf(SyntaxError);
  });

  it("reports a missing name as 'field name in PluginManifest: required'", async () => {
    const pluginDir = await writeManifest(`{
      "author": "Test Author", "version": "1.0.0", "description": "A test plugin",
      "website": "https://test.navidrome.org/test-plugin",
      "capabilities": ["MetadataAgent"], "permissions": {}
    }`);
    await expect(loadManifest(pluginDir)).rejects.toThrow("invalid manifest: field name in PluginManifest: required");
  });

  it("reports an unsupported capability with Navidrome's enum text", async () => {
    const pluginDir = await writeManifest(`{
      "name": "test-plugin", "author": "Test Author", "version": "1.0.0", "description": "A test plugin",
      "website": "https://test.navidrome.org/test-plugin",
      "capabilities": ["UnsupportedService"], "permissions": {}
    }`);
    const error = await loadManifest(pluginDir).catch((e: unknown) => e);
    expect((error as Error).message).toBe(`invalid manifest: invalid value (expected one of ${CAPABILITY_ENUM}): "UnsupportedService"`);
    expect((error as ManifestError).pointer).toBe("/capabilities/0");
  });

  it("reports empty capabilities as 'field capabilities length: must be >= 1'", async () => {
    const pluginDir = await writeManifest(`{
      "name": "test-plugin", "author": "Test Author", "version": "1.0.0", "description": "A test plugin",
      "website": "https://test.navidrome.org/test-plugin",
      "capabilities": [], "permissions": {}
    }`);
    await expect(loadManifest(pluginDir)).rejects.toThrow("invalid manifest: field capabilities length: must be >= 1");
  });
});

describe("parseManifest", () => {
  const valid = {
    name: "n",
    author: "a",
    version: "1.0.0",
    description: "d",
    website: "https://example.com",
    capabilities: ["Scrobbler"],
    permissions: {},
  };

  it("checks capabilities case-sensitively", () => {
    expect(failureOf(JSON.stringify({ ...valid, capabilities: ["scrobbler"] })).detail).toBe(
      `invalid value (expected one of ${CAPABILITY_ENUM}): "scrobbler"`,
    );
  });

  it("keeps duplicate capabilities, as Navidrome does", () => {
    const manifest = parseManifest(JSON.stringify({ ...valid, capabilities: ["Scrobbler", "MetadataAgent", "Scrobbler"] }));
    expect(manifest.capabilities).toEqual(["Scrobbler", "MetadataAgent", "Scrobbler"]);
  });

  it("does not check what Navidrome does not check", () => {
    const manifest = parseManifest(
      JSON.stringify({
        ...valid,
        version: "not semver",
        website: "not a uri",
        permissions: {
          http: { reason: "r", allowedUrls: { "https://a.example.com": ["GET", "GET"], "https://b.example.com": [] } },
          websocket: { reason: "r", allowedUrls: ["https://not-a-websocket", "https://not-a-websocket"], extra: 1 },
          cache: { reason: "r", ttl: "extra keys inside a permission are ignored" },
        },
      }),
    );
    expect(manifest.website).toBe("not a uri");
    expect(manifest.permissions.http?.allowedUrls).toEqual({
      "https://a.example.com": ["GET", "GET"],
      "https://b.example.com": [],
    });
    expect(manifest.permissions.websocket?.allowedUrls).toHaveLength(2);
    expect(manifest.permissions.cache).toEqual({ reason: "r" });
  });

  it("reads null values as empty, as Go's decoder does", () => {
    const manifest = parseManifest(
      JSON.stringify({
        ...valid,
        name: null,
        capabilities: null,
        permissions: {
          http: null,
          websocket: { reason: "r", allowedUrls: null, allowLocalNetwork: null },
          subsonicapi: { reason: "r", allowedUsernames: null, allowAdmins: null },
        },
      }),
    );
    expect(manifest.name).toBe("");
    expect(manifest.capabilities).toEqual([]);
    expect(manifest.permissions.http).toBeUndefined();
    expect(manifest.permissions.websocket).toEqual({ reason: "r", allowedUrls: [], allowLocalNetwork: false });
    expect(manifest.permissions.subsonicapi).toEqual({ reason: "r", allowedUsernames: [], allowAdmins: false });
  });

  it("refuses a document that is not an object, a bare null included", () => {
    expect(failureOf("[]").detail).toBe("json: cannot unmarshal array into Go value of type map[string]interface {}");
    expect(failureOf('"manifest"').detail).toBe("json: cannot unmarshal string into Go value of type map[string]interface {}");
    expect(failureOf("null").detail).toBe("json: cannot unmarshal null into Go value of type map[string]interface {}");
  });

  it("refuses an empty or truncated file as invalid JSON", () => {
    expect(failureOf("").message).toMatch(/^invalid manifest: /);
    expect(failureOf('{"name": "x"').message).toMatch(/^invalid manifest: /);
    // A byte-order mark is not JSON for Go either.
    expect(failureOf(`\uFEFF${JSON.stringify(valid)}`).message).toMatch(/^invalid manifest: /);
  });

  it("returns a frozen model whose raw document keeps unknown keys", () => {
    const manifest = parseManifest(JSON.stringify({ $schema: "https://example.com/schema.json", ...valid, homepage: { x: 1 } }));
    expect(manifest.raw.$schema).toBe("https://example.com/schema.json");
    expect(manifest.raw.homepage).toEqual({ x: 1 });
    expect(Object.isFrozen(manifest)).toBe(true);
    expect(Object.isFrozen(manifest.capabilities)).toBe(true);
    expect(Object.isFrozen(manifest.raw.homepage)).toBe(true);
  });

  it("keeps a '__proto__' URL pattern as data", () => {
    const manifest = parseManifest(
      `{"name":"n","author":"a","version":"1","description":"d","website":"w","capabilities":["Scrobbler"],
        "permissions":{"http":{"reason":"r","allowedUrls":{"__proto__":["GET"]}}}}`,
    );
    const urls = manifest.permissions.http?.allowedUrls ?? {};
    expect(Object.keys(urls)).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(urls)).toBe(Object.prototype);
  });
});
