// Runs the commands of docs/plugins/testing.md from the root of the checkout, as the page says, and
// checks that its table names every error code a call can end with.
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { CallErrorCode } from "@tonearm/abi";
import { describe, expect, it } from "vitest";
import { blocks, runPage } from "./doc-runner.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const page = await readFile(fileURLToPath(new URL("../testing.md", import.meta.url)), "utf8");

describe("docs/plugins/testing.md", () => {
  it("runs its tonearm call examples as written", { timeout: 300_000 }, async () => {
    const ran = await runPage(blocks(page), ROOT);
    expect(ran).toHaveLength(6);
  });

  it("lists every error code", () => {
    for (const code of Object.values(CallErrorCode)) expect(page, code).toContain(`| \`${code}\` |`);
  });
});
