import { readFile } from "node:fs/promises";
import { loadManifest, type PluginManifest } from "@tonearm/manifest";
import { fileURLToPath } from "node:url";

/** Where the test setup writes built fixture plugin folders (each usable as a plugins folder). */
const BUILD_ROOT = fileURLToPath(new URL("../.build/", import.meta.url));

export type FixtureSet = "plugins" | "hostile" | "go";

export const fixturePaths = {
  buildRoot: BUILD_ROOT,
  /** The folder holding one built plugin folder per fixture of the set. */
  folder(set: FixtureSet): string {
    return `${BUILD_ROOT}${set}`;
  },
  plugin(set: FixtureSet, name: string): string {
    return `${BUILD_ROOT}${set}/${name}`;
  },
};

/** A built fixture plugin as the runtime loads it: folder name as id, its manifest and wasm bytes. */
export async function readFixture(set: FixtureSet, name: string): Promise<{ id: string; manifest: PluginManifest; wasm: Uint8Array }> {
  const dir = fixturePaths.plugin(set, name);
  return { id: name, manifest: await loadManifest(dir), wasm: new Uint8Array(await readFile(`${dir}/plugin.wasm`)) };
}
