// The AssemblyScript and the Go build of lastfm-agent side by side: the same requests, in the same
// order, against the same stand-in API must give the same answers and errors, the same upstream
// requests and the same log lines.
import { CallError, startPlugin, type PluginUnderTest } from "@tonearm/plugin-testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exampleFolder, goExampleFolder } from "../../shared/test/examples.js";
import { API_KEY, fakeLastFm } from "./fake-lastfm.js";

const asFolder = await exampleFolder("lastfm-agent");
const goFolder = await goExampleFolder("lastfm-agent");

const NAMES = ["Cher", "cher", "Sigur Rós", "No Bio Band", "Nobody Knows Us", "Overloaded", "Garbled", "Unreachable", "", "  Cher  ", 'Q"uote & <Amp> ünï ♫'];
const REQUESTS: [string, object][] = [
  ...NAMES.flatMap((name): [string, object][] => [
    ["GetArtistMBID", { id: "ar-1", name }],
    ["GetArtistURL", { name }],
    ["GetArtistBiography", { name, mbid: "ignored" }],
    ["GetSimilarArtists", { name }],
    ["GetSimilarArtists", { name, limit: 2 }],
    ["GetSimilarArtists", { name, limit: -1 }],
    ["GetArtistTopSongs", { artistName: name, count: 1 }],
    ["GetArtistImages", { name }],
    ["GetAlbumInfo", { name: "Believe", artist: name }],
  ]),
];

type Outcome = { ok: unknown } | { code: string; message: string };

async function run(plugin: PluginUnderTest, method: string, request: object): Promise<Outcome> {
  try {
    return { ok: await plugin.call(`MetadataAgent/${method}`, request as never) };
  } catch (err) {
    if (err instanceof CallError) return { code: err.code, message: err.message };
    throw err;
  }
}

describe.skipIf(goFolder === undefined)("lastfm-agent in AssemblyScript and in Go", () => {
  const plugins: PluginUnderTest[] = [];

  beforeAll(async () => {
    for (const folder of [asFolder, goFolder ?? ""]) {
      plugins.push(await startPlugin(folder, { id: "lastfm-agent", http: fakeLastFm(), config: { apikey: API_KEY, lang: "de" } }));
    }
  });
  afterAll(() => Promise.all(plugins.map((p) => p.close())));

  it("give the same answers, make the same requests and log the same lines", async () => {
    const [as, go] = plugins as [PluginUnderTest, PluginUnderTest];
    const outcomes: { request: string; as: Outcome; go: Outcome }[] = [];
    for (const [method, request] of REQUESTS) {
      outcomes.push({ request: `${method} ${JSON.stringify(request)}`, as: await run(as, method, request), go: await run(go, method, request) });
    }
    for (const outcome of outcomes) expect(outcome.go, outcome.request).toEqual(outcome.as);

    // Header order is not part of the contract (a protobuf map; Go iterates maps at random).
    const sent = (p: PluginUnderTest) => p.http?.requests.map((r) => `${r.toString()} ${JSON.stringify(Object.entries(r.headers).sort())}`);
    expect(sent(go)).toEqual(sent(as));
    expect(go.logs).toEqual(as.logs);

    // The comparison covered every kind of outcome, not just one.
    const kinds = new Set(outcomes.map((o) => ("ok" in o.as ? "ok" : o.as.code)));
    expect([...kinds].sort()).toEqual(["not_found", "not_implemented", "ok", "plugin_error"]);
    expect(as.http?.requests.length).toBeGreaterThan(10);
  });

  it("decode the same configuration into the same cache keys", () => {
    const [as, go] = plugins as [PluginUnderTest, PluginUnderTest];
    expect(go.cache.keys().sort()).toEqual(as.cache.keys().sort());
  });
});
