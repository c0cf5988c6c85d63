// The examples in a running Tonearm: `tonearm start` as a process on a free port with every built
// example (the Go build too), each upstream-bound one configured for a stand-in served on loopback,
// and calls through `tonearm call --url`. The stand-ins are the examples' own canned upstreams,
// served over HTTP; the plugin folders are copies whose manifests also allow those loopback URLs.
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serveCannedHttp, type ServedHttp } from "@tonearm/plugin-testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { API_KEY, fakeLastFm } from "../../lastfm-agent/test/fake-lastfm.js";
import { fakeListenBrainz } from "../../listenbrainz-scrobbler/test/fake-listenbrainz.js";
import { BEATLES, fakeMusicBrainz } from "../../musicbrainz-agent/test/fake-musicbrainz.js";
import { exampleFolder, goExampleFolder } from "./examples.js";
import { callWhenLoaded, startTonearm, type RunningTonearm } from "./tonearm-process.js";

const lastFm = fakeLastFm();
const listenBrainz = fakeListenBrainz();
const served: ServedHttp[] = [];
const feedReceived: string[] = [];
let feed: WebSocketServer;
let tonearm: RunningTonearm | undefined;
let hasGo = false;

/** Copies a built example into `folder`, its manifest also allowing the loopback stand-in. */
async function install(folder: string, source: string, id: string, allow: (permissions: Record<string, Record<string, unknown>>) => void): Promise<void> {
  await mkdir(join(folder, id));
  await copyFile(join(source, "plugin.wasm"), join(folder, id, "plugin.wasm"));
  const manifest = JSON.parse(await readFile(join(source, "manifest.json"), "utf8")) as { permissions: Record<string, Record<string, unknown>> };
  allow(manifest.permissions);
  await writeFile(join(folder, id, "manifest.json"), JSON.stringify(manifest, null, 2));
}

const allowHttp = (url: string, methods: string[]) => (permissions: Record<string, Record<string, unknown>>) => {
  const http = permissions.http ?? {};
  permissions.http = { ...http, allowLocalNetwork: true, allowedUrls: { ...(http.allowedUrls as object), [url]: methods } };
};

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), "tonearm-start-examples-"));
  const plugins = join(dir, "plugins");
  await mkdir(plugins);

  const serve = async (...args: Parameters<typeof serveCannedHttp>) => {
    const upstream = await serveCannedHttp(...args);
    served.push(upstream);
    return upstream.url;
  };
  const lastFmUrl = await serve(lastFm, "https://ws.audioscrobbler.com");
  const musicBrainzUrl = await serve(fakeMusicBrainz(), "https://musicbrainz.org");
  const listenBrainzUrl = await serve(listenBrainz, "https://api.listenbrainz.org");
  feed = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => feed.once("listening", resolve));
  feed.on("connection", (socket) => socket.on("message", (data) => feedReceived.push(data.toString())));
  const feedUrl = `ws://127.0.0.1:${(feed.address() as { port: number }).port}/feed`;

  await install(plugins, await exampleFolder("lastfm-agent"), "lastfm-agent", allowHttp(`${lastFmUrl}/2.0/*`, ["GET"]));
  const goBuild = await goExampleFolder("lastfm-agent");
  hasGo = goBuild !== undefined;
  if (goBuild) await install(plugins, goBuild, "lastfm-agent-go", allowHttp(`${lastFmUrl}/2.0/*`, ["GET"]));
  await install(plugins, await exampleFolder("musicbrainz-agent"), "musicbrainz-agent", allowHttp(`${musicBrainzUrl}/ws/2/*`, ["GET"]));
  await install(plugins, await exampleFolder("listenbrainz-scrobbler"), "listenbrainz-scrobbler", allowHttp(`${listenBrainzUrl}/1/submit-listens`, ["POST"]));
  await install(plugins, await exampleFolder("ws-ticker"), "ws-ticker", (permissions) => {
    permissions.websocket = { ...permissions.websocket, allowLocalNetwork: true, allowedUrls: [feedUrl] };
  });

  const config = join(dir, "tonearm.toml");
  await writeFile(
    config,
    [
      'mode = "embedded"',
      'Agents = "lastfm-agent,musicbrainz-agent"',
      "[Plugins]",
      'Folder = "plugins"',
      ...["lastfm-agent", "lastfm-agent-go"].flatMap((id) => [`[PluginConfig.${id}]`, `ApiKey = "${API_KEY}"`, `BaseURL = "${lastFmUrl}"`]),
      "[PluginConfig.musicbrainz-agent]",
      `MusicBrainzURL = "${musicBrainzUrl}"`,
      'Contact = "tests@example.com"',
      "[PluginConfig.listenbrainz-scrobbler]",
      `BaseURL = "${listenBrainzUrl}"`,
      'Users = "alice:token-alice"',
      "[PluginConfig.ws-ticker]",
      `URL = "${feedUrl}"`,
      'Subscribe = "hello feed"',
      "[log]",
      'level = "warn"',
      "",
    ].join("\n"),
  );
  tonearm = await startTonearm(["--config", config]);
});

afterAll(async () => {
  const code = await tonearm?.stop();
  await Promise.all(served.map((s) => s.close()));
  await new Promise<void>((resolve) => (feed ? feed.close(() => resolve()) : resolve()));
  expect(code, tonearm?.output()).toBe(0);
});

describe("tonearm start with the examples", { timeout: 90_000 }, () => {
  it.each(["lastfm-agent", "lastfm-agent-go"])("%s answers over --url from the Last.fm stand-in", async (plugin) => {
    if (plugin.endsWith("-go") && !hasGo) return;
    const run = await callWhenLoaded(tonearm?.url ?? "", plugin, "MetadataAgent/GetSimilarArtists", '{"name":"Cher","limit":2}');
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout)).toEqual({
      artists: [
        { name: "Sonny & Cher", mbid: "3d6e4b6d-2700-458c-9722-9021965a8164" },
        { name: "Kylie Minogue", mbid: "2fddb92d-24b2-46a5-bf28-3aed46f4684c" },
      ],
    });
  });

  it("musicbrainz-agent finds an MBID through the MusicBrainz stand-in", async () => {
    const run = await callWhenLoaded(tonearm?.url ?? "", "musicbrainz-agent", "MetadataAgent/GetArtistMBID", '{"name":"The Beatles"}');
    expect(run).toMatchObject({ code: 0, stdout: `{"mbid":"${BEATLES}"}\n` });
  });

  it("listenbrainz-scrobbler submits a listen to the ListenBrainz stand-in", async () => {
    const scrobble = '{"userId":"u1","username":"alice","timestamp":1700000123,"track":{"name":"Something","artists":[{"name":"The Beatles"}]}}';
    const run = await callWhenLoaded(tonearm?.url ?? "", "listenbrainz-scrobbler", "Scrobbler/Scrobble", scrobble);
    expect(run).toMatchObject({ code: 0, stdout: "{}\n" });
    const submitted = listenBrainz.requests.at(-1);
    expect(submitted?.headers["Authorization"]).toBe("Token token-alice");
    expect(submitted?.json()).toMatchObject({ listen_type: "single", payload: [{ listened_at: 1700000123 }] });
  });

  it("ws-ticker connected to the feed when it loaded, and takes its messages", async () => {
    await expect.poll(() => feedReceived, { timeout: 30_000 }).toContain("hello feed");
    const run = await callWhenLoaded(tonearm?.url ?? "", "ws-ticker", "WebSocketCallback/OnTextMessage", '{"connectionId":"ws-ticker","message":"tick"}');
    expect(run).toMatchObject({ code: 0, stdout: "{}\n" });
  });
});
