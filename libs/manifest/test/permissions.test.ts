import { describe, expect, it } from "vitest";
import { hostImportsFor } from "@tonearm/abi";
import {
  EMPTY_ALLOWED_URLS,
  PermissionsError,
  describePermissions,
  grantedPermissions,
  parseManifest,
  unknownPermissionKeys,
  validateRuntimePermissions,
  type PluginManifest,
} from "@tonearm/manifest";

const NAVIDROME_SCHEMA = "https://raw.githubusercontent.com/navidrome/navidrome/refs/heads/master/plugins/schema/manifest.schema.json";

// Manifests shaped like the example plugins shipped with Navidrome v0.57–v0.59.
const wikimedia = `{
  "$schema": "${NAVIDROME_SCHEMA}",
  "name": "wikimedia",
  "author": "Navidrome",
  "version": "1.0.0",
  "description": "Artist biographies, links and images from Wikidata, DBpedia and Wikipedia",
  "website": "https://github.com/navidrome/navidrome/tree/master/plugins/examples/wikimedia",
  "capabilities": ["MetadataAgent"],
  "permissions": {
    "http": {
      "reason": "To look up artist information on Wikimedia sites",
      "allowedUrls": {
        "https://*.wikimedia.org": ["GET"],
        "https://*.wikipedia.org": ["GET"],
        "https://commons.wikimedia.org": ["GET"]
      },
      "allowLocalNetwork": false
    }
  }
}`;

const discord = `{
  "$schema": "${NAVIDROME_SCHEMA}",
  "name": "discord-rich-presence",
  "author": "Navidrome",
  "version": "1.0.0",
  "description": "Shows what you are listening to as your Discord activity",
  "website": "https://github.com/navidrome/navidrome/tree/master/plugins/examples/discord-rich-presence",
  "capabilities": ["Scrobbler", "SchedulerCallback", "WebSocketCallback"],
  "permissions": {
    "http": {
      "reason": "To reach the Discord API for the gateway address and external assets",
      "allowedUrls": { "https://discord.com/api/*": ["GET", "POST"] }
    },
    "websocket": {
      "reason": "To hold a gateway connection per user",
      "allowedUrls": ["wss://gateway.discord.gg"],
      "allowLocalNetwork": false
    },
    "config": { "reason": "To read the client id and the user tokens" },
    "cache": { "reason": "To remember uploaded images and heartbeat sequence numbers" },
    "scheduler": { "reason": "To send heartbeats and clear the activity when a track ends" },
    "artwork": { "reason": "To give Discord a public URL of the cover art" }
  }
}`;

const subsonicDemo = `{
  "name": "subsonicapi-demo",
  "author": "Navidrome",
  "version": "1.0.0",
  "description": "Calls the Subsonic API while initialising",
  "website": "https://github.com/navidrome/navidrome/tree/master/plugins/examples/subsonicapi-demo",
  "capabilities": ["LifecycleManagement"],
  "permissions": {
    "subsonicapi": { "reason": "To call ping and getLicense as admin", "allowedUsernames": ["admin"], "allowAdmins": true }
  },
  "homepage": { "note": "unknown top-level keys are kept" }
}`;

// What Navidrome's own tests write: Go's json.Marshal of the generated struct, which adds an
// "AdditionalProperties": null key to permissions.
const goMarshalled = JSON.stringify({
  author: "Test Author",
  capabilities: ["MetadataAgent"],
  description: "Test plugin for permissions",
  name: "plugin-with-http",
  permissions: {
    config: { reason: "To read configuration settings" },
    http: { allowedUrls: { "*": ["*"] }, reason: "To fetch data from external APIs" },
    AdditionalProperties: null,
  },
  version: "1.0.0",
  website: "https://test.navidrome.org/plugin-with-http",
});

const minimal = (permissions: unknown): PluginManifest =>
  parseManifest(
    JSON.stringify({
      name: "p",
      author: "a",
      version: "1.0.0",
      description: "d",
      website: "https://example.com",
      capabilities: ["MetadataAgent"],
      permissions,
    }),
  );

