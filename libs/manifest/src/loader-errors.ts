/**
 * Turns the schema violations Ajv finds into the one error Navidrome's loader would report.
 *
 * Navidrome decodes a manifest with go-jsonschema generated `UnmarshalJSON` methods. The manifest
 * and each known permission are decoded by one such method, a "unit", which fails with the first
 * of, in this order:
 *  1. shape: the value is not a JSON object;
 *  2. required: a required key is missing, keys checked in alphabetical order;
 *  3. decode: values decoded in document order; a capability or http method outside its enum, or a
 *     failing permission unit, stops decoding at once ("hard"), while a plain type mismatch is
 *     remembered and reported only if nothing hard follows ("saved"); the first of each counts;
 *  4. length: `capabilities`, then (websocket) `allowedUrls` and `reason`, too short.
 * A failing permission unit is a hard decode error of the manifest unit at the permission's place.
 * Permission keys are matched ignoring case, as Go does; each spelling present is its own unit.
 */
import type { ErrorObject } from "ajv";
import { CAPABILITIES, type PermissionKey } from "@tonearm/abi";
import { foldsTo, permissionKeyOf } from "./fold.js";
import { HTTP_METHODS } from "./model.js";
import { cannotUnmarshal, invalidValue, jsonKind, type JsonKind } from "./go-text.js";

type Stage =
  | { readonly kind: "shape" }
  | { readonly kind: "required"; readonly order: number }
  | { readonly kind: "decode"; readonly hard: boolean; readonly pos: readonly number[] }
  | { readonly kind: "length"; readonly order: number };

interface Failure {
  /** `undefined` for the manifest unit, else the key (as written) of the permission whose unit failed. */
  readonly unit: string | undefined;
  readonly stage: Stage;
  readonly text: string;
  readonly pointer: string;
}

export interface LoaderFailure {
  /** Navidrome's text, without the `invalid manifest: ` prefix. */
  readonly detail: string;
  /** JSON Pointer of the offending value. */
  readonly pointer: string;
}

const MANIFEST_REQUIRED = ["author", "capabilities", "description", "name", "permissions", "version", "website"];
const TEXT_FIELDS = new Set(["author", "description", "name", "version", "website"]);
const PERMISSION_REQUIRED: Readonly<Record<PermissionKey, readonly string[]>> = {
  http: ["allowedUrls", "reason"],
  websocket: ["allowedUrls", "reason"],
  config: ["reason"],
  scheduler: ["reason"],
  cache: ["reason"],
  artwork: ["reason"],
  subsonicapi: ["reason"],
};
// Go type names as printed by encoding/json (the generated package is called `schema`).
const GO_CAPABILITIES = "[]schema.PluginManifestCapabilitiesElem";
const GO_HTTP_METHODS = "[]schema.PluginManifestPermissionsHttpAllowedUrlsValueElem";
const GO_HTTP_URLS = `map[string]${GO_HTTP_METHODS}`;
const GO_RAW_OBJECT = "map[string]interface {}";

/** Picks Navidrome's error among Ajv's (collected with `allErrors`) for the parsed document. */
export function loaderFailure(errors: readonly ErrorObject[], doc: unknown): LoaderFailure {
  const manifestUnit: Failure[] = [];
  const permissionUnits = new Map<string, Failure[]>();
  for (const error of errors) {
    const failure = classify(error, doc);
    if (failure.unit === undefined) manifestUnit.push(failure);
    else permissionUnits.set(failure.unit, [...(permissionUnits.get(failure.unit) ?? []), failure]);
  }
  for (const [key, failures] of permissionUnits) {
    const first = firstOf(failures);
    const pos = locate(doc, ["permissions", key]).pos;
    manifestUnit.push({ ...first, unit: undefined, stage: { kind: "decode", hard: true, pos } });
  }
  const { text, pointer } = firstOf(manifestUnit);
  return { detail: text, pointer };
}

function firstOf(failures: readonly Failure[]): Failure {
  const sorted = [...failures].sort((a, b) => compareRanks(rank(a.stage), rank(b.stage)));
  const first = sorted[0];
  if (!first) throw new Error("no schema violation to report");
  return first;
}

function rank(stage: Stage): number[] {
  switch (stage.kind) {
    case "shape":
      return [0];
    case "required":
      return [1, stage.order];
    case "decode":
      return [2, stage.hard ? 0 : 1, ...stage.pos];
    case "length":
      return [3, stage.order];
  }
}

