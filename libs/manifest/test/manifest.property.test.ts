import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CAPABILITIES, PERMISSION_KEYS, type PermissionKey } from "@tonearm/abi";
import { HTTP_METHODS, ManifestError, grantedPermissions, parseManifest, unknownPermissionKeys } from "@tonearm/manifest";

const REQUIRED = ["author", "capabilities", "description", "name", "permissions", "version", "website"] as const;
const TEXT_FIELDS = ["author", "description", "name", "version", "website"] as const;

// Go's key matching: ASCII case plus two letters that fold onto ASCII ones.
const SPECIAL_FOLDS: Record<string, string> = { "\u017f": "s", "\u212a": "k" };
const fold = (key: string): string =>
  [...key].map((ch) => SPECIAL_FOLDS[ch] ?? (ch < "\x80" ? ch.toLowerCase() : ch)).join("");
const foldsToAny = (key: string, names: readonly string[]): boolean => names.some((n) => fold(key) === fold(n));

/** The message `parseManifest` fails with, or undefined when it accepts the text. */
function parseFailure(text: string): string | undefined {
  try {
    parseManifest(text);
    return undefined;
  } catch (error) {
    if (error instanceof ManifestError) return error.message;
    throw error;
  }
}

type Entry = readonly [string, unknown];
const entries = (...parts: (readonly Entry[])[]): Entry[] => parts.flat();
const shuffled = (items: readonly Entry[]): fc.Arbitrary<Entry[]> =>
  fc.shuffledSubarray([...items], { minLength: items.length, maxLength: items.length });
const objectOf = (items: fc.Arbitrary<Entry[]>): fc.Arbitrary<Record<string, unknown>> =>
  items.chain(shuffled).map((list) => Object.fromEntries(list));
/** `[name, value]`, or nothing with probability `absent`. */
const maybeEntry = (name: string, value: fc.Arbitrary<unknown>, absent: number): fc.Arbitrary<Entry[]> =>
  fc.oneof(
    { weight: Math.round(100 * (1 - absent)), arbitrary: value.map((v): Entry[] => [[name, v]]) },
    { weight: Math.round(100 * absent), arbitrary: fc.constant<Entry[]>([]) },
  );
const combine = (...parts: fc.Arbitrary<Entry[]>[]): fc.Arbitrary<Entry[]> =>
  fc.tuple(...parts).map((lists) => entries(...lists));

// ---------------------------------------------------------------------------------------------
// Valid manifests

const anyText = fc.string({ unit: "binary", maxLength: 12 });
const reason = fc.string({ unit: "binary", minLength: 1, maxLength: 12 });
const urlPattern = fc.oneof(fc.webUrl(), fc.constantFrom("*", "https://*.example.com", "https://api.example.com:*"));
const optionalBool = fc.option(fc.boolean(), { nil: undefined });

const validPermissions: { [K in PermissionKey]: fc.Arbitrary<Record<string, unknown>> } = {
  http: fc.record(
    { reason, allowedUrls: fc.dictionary(urlPattern, fc.array(fc.constantFrom(...HTTP_METHODS), { maxLength: 4 })), allowLocalNetwork: optionalBool },
    { requiredKeys: ["reason", "allowedUrls"] },
  ),
  websocket: fc.record(
    { reason, allowedUrls: fc.array(urlPattern, { minLength: 1, maxLength: 3 }), allowLocalNetwork: optionalBool },
    { requiredKeys: ["reason", "allowedUrls"] },
  ),
  subsonicapi: fc.record(
    { reason, allowedUsernames: fc.array(anyText, { maxLength: 3 }), allowAdmins: optionalBool },
    { requiredKeys: ["reason"] },
  ),
  config: fc.record({ reason }),
  scheduler: fc.record({ reason }),
  cache: fc.record({ reason, note: fc.jsonValue({ maxDepth: 1 }) }, { requiredKeys: ["reason"] }),
  artwork: fc.record({ reason }),
};

const unknownKey = (known: readonly string[]): fc.Arbitrary<string> =>
  fc.string({ maxLength: 10 }).filter((k) => k !== "__proto__" && !foldsToAny(k, known));

