import { describe, expect, it } from "vitest";
import { ManifestError, parseManifest } from "@tonearm/manifest";

// Which error wins when several apply follows Navidrome's generated UnmarshalJSON: missing
// top-level keys (alphabetical) first, then values in document order, where an enum failure or a
// failing permission stops at once and a plain type mismatch only counts if nothing else fails,
// then the length checks.

const CAPABILITY_ENUM =
  '[]interface {}{"MetadataAgent", "Scrobbler", "SchedulerCallback", "LifecycleManagement", "WebSocketCallback"}';
const METHOD_ENUM = '[]interface {}{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "*"}';

const base = {
  name: "n",
  author: "a",
  version: "1.0.0",
  description: "d",
  website: "https://example.com",
  capabilities: ["MetadataAgent"],
  permissions: {},
};

function errorOf(doc: unknown): ManifestError {
  try {
    parseManifest(typeof doc === "string" ? doc : JSON.stringify(doc));
  } catch (error) {
    if (error instanceof ManifestError) return error;
    throw error;
  }
  throw new Error("manifest was accepted");
}

const detail = (doc: unknown): string => errorOf(doc).detail;

describe("manifest error precedence", () => {
  it("reports the alphabetically first missing top-level field", () => {
    expect(detail({ capabilities: ["MetadataAgent"] })).toBe("field author in PluginManifest: required");
    expect(detail({ name: "n", author: "a", permissions: {} })).toBe("field capabilities in PluginManifest: required");
    const { website: _w, version: _v, ...rest } = base;
    expect(detail(rest)).toBe("field version in PluginManifest: required");
  });

  it("reports a missing field before any invalid value", () => {
    const { name: _n, ...rest } = base;
    expect(detail({ ...rest, capabilities: ["Nope"], permissions: { http: {} } })).toBe(
      "field name in PluginManifest: required",
    );
  });

  it("reports the first failing value in document order", () => {
    const capabilitiesFirst = `{"name":"n","author":"a","version":"1","description":"d","website":"w",
      "capabilities":["Nope"],"permissions":{"cache":{}}}`;
    const permissionsFirst = `{"name":"n","author":"a","version":"1","description":"d","website":"w",
      "permissions":{"cache":{}},"capabilities":["Nope"]}`;
    expect(detail(capabilitiesFirst)).toBe(`invalid value (expected one of ${CAPABILITY_ENUM}): "Nope"`);
    expect(detail(permissionsFirst)).toBe("field reason in PluginManifestPermissionsCache: required");
    expect(detail({ ...base, capabilities: ["MetadataAgent", "First", "Second"] })).toMatch(/"First"$/);
  });

  it("orders permissions by their place in the document", () => {
    expect(detail({ ...base, permissions: { config: {}, artwork: { reason: "" } } })).toBe(
      "field reason in PluginManifestPermissionsConfig: required",
    );
    expect(detail({ ...base, permissions: { artwork: { reason: "" }, config: {} } })).toBe(
      "field reason length: must be >= 1",
    );
  });

  it("reports a type mismatch only when nothing else fails while decoding", () => {
    expect(detail({ ...base, name: 5 })).toBe("json: cannot unmarshal number into Go struct field Plain.name of type string");
    // The mismatch comes first in the document, yet the enum failure after it wins.
    expect(detail({ ...base, name: 5, capabilities: ["Nope"] })).toBe(
      `invalid value (expected one of ${CAPABILITY_ENUM}): "Nope"`,
    );
    expect(detail({ ...base, version: true, permissions: { scheduler: { reason: 1 } } })).toBe(
      "json: cannot unmarshal number into Go struct field PluginManifestPermissions.permissions.scheduler.reason of type string",
    );
    // Of two mismatches the first in the document counts.
    expect(detail({ ...base, website: [], author: {} })).toBe(
      "json: cannot unmarshal object into Go struct field Plain.author of type string",
    );
  });

  it("reports a type mismatch before the capabilities length check", () => {
    expect(detail({ ...base, capabilities: [], description: false })).toBe(
      "json: cannot unmarshal bool into Go struct field Plain.description of type string",
    );
  });

  it("names the Go types of mistyped containers", () => {
    expect(detail({ ...base, capabilities: "MetadataAgent" })).toBe(
      "json: cannot unmarshal string into Go struct field Plain.capabilities of type []schema.PluginManifestCapabilitiesElem",
    );
    expect(detail({ ...base, capabilities: [1] })).toBe(
      "json: cannot unmarshal number into Go struct field Plain.capabilities of type string",
    );
    expect(detail({ ...base, permissions: [] })).toBe(
      "json: cannot unmarshal array into Go struct field Plain.permissions of type schema.PluginManifestPermissions",
    );
    expect(detail({ ...base, permissions: { http: "all" } })).toBe(
      "json: cannot unmarshal string into Go struct field PluginManifestPermissions.permissions.http of type map[string]interface {}",
    );
  });

  it("reads a null capability as an empty string", () => {
    expect(detail({ ...base, capabilities: [null] })).toBe(`invalid value (expected one of ${CAPABILITY_ENUM}): ""`);
  });

  it("quotes odd capability names the way Go prints them", () => {
    expect(detail({ ...base, capabilities: ['Bad"\\\n\t\u0001\u007f\u00a0é😀'] })).toBe(
      `invalid value (expected one of ${CAPABILITY_ENUM}): "Bad\\"\\\\\\n\\t\\x01\\x7f\\u00a0é😀"`,
    );
  });
});

