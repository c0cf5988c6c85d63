import { readFile } from "node:fs/promises";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { CAPABILITIES, PERMISSION_KEYS } from "@tonearm/abi";
import { HTTP_METHODS, MANIFEST_SCHEMA_ID, MANIFEST_SCHEMA_PATH, manifestSchema } from "@tonearm/manifest";

// The schema file is also meant for editors and other validators, so it is checked here with a
// plain Ajv, independently of the loader.
const schemaText = await readFile(new URL("../../../schema/manifest.schema.json", import.meta.url), "utf8");
const schema = JSON.parse(schemaText) as Record<string, unknown>;
const validate = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);

const valid = {
  name: "n",
  author: "a",
  version: "1.0.0",
  description: "d",
  website: "https://example.com",
  capabilities: ["MetadataAgent"],
  permissions: {},
};
const withPermissions = (permissions: Record<string, unknown>): Record<string, unknown> => ({ ...valid, permissions });
const accepts = (doc: unknown): boolean => validate(doc);

describe("schema/manifest.schema.json", () => {
  it("is the draft-07 schema the package loads, with a versioned id", () => {
    expect(schema.$schema).toBe("http://json-schema.org/draft-07/schema#");
    expect(schema.$id).toBe(MANIFEST_SCHEMA_ID);
    expect(MANIFEST_SCHEMA_ID).toMatch(/\/v1\.json$/);
    expect(manifestSchema()).toEqual(schema);
    expect(MANIFEST_SCHEMA_PATH.endsWith("schema/manifest.schema.json")).toBe(true);
  });

  it("lists the ABI's capabilities, permissions and http methods", () => {
    const definitions = schema.definitions as Record<string, { enum?: unknown[] }>;
    expect(definitions.capability?.enum).toEqual(CAPABILITIES);
    expect(definitions.httpMethod?.enum).toEqual(HTTP_METHODS);
    const permissions = (schema.properties as Record<string, { properties: object }>).permissions;
    expect(Object.keys(permissions?.properties ?? {})).toEqual(PERMISSION_KEYS);
  });

  it("accepts allowedUrls, allowLocalNetwork, allowedUsernames and allowAdmins inside their permissions", () => {
    expect(
      accepts(
        withPermissions({
          http: { reason: "r", allowedUrls: { "https://api.example.com/*": ["GET", "POST"] }, allowLocalNetwork: true },
          websocket: { reason: "r", allowedUrls: ["wss://gateway.example.com"], allowLocalNetwork: false },
          subsonicapi: { reason: "r", allowedUsernames: ["admin"], allowAdmins: true },
          config: { reason: "r" },
          scheduler: { reason: "r" },
          cache: { reason: "r" },
          artwork: { reason: "r" },
        }),
      ),
    ).toBe(true);
  });

  it("accepts what Navidrome's loader does not check", () => {
    expect(accepts({ ...valid, $schema: "https://example.com/s.json", extra: [1, 2], website: "not a uri" })).toBe(true);
    expect(accepts({ ...valid, capabilities: ["Scrobbler", "Scrobbler"] })).toBe(true);
    expect(accepts(withPermissions({ http: { reason: "r", allowedUrls: {} } }))).toBe(true);
    expect(accepts(withPermissions({ http: { reason: "r", allowedUrls: { "*": ["GET", "GET"], x: [] }, other: 1 } }))).toBe(true);
    expect(accepts(withPermissions({ websocket: { reason: "r", allowedUrls: ["https://x", "https://x"] } }))).toBe(true);
    expect(accepts(withPermissions({ unknown: { customField: "customValue" }, other: 3 }))).toBe(true);
  });

  it("rejects what Navidrome's loader rejects", () => {
    const { name: _name, ...withoutName } = valid;
    expect(accepts(withoutName)).toBe(false);
    expect(accepts({ ...valid, capabilities: [] })).toBe(false);
    expect(accepts({ ...valid, capabilities: ["metadataAgent"] })).toBe(false);
    expect(accepts({ ...valid, name: 1 })).toBe(false);
    expect(accepts(withPermissions({ config: {} }))).toBe(false);
    expect(accepts(withPermissions({ config: { reason: "" } }))).toBe(false);
    expect(accepts(withPermissions({ http: { reason: "r" } }))).toBe(false);
    expect(accepts(withPermissions({ websocket: { reason: "r" } }))).toBe(false);
    expect(accepts(withPermissions({ websocket: { reason: "r", allowedUrls: [] } }))).toBe(false);
    expect(accepts(withPermissions({ http: { reason: "r", allowedUrls: { "*": ["get"] } } }))).toBe(false);
    expect(accepts(withPermissions({ Http: { reason: "r" } }))).toBe(false);
  });

  it("matches permission keys the way Go folds them", () => {
    const grantsCheck = (key: string): boolean => !accepts(withPermissions({ [key]: {} }));
    for (const key of ["HTTP", "WebSocket", "SubsonicAPI", "\u017fcheduler", "artwor\u212a", "WEB\u017fOC\u212aET"]) {
      expect(grantsCheck(key), key).toBe(true);
    }
    for (const key of ["https", "web-socket", "subsonic", "caches", "\u00dfcheduler", "conf\u0130g", "subson\u0131capi"]) {
      expect(grantsCheck(key), key).toBe(false);
    }
  });
});