describe("Navidrome-style manifests", () => {
  it("loads a wikimedia-style manifest with http URL patterns and methods", () => {
    const manifest = parseManifest(wikimedia);
    expect(manifest.capabilities).toEqual(["MetadataAgent"]);
    expect(grantedPermissions(manifest)).toEqual(["http"]);
    expect(manifest.permissions.http).toEqual({
      reason: "To look up artist information on Wikimedia sites",
      allowedUrls: {
        "https://*.wikimedia.org": ["GET"],
        "https://*.wikipedia.org": ["GET"],
        "https://commons.wikimedia.org": ["GET"],
      },
      allowLocalNetwork: false,
    });
    expect(manifest.raw.$schema).toBe(NAVIDROME_SCHEMA);
  });

  it("loads a discord-style manifest granting six permissions", () => {
    const manifest = parseManifest(discord);
    expect(manifest.capabilities).toEqual(["Scrobbler", "SchedulerCallback", "WebSocketCallback"]);
    expect(grantedPermissions(manifest)).toEqual(["http", "config", "scheduler", "websocket", "cache", "artwork"]);
    expect(manifest.permissions.websocket).toEqual({
      reason: "To hold a gateway connection per user",
      allowedUrls: ["wss://gateway.discord.gg"],
      allowLocalNetwork: false,
    });
    expect(manifest.permissions.http?.allowedUrls).toEqual({ "https://discord.com/api/*": ["GET", "POST"] });
    expect(manifest.permissions.artwork?.reason).toBe("To give Discord a public URL of the cover art");
    expect(() => validateRuntimePermissions(manifest)).not.toThrow();
  });

  it("loads a subsonicapi manifest with allowed users and admins, keeping unknown keys in raw", () => {
    const manifest = parseManifest(subsonicDemo);
    expect(manifest.permissions.subsonicapi).toEqual({
      reason: "To call ping and getLicense as admin",
      allowedUsernames: ["admin"],
      allowAdmins: true,
    });
    expect(manifest.raw.homepage).toEqual({ note: "unknown top-level keys are kept" });
  });

  it("loads the manifests Navidrome's tests marshal from Go structs", () => {
    const manifest = parseManifest(goMarshalled);
    expect(grantedPermissions(manifest)).toEqual(["http", "config"]);
    expect(unknownPermissionKeys(manifest)).toEqual(["AdditionalProperties"]);
  });
});

describe("permissions (manifest_permissions_test)", () => {
  it("accepts unknown permission keys and still parses the known ones", () => {
    const manifest = minimal({
      http: { reason: "To fetch data from external APIs", allowedUrls: { "*": ["*"] } },
      unknown: { customField: "customValue" },
    });
    expect(manifest.permissions.http?.reason).toBe("To fetch data from external APIs");
    expect(grantedPermissions(manifest)).toEqual(["http"]);
    expect(unknownPermissionKeys(manifest)).toEqual(["unknown"]);
    expect(manifest.permissions).not.toHaveProperty("unknown");
  });

  it("requires the permissions field", () => {
    const text = JSON.stringify({ name: "p", author: "a", version: "1", description: "d", website: "w", capabilities: ["MetadataAgent"] });
    expect(() => parseManifest(text)).toThrow("invalid manifest: field permissions in PluginManifest: required");
  });

  it("links only the host imports of granted permissions", () => {
    const names = (manifest: PluginManifest): string[] => hostImportsFor(grantedPermissions(manifest)).map((i) => i.name);
    expect(names(minimal({}))).toEqual([]);
    const httpAndConfig = names(minimal({ http: { reason: "r", allowedUrls: { "*": ["*"] } }, config: { reason: "r" } }));
    expect(httpAndConfig).toContain("get");
    expect(httpAndConfig).toContain("get_plugin_config");
    expect(httpAndConfig).not.toContain("set_string");
    expect(httpAndConfig).not.toContain("connect");
  });

  it("grants a permission spelled in another letter case, as Navidrome does", () => {
    const manifest = minimal({ WebSocket: { reason: "r", allowedUrls: ["wss://example.com"] }, Cache: null });
    expect(grantedPermissions(manifest)).toEqual(["websocket"]);
    expect(unknownPermissionKeys(manifest)).toEqual([]);
    // The last spelling in the document wins; null takes the permission away.
    expect(grantedPermissions(minimal({ cache: { reason: "r" }, CACHE: null }))).toEqual([]);
    expect(minimal({ subsonicapi: { reason: "r", AllowedUsernames: ["bob"] } }).permissions.subsonicapi?.allowedUsernames).toEqual([
      "bob",
    ]);
  });
});