function compareRanks(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

function classify(error: ErrorObject, doc: unknown): Failure {
  const segments = pointerSegments(error.instancePath);
  const { value, pos } = locate(doc, segments);
  const kind = jsonKind(value);
  const at = (unit: string | undefined, stage: Stage, text: string, pointer = error.instancePath): Failure => ({
    unit,
    stage,
    text,
    pointer,
  });
  const saved: Stage = { kind: "decode", hard: false, pos };
  const hard: Stage = { kind: "decode", hard: true, pos };
  const plain = (path: string): { struct: string; path: string } => ({ struct: "Plain", path });
  const [first, second, ...rest] = segments;

  if (first === undefined) {
    if (error.keyword === "required") {
      const field = missingProperty(error);
      const order = MANIFEST_REQUIRED.indexOf(field);
      return at(undefined, { kind: "required", order }, `field ${field} in PluginManifest: required`, `/${field}`);
    }
    // Navidrome would read a `null` document as an empty manifest; Tonearm refuses it here.
    if (error.keyword === "type") return at(undefined, { kind: "shape" }, cannotUnmarshal(kind, GO_RAW_OBJECT));
  } else if (second === undefined) {
    if (TEXT_FIELDS.has(first) && error.keyword === "type") {
      return at(undefined, saved, cannotUnmarshal(kind, "string", plain(first)));
    }
    if (first === "capabilities" && error.keyword === "type") {
      return at(undefined, saved, cannotUnmarshal(kind, GO_CAPABILITIES, plain(first)));
    }
    if (first === "capabilities" && error.keyword === "minItems") {
      return at(undefined, { kind: "length", order: 0 }, "field capabilities length: must be >= 1");
    }
    if (first === "permissions" && error.keyword === "type") {
      return at(undefined, saved, cannotUnmarshal(kind, "schema.PluginManifestPermissions", plain(first)));
    }
  } else if (first === "capabilities" && rest.length === 0 && error.keyword === "enum") {
    return at(undefined, hard, enumFailure(CAPABILITIES, value, kind, plain("capabilities")));
  } else if (first === "permissions") {
    const permission = permissionKeyOf(second);
    const failure = permission && classifyPermission(permission, rest, error, value, kind, saved, hard);
    if (failure) return at(second, failure.stage, failure.text, failure.pointer ?? error.instancePath);
  }
  // Not reachable with the shipped schema; keeps an unexpected violation visible rather than lost.
  return at(undefined, hard, `${error.instancePath || "/"} ${error.message ?? error.keyword}`);
}

function classifyPermission(
  key: PermissionKey,
  rest: readonly string[],
  error: ErrorObject,
  value: unknown,
  kind: JsonKind,
  saved: Stage,
  hard: Stage,
): { stage: Stage; text: string; pointer?: string } | undefined {
  const base = `permissions.${key}`;
  const field = (path: string): { struct: string; path: string } => ({
    struct: "PluginManifestPermissions",
    path: path ? `${base}.${path}` : base,
  });
  const [written, item, method] = rest;
  // Error texts name the field as tagged in Go, whatever its spelling in the document.
  const isUsernames = key === "subsonicapi" && written !== undefined && foldsTo(written, "allowedUsernames");
  const name = isUsernames ? "allowedUsernames" : written;
  const { keyword } = error;

  if (name === undefined) {
    if (keyword === "type") return { stage: { kind: "shape" }, text: cannotUnmarshal(kind, GO_RAW_OBJECT, field("")) };
    if (keyword === "required") {
      const missing = missingProperty(error);
      const order = PERMISSION_REQUIRED[key].indexOf(missing);
      const unitType = `PluginManifestPermissions${key[0]?.toUpperCase() ?? ""}${key.slice(1)}`;
      const pointer = `${error.instancePath}/${missing}`;
      return { stage: { kind: "required", order }, text: `field ${missing} in ${unitType}: required`, pointer };
    }
    return undefined;
  }
  if (name === "reason" && item === undefined) {
    // A null reason decodes to "" and fails the length check, like an empty one.
    if (keyword === "minLength" || value === null) {
      return { stage: { kind: "length", order: 1 }, text: "field reason length: must be >= 1" };
    }
    return { stage: saved, text: cannotUnmarshal(kind, "string", field("reason")) };
  }
  if ((name === "allowLocalNetwork" || name === "allowAdmins") && item === undefined) {
    return { stage: saved, text: cannotUnmarshal(kind, "bool", field(name)) };
  }
  if (key === "http" && name === "allowedUrls") {
    if (item === undefined) return { stage: saved, text: cannotUnmarshal(kind, GO_HTTP_URLS, field(name)) };
    if (method === undefined) return { stage: saved, text: cannotUnmarshal(kind, GO_HTTP_METHODS, field(name)) };
    return { stage: hard, text: enumFailure(HTTP_METHODS, value, kind, field(name)) };
  }
  if ((key === "websocket" && name === "allowedUrls") || (key === "subsonicapi" && name === "allowedUsernames")) {
    if (item === undefined && keyword === "minItems") {
      return { stage: { kind: "length", order: 0 }, text: `field ${name} length: must be >= 1` };
    }
    const goType = item === undefined ? "[]string" : "string";
    return { stage: saved, text: cannotUnmarshal(kind, goType, field(name)) };
  }
  return undefined;
}

/** An element of an enum-typed list: a string (or null, read as "") outside the enum, or not a string. */
function enumFailure(
  allowed: readonly string[],
  value: unknown,
  kind: JsonKind,
  field: { struct: string; path: string },
): string {
  if (typeof value === "string") return invalidValue(allowed, value);
  if (value === null) return invalidValue(allowed, "");
  return cannotUnmarshal(kind, "string", field);
}

function missingProperty(error: ErrorObject): string {
  const params = error.params as { missingProperty?: unknown };
  return String(params.missingProperty);
}

function pointerSegments(pointer: string): string[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
}

/** The value at a path and its document position: the index of each key or item along the way. */
function locate(doc: unknown, segments: readonly string[]): { value: unknown; pos: number[] } {
  const pos: number[] = [];
  let current = doc;
  for (const segment of segments) {
    if (Array.isArray(current)) {
      const index = Number(segment);
      pos.push(index);
      current = current[index];
    } else if (typeof current === "object" && current !== null) {
      pos.push(Object.keys(current).indexOf(segment));
      current = Object.hasOwn(current, segment) ? (current as Record<string, unknown>)[segment] : undefined;
    } else {
      pos.push(-1);
      current = undefined;
    }
  }
  return { value: current, pos };
}
