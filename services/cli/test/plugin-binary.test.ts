// The plugin commands through the `tonearm` binary, as an operator types them: arguments and
// options reach the commands, results come out on stdout, errors on stderr with exit code 1.
import { mkdir, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import { fixturePaths } from "@tonearm/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixturePackage, removeScratch, scratchFolder, tonearm, writePackage } from "./plugin-support.js";

let work: string;
let plugins: string;
beforeAll(async () => {
  work = await scratchFolder();
  plugins = join(work, "plugins");
  await mkdir(plugins);
});
afterAll(removeScratch);

describe("tonearm plugin … through the binary", () => {
  it("pack, info, install, update, refresh and remove a plugin", async () => {
    const ndp = join(work, "artist.ndp");
    const packed = await tonearm(["plugin", "pack", fixturePaths.plugin("plugins", "fake_artist_agent"), "-o", ndp]);
    expect(packed).toMatchObject({ code: 0, stderr: "" });

    const info = await tonearm(["plugin", "info", ndp]);
    expect(info.stdout).toContain("  Name:        fake_artist_agent\n");

    const installed = await tonearm(["plugin", "install", ndp, "--folder", plugins, "--progress"]);
    expect(installed.stdout).toBe("Plugin 'fake_artist_agent' v1.0.0 installed successfully\n");
    expect(installed.stderr).toContain("verifying fake_artist_agent\n");

    const v2 = await writePackage(work, "v2.ndp", await fixturePackage("fake_artist_agent", "fake_artist_agent", { version: "2.0.0" }));
    expect(await tonearm(["plugin", "update", v2, "--folder", plugins])).toEqual({
      code: 0,
      stdout: "Plugin 'fake_artist_agent' updated to v2.0.0 successfully\n",
      stderr: "",
    });

    expect(await tonearm(["plugin", "refresh", "fake_artist_agent", "--folder", plugins])).toEqual({
      code: 0,
      stdout: "Refreshing plugin 'fake_artist_agent'...\nPlugin 'fake_artist_agent' refreshed successfully\n",
      stderr: "",
    });

    expect(await tonearm(["plugin", "remove", "fake_artist_agent", "--folder", plugins])).toEqual({
      code: 0,
      stdout: "Plugin 'fake_artist_agent' removed successfully\n",
      stderr: "",
    });
    expect(await readdir(plugins)).toEqual([]);
  });

  it("dev reads the answer to its question from stdin", async () => {
    const source = fixturePaths.plugin("plugins", "fake_scrobbler");
    await mkdir(join(plugins, "fake_scrobbler"));
    const run = await tonearm(["plugin", "dev", source, "--folder", plugins], "y\n");
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toContain("Do you want to replace it? (y/N): Development symlink created: ");
    expect(await readlink(join(plugins, "fake_scrobbler"))).toBe(source);
  });

  it("fails with exit code 1 and the error on stderr", async () => {
    expect(await tonearm(["plugin", "remove", "nope", "--folder", plugins])).toEqual({
      code: 1,
      stdout: "",
      stderr: `error: plugin not found: nope (path: ${join(plugins, "nope")})\n`,
    });
  });
});
