// docs/plugins/manifest.md against the loader, the schema and the host's URL check: its example
// manifest loads, every schema field and permission setting is documented, every URL-pattern
// example is decided as the table says, and every loader error quoted is the one the loader gives.
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { hostImportsFor, PERMISSION_KEYS } from "@tonearm/abi";
import { checkHttpRequest } from "@tonearm/host";
import { EMPTY_ALLOWED_URLS, manifestSchema, parseManifest, validateRuntimePermissions, type HttpPermission } from "@tonearm/manifest";
import { describe, expect, it } from "vitest";

const DOC = fileURLToPath(new URL("../manifest.md", import.meta.url));
const doc = await readFile(DOC, "utf8");

/** The rows of the Markdown table that follows `heading`, as cells. */
function tableAfter(heading: string): string[][] {
  const section = doc.slice(doc.indexOf(heading));
  const lines = section.split("\n");
  const start = lines.findIndex((l) => l.startsWith("|"));
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(line.slice(1, -1).split(" | ").map((c) => c.trim()));
  }
  return rows;
}

const code = (cell: string): string => cell.replace(/^`|`$/g, "");

const BASE = { name: "x", author: "a", version: "1", description: "d", website: "w", capabilities: ["MetadataAgent"], permissions: {} };

function loaderError(manifest: unknown): string {
  try {
    parseManifest(JSON.stringify(manifest));
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`loaded: ${JSON.stringify(manifest)}`);
}

describe("docs/plugins/manifest.md", () => {
  it("shows a manifest that loads", () => {
    const example = /```json\n([\s\S]*?)```/.exec(doc)?.[1] ?? "";
    expect(parseManifest(example).capabilities).toEqual(["MetadataAgent"]);
  });

  it("documents every field and every permission setting of the schema", () => {
    const schema = manifestSchema() as { properties: Record<string, unknown>; definitions: Record<string, { properties?: Record<string, unknown> }> };
    const fields = tableAfter("## Fields").map((row) => code(row[0] ?? ""));
    expect(fields.sort()).toEqual(Object.keys(schema.properties).filter((k) => k !== "$schema").sort());

    const permissions = tableAfter("## Permissions");
    expect(permissions.map((row) => code(row[0] ?? "")).sort()).toEqual([...PERMISSION_KEYS].sort());
    for (const [cell, grants = "", settings = ""] of permissions) {
      const key = code(cell ?? "") as (typeof PERMISSION_KEYS)[number];
      expect(grants, key).toBe(hostImportsFor([key]).map((i) => `\`${i.name}\``).join(", "));
      const definition = (schema.properties.permissions as { properties: Record<string, { $ref: string }> }).properties[key]?.$ref.split("/").at(-1) ?? "";
      for (const setting of Object.keys(schema.definitions[definition]?.properties ?? {})) {
        if (setting !== "reason") expect(settings, `${key}.${setting}`).toContain(`\`${setting}\``);
      }
    }
  });

  it("decides every URL-pattern example as the host does", () => {
    const rows = tableAfter("## URL patterns");
    expect(rows.length).toBeGreaterThan(5);
    for (const [patternCell = "", requestCell = "", decision = ""] of rows) {
      const [, pattern = "", methods = ""] = /^`(.+)` → `(.+)`$/.exec(patternCell) ?? [];
      const [method = "", url = ""] = code(requestCell).split(" ");
      const permission: HttpPermission = { reason: "r", allowedUrls: { [pattern]: methods.split(", ") as HttpPermission["allowedUrls"][string] }, allowLocalNetwork: false };
      const actual = checkHttpRequest(permission, url, method);
      expect(actual.allowed ? "allowed" : `\`${actual.reason}\``, `${patternCell} ${requestCell}`).toBe(decision);
    }
  });

  it("quotes the loader's own error for each mistake", () => {
    const errors = tableAfter("## What the loader refuses").map((row) => code(row[1] ?? ""));
    const without = (key: string) => Object.fromEntries(Object.entries(BASE).filter(([k]) => k !== key));
    const made = [
      loaderError(without("name")),
      loaderError(without("permissions")),
      loaderError({ ...BASE, capabilities: [] }),
      loaderError({ ...BASE, capabilities: ["Agent"] }),
      loaderError({ ...BASE, permissions: { cache: {} } }),
      loaderError({ ...BASE, permissions: { cache: { reason: "" } } }),
      loaderError({ ...BASE, permissions: { http: { reason: "r" } } }),
      loaderError({ ...BASE, permissions: { http: { reason: "r", allowedUrls: { "https://x/*": ["FETCH"] } } } }),
      loaderError({ ...BASE, permissions: { websocket: { reason: "r", allowedUrls: [] } } }),
    ];
    expect(errors).toEqual(made);
  });

  it("says what an empty http allow-list does", () => {
    const manifest = parseManifest(JSON.stringify({ ...BASE, permissions: { http: { reason: "r", allowedUrls: {} } } }));
    expect(() => validateRuntimePermissions(manifest)).toThrow(EMPTY_ALLOWED_URLS);
    expect(doc).toContain(`\`${EMPTY_ALLOWED_URLS}\``);
  });
});