describe("validateRuntimePermissions", () => {
  it("accepts http with '*': ['*'] plus config, no permissions, and every permission", () => {
    expect(() => validateRuntimePermissions(minimal({ http: { reason: "r", allowedUrls: { "*": ["*"] } }, config: { reason: "r" } }))).not.toThrow();
    expect(() => validateRuntimePermissions(minimal({}))).not.toThrow();
    expect(() => validateRuntimePermissions(parseManifest(discord))).not.toThrow();
  });

  it("keeps patterns, methods and the '*' method as written", () => {
    const manifest = minimal({
      http: { reason: "r", allowedUrls: { "https://api.example.com": ["GET", "POST"], "https://*.example.com/public/*": ["*"] } },
    });
    expect(manifest.permissions.http?.allowedUrls).toEqual({
      "https://api.example.com": ["GET", "POST"],
      "https://*.example.com/public/*": ["*"],
    });
    expect(() => validateRuntimePermissions(manifest)).not.toThrow();
  });

  it("refuses an http permission without URL patterns, though it loads", () => {
    for (const allowedUrls of [{}, null]) {
      const manifest = minimal({ http: { reason: "r", allowedUrls } });
      const error = (() => {
        try {
          validateRuntimePermissions(manifest);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(PermissionsError);
      expect(error).toMatchObject({ permission: "http", message: EMPTY_ALLOWED_URLS });
    }
    expect(EMPTY_ALLOWED_URLS).toBe("allowedUrls must contain at least one URL pattern");
  });

  it("refuses a websocket permission whose list is null; an empty list does not even load", () => {
    expect(() => validateRuntimePermissions(minimal({ websocket: { reason: "r", allowedUrls: null } }))).toThrow(
      EMPTY_ALLOWED_URLS,
    );
    expect(() => minimal({ websocket: { reason: "r", allowedUrls: [] } })).toThrow("field allowedUrls length: must be >= 1");
    expect(() => validateRuntimePermissions(minimal({ websocket: { reason: "r", allowedUrls: ["wss://*"] } }))).not.toThrow();
  });
});

describe("describePermissions", () => {
  it("lists granted permissions in the order and wording of 'plugin info'", () => {
    expect(describePermissions(parseManifest(discord)).map((p) => p.key)).toEqual([
      "http",
      "config",
      "scheduler",
      "websocket",
      "cache",
      "artwork",
    ]);
    const [http, config, , websocket] = describePermissions(parseManifest(discord));
    expect(http?.lines).toEqual([
      "Reason: To reach the Discord API for the gateway address and external assets",
      "Allow Local Network: false",
      "Allowed URLs:",
      "  https://discord.com/api/*: [GET, POST]",
    ]);
    expect(config?.lines).toEqual(["Reason: To read the client id and the user tokens"]);
    expect(websocket?.lines).toEqual([
      "Reason: To hold a gateway connection per user",
      "Allow Local Network: false",
      "Allowed URLs: [wss://gateway.discord.gg]",
    ]);
  });

  it("shows subsonicapi users, or All Users when none are listed", () => {
    expect(describePermissions(parseManifest(subsonicDemo))[0]?.lines).toEqual([
      "Reason: To call ping and getLicense as admin",
      "Allow Admins: true",
      "Allowed Usernames: [admin]",
    ]);
    expect(describePermissions(minimal({ subsonicapi: { reason: "r" } }))[0]?.lines).toEqual([
      "Reason: r",
      "Allow Admins: false",
      "Allowed Usernames: [All Users]",
    ]);
  });
});
