// The plugins folder `npm start` runs (Plugins.Folder of tonearm.dev.toml): .build/dev-plugins/,
// a symlink per built fixture plugin (test/.build/plugins, test/.build/go) and per built example
// (examples/.build), the way `navidrome plugin dev` links plugins under development. Links are
// kept in sync rather than recreated, so a running Tonearm only reloads what changed.
import { existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync } from "node:fs";
import { join, relative } from "node:path";
import { URL, fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const DEV_PLUGINS_DIR = join(ROOT, ".build", "dev-plugins");
const SOURCES = [join(ROOT, "test", ".build", "plugins"), join(ROOT, "test", ".build", "go"), join(ROOT, "examples", ".build")];

/** Links every built plugin folder into DEV_PLUGINS_DIR; returns the plugin ids linked. */
export function linkDevPlugins() {
  const wanted = new Map();
  for (const source of SOURCES) {
    if (!existsSync(source)) continue;
    for (const entry of readdirSync(source, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith(".") || wanted.has(entry.name)) continue;
      if (existsSync(join(source, entry.name, "plugin.wasm"))) wanted.set(entry.name, relative(DEV_PLUGINS_DIR, join(source, entry.name)));
    }
  }
  mkdirSync(DEV_PLUGINS_DIR, { recursive: true });
  for (const name of readdirSync(DEV_PLUGINS_DIR)) {
    const path = join(DEV_PLUGINS_DIR, name);
    const current = lstatSync(path).isSymbolicLink() ? readlinkSync(path) : undefined;
    if (current === undefined || current !== wanted.get(name)) rmSync(path, { recursive: true, force: true });
  }
  for (const [name, target] of wanted) {
    if (!existsSync(join(DEV_PLUGINS_DIR, name))) symlinkSync(target, join(DEV_PLUGINS_DIR, name), "dir");
  }
  return [...wanted.keys()].sort();
}
