// docs/plugins/reference.md is generated from proto/, @tonearm/abi and @tonearm/host: these tests
// fail when it falls behind them, or when what it names does not exist.
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { HOST_IMPORTS } from "@tonearm/abi";
import { describe, expect, it } from "vitest";
import { FIELD_NOTES, REFERENCE_FILE, renderReference } from "../scripts/reference.mjs";

const PDK_GEN = fileURLToPath(new URL("../../../libs/pdk-as/assembly/gen/", import.meta.url));

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith(".ts")).map((e) => join(e.parentPath, e.name));
}

describe("docs/plugins/reference.md", () => {
  const rendered = renderReference();

  it("is what the generator makes of the current sources (run `npm run docs:plugins` when it is not)", async () => {
    expect(await readFile(REFERENCE_FILE, "utf8")).toBe(rendered);
  });

  it("documents every host function and every field note it keeps", () => {
    for (const i of HOST_IMPORTS) expect(rendered, i.name).toContain(`| \`env.${i.name}\` |`);
    for (const [field, note] of Object.entries(FIELD_NOTES)) expect(rendered, field).toContain(` ${note} |`);
  });

  it("names PDK functions that the PDK has", async () => {
    const sources = (await Promise.all((await filesUnder(PDK_GEN)).map((f) => readFile(f, "utf8")))).join("\n");
    const named = [...rendered.matchAll(/\| `env\.\w+` \| `(\w+)\.(\w+)` \|/g)];
    expect(named).toHaveLength(HOST_IMPORTS.length);
    for (const [, , fn] of named) expect(sources, fn).toMatch(new RegExp(`export function ${fn}\\(`));
  });
});