const validManifest = fc
  .record({
    text: fc.record(Object.fromEntries(TEXT_FIELDS.map((f) => [f, anyText])) as Record<(typeof TEXT_FIELDS)[number], fc.Arbitrary<string>>),
    capabilities: fc.array(fc.constantFrom(...CAPABILITIES), { minLength: 1, maxLength: 8 }),
    permissions: fc.record(validPermissions, { requiredKeys: [] }),
    unknownPermissions: fc.dictionary(unknownKey(PERMISSION_KEYS), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }),
    extras: fc.dictionary(unknownKey(REQUIRED), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  })
  .chain((parts) =>
    fc
      .tuple(
        shuffled([...Object.entries(parts.permissions), ...Object.entries(parts.unknownPermissions)]),
        shuffled([...Object.entries(parts.text), ["capabilities", parts.capabilities], ...Object.entries(parts.extras)]),
      )
      .map(([permissionEntries, topEntries]) => ({
        parts,
        doc: Object.fromEntries([...topEntries, ["permissions", Object.fromEntries(permissionEntries)]]) as Record<string, unknown>,
      })),
  );

describe("manifest properties", () => {
  it("parses any manifest built from valid parts and keeps what it says", () => {
    fc.assert(
      fc.property(validManifest, ({ parts, doc }) => {
        const manifest = parseManifest(JSON.stringify(doc));
        expect(manifest.capabilities).toEqual(parts.capabilities);
        for (const field of TEXT_FIELDS) expect(manifest[field]).toBe(parts.text[field]);
        expect(grantedPermissions(manifest)).toEqual(PERMISSION_KEYS.filter((k) => parts.permissions[k] !== undefined));
        expect(unknownPermissionKeys(manifest).sort()).toEqual(Object.keys(parts.unknownPermissions).sort());
        const { http, websocket, subsonicapi } = parts.permissions;
        if (http) {
          expect(manifest.permissions.http?.allowedUrls).toEqual(http.allowedUrls);
          expect(manifest.permissions.http?.allowLocalNetwork).toBe(http.allowLocalNetwork === true);
        }
        if (websocket) expect(manifest.permissions.websocket?.allowedUrls).toEqual(websocket.allowedUrls);
        if (subsonicapi) {
          expect(manifest.permissions.subsonicapi?.allowedUsernames).toEqual(subsonicapi.allowedUsernames ?? []);
          expect(manifest.permissions.subsonicapi?.allowAdmins).toBe(subsonicapi.allowAdmins === true);
        }
      }),
    );
  });

  it("reports the alphabetically first of the required fields removed", () => {
    const removal = fc.subarray([...REQUIRED], { minLength: 1 });
    fc.assert(
      fc.property(validManifest, removal, ({ doc }, removed) => {
        const broken = Object.fromEntries(Object.entries(doc).filter(([k]) => !removed.includes(k as never)));
        const first = [...removed].sort()[0];
        expect(parseFailure(JSON.stringify(broken))).toBe(`invalid manifest: field ${first} in PluginManifest: required`);
      }),
    );
  });

  it("grants a permission under any spelling Go folds onto its name", () => {
    const spelling = (key: string): fc.Arbitrary<string> =>
      fc
        .tuple(...[...key].map((ch) => fc.constantFrom(...new Set([ch, ch.toUpperCase(), ...Object.keys(SPECIAL_FOLDS).filter((s) => SPECIAL_FOLDS[s] === ch)]))))
        .map((chars) => chars.join(""));
    const spelled = fc.constantFrom(...PERMISSION_KEYS).chain((key) => fc.tuple(fc.constant(key), spelling(key)));
    fc.assert(
      fc.property(spelled, validManifest, ([key, written], { doc }) => {
        const permissions = { [written]: { reason: "r", allowedUrls: key === "http" ? { "*": ["GET"] } : ["wss://x"] } };
        const manifest = parseManifest(JSON.stringify({ ...doc, permissions }));
        expect(grantedPermissions(manifest)).toEqual([key]);
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Manifests with mistakes, against a direct model of Navidrome's generated UnmarshalJSON

const CAPABILITY_ENUM = `[]interface {}{${CAPABILITIES.map((c) => `"${c}"`).join(", ")}}`;
const METHOD_ENUM = `[]interface {}{${HTTP_METHODS.map((m) => `"${m}"`).join(", ")}}`;
const PERM = "PluginManifestPermissions";

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const kindOf = (v: unknown): string =>
  Array.isArray(v) ? "array" : typeof v === "boolean" ? "bool" : typeof v === "object" ? "object" : typeof v;
const mismatch = (v: unknown, struct: string, path: string, type: string): string =>
  `json: cannot unmarshal ${kindOf(v)} into Go struct field ${struct}.${path} of type ${type}`;
const invalidValue = (allowed: string, v: string): string => `invalid value (expected one of ${allowed}): ${JSON.stringify(v)}`;

function navidromeError(doc: Record<string, unknown>): string | undefined {
  for (const field of REQUIRED) if (!Object.hasOwn(doc, field)) return `field ${field} in PluginManifest: required`;
  let saved: string | undefined;
  for (const [key, value] of Object.entries(doc)) {
    if (value === null) continue;
    if ((TEXT_FIELDS as readonly string[]).includes(key)) {
      if (typeof value !== "string") saved ??= mismatch(value, "Plain", key, "string");
    } else if (key === "capabilities") {
      if (!Array.isArray(value)) {
        saved ??= mismatch(value, "Plain", key, "[]schema.PluginManifestCapabilitiesElem");
        continue;
      }
      for (const item of value as unknown[]) {
        if (item !== null && typeof item !== "string") return mismatch(item, "Plain", key, "string");
        if (!(CAPABILITIES as readonly string[]).includes(item ?? "")) return invalidValue(CAPABILITY_ENUM, item ?? "");
      }
    } else if (key === "permissions") {
      if (!isObject(value)) {
        saved ??= mismatch(value, "Plain", key, "schema.PluginManifestPermissions");
        continue;
      }
      for (const [written, settings] of Object.entries(value)) {
        const permission = PERMISSION_KEYS.find((p) => fold(written) === p);
        if (permission === undefined || settings === null) continue;
        const error = permissionError(permission, settings);
        if (error) return error;
      }
    }
  }
  if (saved) return saved;
  if (Array.isArray(doc.capabilities) && doc.capabilities.length === 0) return "field capabilities length: must be >= 1";
  return undefined;
}

function permissionError(key: PermissionKey, settings: unknown): string | undefined {
  const base = `permissions.${key}`;
  if (!isObject(settings)) return mismatch(settings, PERM, base, "map[string]interface {}");
  const required = key === "http" || key === "websocket" ? ["allowedUrls", "reason"] : ["reason"];
  const typeName = `${PERM}${key[0]?.toUpperCase() ?? ""}${key.slice(1)}`;
  for (const field of required) if (!Object.hasOwn(settings, field)) return `field ${field} in ${typeName}: required`;
  let saved: string | undefined;
  for (const [written, value] of Object.entries(settings)) {
    const field = key === "subsonicapi" && fold(written) === fold("allowedUsernames") ? "allowedUsernames" : written;
    if (value === null) continue;
    const isFlag = (field === "allowLocalNetwork" && (key === "http" || key === "websocket")) || (field === "allowAdmins" && key === "subsonicapi");
    if (field === "reason") {
      if (typeof value !== "string") saved ??= mismatch(value, PERM, `${base}.reason`, "string");
    } else if (isFlag) {
      if (typeof value !== "boolean") saved ??= mismatch(value, PERM, `${base}.${field}`, "bool");
    } else if (key === "http" && field === "allowedUrls") {
      const methodsType = "[]schema.PluginManifestPermissionsHttpAllowedUrlsValueElem";
      if (!isObject(value)) {
        saved ??= mismatch(value, PERM, `${base}.allowedUrls`, `map[string]${methodsType}`);
        continue;
      }
      for (const methods of Object.values(value)) {
        if (methods === null) continue;
        if (!Array.isArray(methods)) {
          saved ??= mismatch(methods, PERM, `${base}.allowedUrls`, methodsType);
          continue;
        }
        for (const method of methods as unknown[]) {
          if (method !== null && typeof method !== "string") return mismatch(method, PERM, `${base}.allowedUrls`, "string");
          if (!(HTTP_METHODS as readonly string[]).includes(method ?? "")) return invalidValue(METHOD_ENUM, method ?? "");
        }
      }
    } else if ((key === "websocket" && field === "allowedUrls") || (key === "subsonicapi" && field === "allowedUsernames")) {
      if (!Array.isArray(value)) {
        saved ??= mismatch(value, PERM, `${base}.${field}`, "[]string");
        continue;
      }
      for (const item of value as unknown[]) {
        if (item !== null && typeof item !== "string") saved ??= mismatch(item, PERM, `${base}.${field}`, "string");
      }
    }
  }
  if (saved) return saved;
  if (key === "websocket" && Array.isArray(settings.allowedUrls) && settings.allowedUrls.length === 0) {
    return "field allowedUrls length: must be >= 1";
  }
  if (((settings.reason as string | null) ?? "") === "") return "field reason length: must be >= 1";
  return undefined;
}

const weighted = <T>(good: fc.Arbitrary<T>, ...bad: fc.Arbitrary<unknown>[]): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 8 * bad.length, arbitrary: good as fc.Arbitrary<unknown> }, ...bad.map((arbitrary) => ({ weight: 1, arbitrary })));
const wrongType = fc.oneof(fc.integer(), fc.boolean(), fc.constant([]), fc.constant({ a: 1 }), fc.constant("text"));
const sloppyReason = weighted(fc.constantFrom("why", "because"), fc.constant(""), fc.constant(null), fc.integer());
const sloppyFlag = weighted(fc.boolean(), fc.constant(null), fc.constantFrom("yes", 1));
const sloppyList = (item: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> =>
  weighted(fc.array(weighted(item, fc.constant(null), fc.integer(), fc.constant({})), { maxLength: 3 }), fc.constant(null), fc.constantFrom("text", 3, { a: 1 }));
const sloppyMethods = sloppyList(fc.constantFrom(...HTTP_METHODS, "get", "FETCH"));
const sloppyUrlMap = weighted(
  fc.dictionary(fc.constantFrom("https://a.example.com", "https://*.b.example.com/*", "*"), sloppyMethods, { maxKeys: 3 }),
  fc.constant(null),
  fc.constantFrom(["GET"], "text", 1),
);
const sloppyPermission: { [K in PermissionKey]: fc.Arbitrary<unknown> } = {
  http: objectOf(combine(maybeEntry("reason", sloppyReason, 0.05), maybeEntry("allowedUrls", sloppyUrlMap, 0.05), maybeEntry("allowLocalNetwork", sloppyFlag, 0.5))),
  websocket: objectOf(
    combine(maybeEntry("reason", sloppyReason, 0.05), maybeEntry("allowedUrls", sloppyList(fc.constant("wss://x")), 0.05), maybeEntry("allowLocalNetwork", sloppyFlag, 0.5)),
  ),
  subsonicapi: objectOf(
    combine(
      maybeEntry("reason", sloppyReason, 0.05),
      maybeEntry("allowedUsernames", sloppyList(fc.constant("admin")), 0.5),
      maybeEntry("AllowedUsernames", sloppyList(fc.constant("bob")), 0.7),
      maybeEntry("allowAdmins", sloppyFlag, 0.5),
    ),
  ),
  config: objectOf(combine(maybeEntry("reason", sloppyReason, 0.05), maybeEntry("other", wrongType, 0.7))),
  scheduler: objectOf(maybeEntry("reason", sloppyReason, 0.05)),
  cache: objectOf(maybeEntry("reason", sloppyReason, 0.05)),
  artwork: objectOf(maybeEntry("reason", sloppyReason, 0.05)),
};
const sloppyPermissions = weighted(
  objectOf(
    combine(
      ...PERMISSION_KEYS.map((key) => maybeEntry(key, weighted(sloppyPermission[key], fc.constant(null), wrongType), 0.75)),
      maybeEntry("Cache", sloppyPermission.cache, 0.9),
      maybeEntry("WebSocket", sloppyPermission.websocket, 0.9),
      maybeEntry("unknown", wrongType, 0.8),
    ),
  ),
  fc.constant(null),
  fc.constantFrom([], "none", 0),
);
const sloppyCapabilities = weighted(
  fc.array(weighted(fc.constantFrom(...CAPABILITIES), fc.constantFrom("metadataagent", "Nope", ""), fc.constant(null), fc.integer(), fc.constant({})), {
    maxLength: 4,
  }),
  fc.constant(null),
  fc.constantFrom("MetadataAgent", 1, { a: 1 }),
);
const sloppyText = weighted(fc.string({ maxLength: 6 }), fc.constant(null), wrongType);
const sloppyManifest = objectOf(
  combine(
    ...TEXT_FIELDS.map((f) => maybeEntry(f, sloppyText, 0.03)),
    maybeEntry("capabilities", sloppyCapabilities, 0.03),
    maybeEntry("permissions", sloppyPermissions, 0.03),
    maybeEntry("$schema", fc.constant("https://example.com/schema.json"), 0.5),
  ),
);

describe("manifest errors against a model of Navidrome's decoder", () => {
  it("accepts exactly what the model accepts and reports the same error", () => {
    fc.assert(
      fc.property(sloppyManifest, (doc) => {
        const expected = navidromeError(doc);
        expect(parseFailure(JSON.stringify(doc))).toBe(expected === undefined ? undefined : `invalid manifest: ${expected}`);
      }),
      { numRuns: 3000 },
    );
  });
});
