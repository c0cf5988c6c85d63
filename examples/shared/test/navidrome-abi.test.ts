// Every built example (the Go build too) has the shape Navidrome v0.57–v0.59's loader requires of a
// plugin.wasm (ABI.md §1.3, §1.6, §1.10), so the same folder loads there: `_initialize`, `memory`,
// `malloc`, `free`, `<capability>_api_version` and every method export of each declared capability,
// and imports from `env` that the manifest's permissions grant. It also holds the manifests to least
// privilege: every permission granted is one the module actually imports.
import { readFile } from "node:fs/promises";
import { capability, hostImport, hostImportsFor, isCapability } from "@tonearm/abi";
import { grantedPermissions, loadManifest } from "@tonearm/manifest";
import { describe, expect, it } from "vitest";
import { exampleFolder, goExampleFolder } from "./examples.js";

const builds: [string, string | undefined][] = [
  ["lastfm-agent", await exampleFolder("lastfm-agent")],
  ["lastfm-agent-go", await goExampleFolder("lastfm-agent")],
  ["musicbrainz-agent", await exampleFolder("musicbrainz-agent")],
  ["listenbrainz-scrobbler", await exampleFolder("listenbrainz-scrobbler")],
  ["ws-ticker", await exampleFolder("ws-ticker")],
];

describe.each(builds)("%s", (_id, folder) => {
  it.skipIf(folder === undefined)("exports what Navidrome's loader looks up for each declared capability", async () => {
    const manifest = await loadManifest(folder ?? "");
    const module = await WebAssembly.compile(await readFile(`${folder}/plugin.wasm`));
    const exports = new Map(WebAssembly.Module.exports(module).map((e) => [e.name, e.kind]));
    const expected = ["_initialize", "malloc", "free"];
    for (const name of manifest.capabilities) {
      expect(isCapability(name), name).toBe(true);
      const descriptor = capability(name as Parameters<typeof capability>[0]);
      expected.push(descriptor.versionExport, ...descriptor.methods.map((m) => m.exportName));
    }
    for (const name of expected) expect(exports.get(name), name).toBe("function");
    expect(exports.get("memory")).toBe("memory");
  });

  it.skipIf(folder === undefined)("imports only WASI and the env functions its permissions grant, and uses every permission it asks for", async () => {
    const manifest = await loadManifest(folder ?? "");
    const module = await WebAssembly.compile(await readFile(`${folder}/plugin.wasm`));
    const imports = WebAssembly.Module.imports(module);
    expect(imports.filter((i) => i.module !== "env" && i.module !== "wasi_snapshot_preview1")).toEqual([]);

    const envImports = imports.filter((i) => i.module === "env").map((i) => i.name);
    const granted = grantedPermissions(manifest);
    const allowed = new Set(hostImportsFor(granted).map((i) => i.name));
    expect(envImports.filter((name) => !allowed.has(name))).toEqual([]);
    const used = new Set(envImports.map((name) => hostImport(name)?.permission));
    expect(granted.filter((permission) => !used.has(permission))).toEqual([]);
  });
});
