/**
 * What `refresh`, `install` and `update` check on a plugin in this process: its module compiles,
 * links against the host functions its manifest permits, and an instance answers the capability
 * checks — the runtime's own load, as a worker performs it, without OnInit.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { PluginManifest } from "@tonearm/manifest";
import { WASM_FILE } from "@tonearm/packages";
import { Runtime } from "@tonearm/runtime";

export interface CheckedPlugin {
  readonly id: string;
  /** The plugin's folder. */
  readonly path: string;
  readonly manifest: PluginManifest;
}

/** Rejects with the runtime's `load_error` text, e.g. `"get" is not exported in module "env"`. */
export type LoadCheck = (plugin: CheckedPlugin) => Promise<void>;

/** Runs `work` with a check backed by one runtime thread, closed afterwards. */
export async function withLoadCheck<T>(work: (check: LoadCheck) => Promise<T>): Promise<T> {
  const runtime = Runtime.create({ threads: { min: 1, max: 1 } });
  try {
    return await work(async ({ id, path, manifest }) => {
      const wasm = new Uint8Array(await readFile(join(path, WASM_FILE)));
      await runtime.load({ id, manifest, wasm });
      runtime.unload(id);
    });
  } finally {
    await runtime.close();
  }
}
