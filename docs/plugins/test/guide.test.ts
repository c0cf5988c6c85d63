// Runs docs/plugins/guide.md as a new user would, in an empty folder inside the checkout: its
// files are written and its commands run one by one, their output compared (see doc-runner.ts).
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { blocks, runPage } from "./doc-runner.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
// Inside the checkout, as the guide asks, and in a folder git and the test runner ignore.
const WORKDIR = join(ROOT, ".build/guide-test/wikipedia-agent");

describe("docs/plugins/guide.md", () => {
  it("works as written: files, build, tonearm call, tests, packing, installing, calling the running Tonearm", { timeout: 600_000 }, async () => {
    const guide = blocks(await readFile(join(ROOT, "docs/plugins/guide.md"), "utf8"));
    expect(guide.filter((b) => b.attrs.startsWith("file=")).map((b) => b.attrs.slice(5))).toEqual([
      "manifest.json",
      "assembly/index.ts",
      "test/wikipedia-agent.test.ts",
      "vitest.config.ts",
      "tonearm.toml",
    ]);
    expect(guide.filter((b) => b.attrs === "start")).toHaveLength(1);

    await rm(WORKDIR, { recursive: true, force: true });
    await mkdir(WORKDIR, { recursive: true });
    const ran = await runPage(guide, WORKDIR);
    expect(ran.map((text) => text.split(" ").slice(0, 3).join(" "))).toEqual([
      "npx tonearm-pdk build",
      "npx tonearm call",
      "npx tonearm call",
      "npx vitest run",
      "npx tonearm plugin",
      "npx tonearm plugin",
      "npx tonearm call",
    ]);
  });
});
