// Vitest global setup: make sure every fixture plugin is built before any suite runs.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export default function setup(): void {
  const script = fileURLToPath(new URL("../scripts/build-fixtures.mjs", import.meta.url));
  execFileSync(process.execPath, [script], { stdio: "inherit" });
}
