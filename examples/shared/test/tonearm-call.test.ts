// Every built example answers through `tonearm call --folder examples/.build`, as its README shows,
// without a network: the calls below need no upstream (or show how a missing one is reported).
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

// Each call starts a process that loads the folder: allow for a loaded machine.
const CALLS_TIMEOUT_MS = 90_000;
import { EXAMPLES_FOLDER, exampleFolder, goExampleFolder } from "./examples.js";
import { tonearm } from "./tonearm-process.js";

const BEATLES = "b10bbbfc-cf9e-42e0-be17-e2c3e1d2600d";
let config: string;
let hasGo = false;

const call = (plugin: string, method: string, json: string) => tonearm(["call", "--folder", EXAMPLES_FOLDER, "--config", config, plugin, method, json]);

beforeAll(async () => {
  for (const name of ["lastfm-agent", "musicbrainz-agent", "listenbrainz-scrobbler", "ws-ticker"]) await exampleFolder(name);
  hasGo = (await goExampleFolder("lastfm-agent")) !== undefined;
  const dir = await mkdtemp(join(tmpdir(), "tonearm-examples-"));
  config = join(dir, "tonearm.toml");
  // ws-ticker runs OnInit on load with its default feed: unreachable offline, it schedules a retry and loads.
  await writeFile(config, ["[PluginConfig.listenbrainz-scrobbler]", 'Users = "alice:token-a"', ""].join("\n"));
});

describe("tonearm call --folder examples/.build", { timeout: CALLS_TIMEOUT_MS }, () => {
  it("musicbrainz-agent links an artist page from an MBID without asking MusicBrainz", async () => {
    const run = await call("musicbrainz-agent", "MetadataAgent/GetArtistURL", `{"name":"The Beatles","mbid":"${BEATLES}"}`);
    expect(run).toMatchObject({ code: 0, stdout: `{"url":"https://musicbrainz.org/artist/${BEATLES}"}\n` });
  });

  it("listenbrainz-scrobbler authorizes the users configured with a token", async () => {
    expect(await call("listenbrainz-scrobbler", "Scrobbler/IsAuthorized", '{"userId":"1","username":"alice"}')).toMatchObject({
      code: 0,
      stdout: '{"authorized":true}\n',
    });
    expect(await call("listenbrainz-scrobbler", "Scrobbler/IsAuthorized", '{"userId":"2","username":"bob"}')).toMatchObject({ code: 0, stdout: "{}\n" });
  });

  it("ws-ticker takes a feed message and refuses a feed URL that is not a WebSocket URL", async () => {
    const message = await call("ws-ticker", "WebSocketCallback/OnTextMessage", '{"connectionId":"ws-ticker","message":"hello"}');
    expect(message).toMatchObject({ code: 0, stdout: "{}\n" });
    expect(message.stderr).toContain("[ws-ticker] ws-ticker: hello");
    const init = await call("ws-ticker", "LifecycleManagement/OnInit", '{"config":{"url":"http://example.com"}}');
    expect(init).toMatchObject({ code: 0, stdout: '{"error":"config \\"url\\" must be a ws:// or wss:// URL, got \\"http://example.com\\""}\n' });
  });

  it.each(["lastfm-agent", "lastfm-agent-go"])("%s says what is missing before it can ask Last.fm", async (plugin) => {
    if (plugin.endsWith("-go") && !hasGo) return;
    const run = await call(plugin, "MetadataAgent/GetSimilarArtists", '{"name":"Cher"}');
    expect(run).toMatchObject({ code: 1, stdout: "" });
    expect(run.stderr).toContain("error: plugin_error: no Last.fm API key: set ApiKey in the plugin's [PluginConfig] section");
    expect((await call(plugin, "MetadataAgent/GetAlbumInfo", '{"name":"Believe","artist":"Cher"}')).stderr).toContain("error: not_implemented: ");
  });

  it("lists every example, the Go build too, as Navidrome's plugin list does", async () => {
    const run = await tonearm(["plugin", "list", "--folder", EXAMPLES_FOLDER]);
    expect(run.code).toBe(0);
    const ids = run.stdout
      .trim()
      .split("\n")
      .slice(1)
      .map((line) => line.split(/\s+/)[0]);
    expect(ids).toEqual(expect.arrayContaining(["lastfm-agent", "listenbrainz-scrobbler", "musicbrainz-agent", "ws-ticker", ...(hasGo ? ["lastfm-agent-go"] : [])]));
    expect(run.stdout).not.toContain("ERROR");
  });
});