describe("permission error precedence", () => {
  const withPermission = (key: string, value: unknown): unknown => ({ ...base, permissions: { [key]: value } });

  it("reports the missing allowedUrls before the missing reason", () => {
    expect(detail(withPermission("http", {}))).toBe("field allowedUrls in PluginManifestPermissionsHttp: required");
    expect(detail(withPermission("websocket", {}))).toBe(
      "field allowedUrls in PluginManifestPermissionsWebsocket: required",
    );
    expect(detail(withPermission("http", { allowedUrls: {} }))).toBe(
      "field reason in PluginManifestPermissionsHttp: required",
    );
  });

  it("names every permission's generated type", () => {
    const types = { config: "Config", scheduler: "Scheduler", cache: "Cache", artwork: "Artwork", subsonicapi: "Subsonicapi" };
    for (const [key, type] of Object.entries(types)) {
      expect(detail(withPermission(key, { note: "no reason" }))).toBe(`field reason in PluginManifestPermissions${type}: required`);
    }
  });

  it("reports an empty or null reason as too short", () => {
    expect(detail(withPermission("config", { reason: "" }))).toBe("field reason length: must be >= 1");
    expect(detail(withPermission("config", { reason: null }))).toBe("field reason length: must be >= 1");
  });

  it("checks the websocket list length before the reason length", () => {
    expect(detail(withPermission("websocket", { reason: "", allowedUrls: [] }))).toBe(
      "field allowedUrls length: must be >= 1",
    );
  });

  it("reports a mistyped reason before an empty list, and an unknown method before both", () => {
    expect(detail(withPermission("websocket", { allowedUrls: [], reason: 7 }))).toBe(
      "json: cannot unmarshal number into Go struct field PluginManifestPermissions.permissions.websocket.reason of type string",
    );
    expect(detail(withPermission("http", { reason: 7, allowedUrls: { "https://x.example.com": ["FETCH"] } }))).toBe(
      `invalid value (expected one of ${METHOD_ENUM}): "FETCH"`,
    );
  });

  it("checks http methods case-sensitively and points at the method", () => {
    const error = errorOf(withPermission("http", { reason: "r", allowedUrls: { "https://x.example.com/*": ["GET", "post"] } }));
    expect(error.detail).toBe(`invalid value (expected one of ${METHOD_ENUM}): "post"`);
    expect(error.pointer).toBe("/permissions/http/allowedUrls/https:~1~1x.example.com~1*/1");
  });

  it("names the Go types inside permissions", () => {
    const http = (allowedUrls: unknown): string => detail(withPermission("http", { reason: "r", allowedUrls }));
    expect(http(["GET"])).toBe(
      "json: cannot unmarshal array into Go struct field PluginManifestPermissions.permissions.http.allowedUrls of type map[string][]schema.PluginManifestPermissionsHttpAllowedUrlsValueElem",
    );
    expect(http({ "*": "GET" })).toBe(
      "json: cannot unmarshal string into Go struct field PluginManifestPermissions.permissions.http.allowedUrls of type []schema.PluginManifestPermissionsHttpAllowedUrlsValueElem",
    );
    expect(http({ "*": [1] })).toBe(
      "json: cannot unmarshal number into Go struct field PluginManifestPermissions.permissions.http.allowedUrls of type string",
    );
    expect(detail(withPermission("websocket", { reason: "r", allowedUrls: "wss://x" }))).toBe(
      "json: cannot unmarshal string into Go struct field PluginManifestPermissions.permissions.websocket.allowedUrls of type []string",
    );
    expect(detail(withPermission("websocket", { reason: "r", allowedUrls: [{}] }))).toBe(
      "json: cannot unmarshal object into Go struct field PluginManifestPermissions.permissions.websocket.allowedUrls of type string",
    );
    expect(detail(withPermission("http", { reason: "r", allowedUrls: {}, allowLocalNetwork: "yes" }))).toBe(
      "json: cannot unmarshal string into Go struct field PluginManifestPermissions.permissions.http.allowLocalNetwork of type bool",
    );
    expect(detail(withPermission("subsonicapi", { reason: "r", allowAdmins: 1 }))).toBe(
      "json: cannot unmarshal number into Go struct field PluginManifestPermissions.permissions.subsonicapi.allowAdmins of type bool",
    );
    expect(detail(withPermission("subsonicapi", { reason: "r", allowedUsernames: [true] }))).toBe(
      "json: cannot unmarshal bool into Go struct field PluginManifestPermissions.permissions.subsonicapi.allowedUsernames of type string",
    );
  });

  it("lets a failing permission beat an earlier top-level type mismatch", () => {
    expect(detail({ ...base, name: 1, permissions: { cache: {} } })).toBe(
      "field reason in PluginManifestPermissionsCache: required",
    );
  });

  it("ignores unknown permission keys whatever their value", () => {
    expect(() => parseManifest(JSON.stringify(withPermission("unknown", 42)))).not.toThrow();
    expect(() => parseManifest(JSON.stringify(withPermission("https", { no: "reason" })))).not.toThrow();
  });

  it("checks a permission spelled in another letter case, naming the field as Go tags it", () => {
    expect(detail(withPermission("HTTP", { no: "reason" }))).toBe("field allowedUrls in PluginManifestPermissionsHttp: required");
    expect(detail(withPermission("SubsonicAPI", { reason: "r", AllowedUsernames: "bob" }))).toBe(
      "json: cannot unmarshal string into Go struct field PluginManifestPermissions.permissions.subsonicapi.allowedUsernames of type []string",
    );
    // Each spelling is decoded on its own, in document order.
    expect(detail({ ...base, permissions: { Config: { reason: "" }, config: {} } })).toBe("field reason length: must be >= 1");
  });
});
