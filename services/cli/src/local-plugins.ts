/**
 * Loads a plugins folder straight into a runtime, as `tonearm call --folder` does: discovery, load,
 * and `OnInit` with the plugin's config for LifecycleManagement plugins. A plugin whose `OnInit`
 * fails stays known but refuses calls with the reason (ABI.md §11.6).
 */
import { readFile } from "node:fs/promises";
import { discoverPlugins } from "@tonearm/packages";
import { initializePlugin, type Runtime } from "@tonearm/runtime";

export interface FolderPlugin {
  readonly id: string;
  /** Why the plugin cannot be called; absent when it is ready. */
  readonly error?: string;
}

export async function loadPluginFolder(
  runtime: Runtime,
  folder: string,
  pluginConfig: Readonly<Record<string, Readonly<Record<string, string>>>>,
  only?: string,
): Promise<FolderPlugin[]> {
  const found = (await discoverPlugins(folder)).filter((p) => only === undefined || p.id === only);
  return Promise.all(
    found.map(async (plugin): Promise<FolderPlugin> => {
      if (!plugin.ok) return { id: plugin.id, error: plugin.error.message };
      const config = pluginConfig[plugin.id] ?? {};
      try {
        const wasm = new Uint8Array(await readFile(plugin.wasmPath));
        await runtime.load({ id: plugin.id, manifest: plugin.manifest, wasm, config });
      } catch (err) {
        return { id: plugin.id, error: (err as Error).message };
      }
      if (plugin.manifest.capabilities.includes("LifecycleManagement")) {
        try {
          await initializePlugin(runtime, plugin.id, config);
        } catch (err) {
          const reason = `OnInit failed: ${(err as Error).message}`;
          runtime.markFailed(plugin.id, reason);
          return { id: plugin.id, error: reason };
        }
      }
      return { id: plugin.id };
    }),
  );
}
