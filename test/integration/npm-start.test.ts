// What `npm start` runs (`tonearm start --config tonearm.dev.toml`, see package.json): it comes up
// with the fixture and example plugins, and the commands it prints answer as printed.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TONEARM_BIN, startTonearm, type RunningTonearm } from "../../examples/shared/test/tonearm-process.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
let running: RunningTonearm;

beforeAll(async () => {
  running = await startTonearm(["--config", "tonearm.dev.toml"], { cwd: ROOT });
});

afterAll(async () => {
  expect(await running?.stop()).toBe(0);
});

/** The printed line that starts with `prefix` (after indentation). */
function printed(prefix: string): string {
  const line = running.output().split("\n").map((l) => l.trim()).find((l) => l.startsWith(prefix));
  if (line === undefined) throw new Error(`no line starting with ${prefix} in:\n${running.output()}`);
  return line;
}

/** Splits a printed shell command into words; it quotes only with single quotes. */
function words(command: string): string[] {
  return [...command.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

describe("npm start", () => {
  it("says where it runs and which plugins folder it serves", () => {
    expect(printed("Tonearm is running:")).toContain("embedded mode (in-memory drivers)");
    expect(printed("Plugins folder:")).toMatch(/\.build\/dev-plugins$/);
  });

  it("prints a tonearm call command that answers", async () => {
    const [npx, bin, ...args] = words(printed("npx tonearm call"));
    expect([npx, bin]).toEqual(["npx", "tonearm"]);
    const answer = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [TONEARM_BIN, ...args], { cwd: ROOT, timeout: 30_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
    expect(JSON.parse(answer)).toEqual({ mbid: expect.any(String) });
  });

  it("prints a curl command whose request answers", async () => {
    const [curl, ...args] = words(printed("curl "));
    expect(curl).toBe("curl");
    const url = args.find((a) => a.startsWith("http://"))!;
    const body = args[args.indexOf("-d") + 1];
    const response = await fetch(url, { method: "POST", body });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ mbid: expect.any(String) });
  });

  it("prints the status page's address, which lists the plugins", async () => {
    const url = printed("Status page").split(" ").at(-1)!;
    const html = await (await fetch(url)).text();
    for (const id of ["fake_artist_agent", "musicbrainz-agent", "listenbrainz-scrobbler", "ws-ticker", "lastfm-agent-go"]) expect(html).toContain(id);
  });
});
