#!/usr/bin/env node
// Builds every fixture plugin from source into test/.build/<set>/<plugin>/{plugin.wasm,manifest.json}.
// Each builder skips plugins whose sources have not changed since the last build.
import { readdirSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const builders = readdirSync(here)
  .filter((f) => /^build-.+-fixtures\.mjs$/.test(f))
  .sort();

for (const file of builders) {
  const { build } = await import(pathToFileURL(here + file).href);
  await build();
}
