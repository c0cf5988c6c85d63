// Agents orchestration and the queue group: the configured MetadataAgent plugins are asked in
// order and the first accepted answer wins, named in a header; workers share the calls.
import { decodeCallReply, encodeCallRequest, subjects, type Bus } from "@tonearm/bus";
import { AGENT_HEADER, UNKNOWN_ARTIST_ID, VARIOUS_ARTISTS_ID } from "@tonearm/worker";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Publisher, artistMbid, drainWorkers, memoryBus, startTestWorker } from "./support.js";

const NS = "agents";
let bus: Bus;
let publisher: Publisher;

beforeEach(async () => {
  bus = memoryBus(NS);
  publisher = await Publisher.open(bus);
});

afterEach(async () => {
  await drainWorkers();
  await bus.close();
});

async function ask(method: string, json: object): Promise<{ agent: string | undefined; body: unknown }> {
  const wire = encodeCallRequest(new TextEncoder().encode(JSON.stringify(json)), { contentType: "application/json" });
  const reply = await bus.request(subjects(NS).agents(method), wire.data, { timeoutMs: 5_000, headers: wire.headers });
  return { agent: reply.headers[AGENT_HEADER], body: JSON.parse(new TextDecoder().decode(decodeCallReply(reply))) as unknown };
}

describe("agents", () => {
  it("asks the configured agents in order and answers with the first accepted response", async () => {
    for (const name of ["fake_album_agent", "fake_artist_agent", "multi_plugin"]) await publisher.fixture("plugins", name);
    await startTestWorker(bus, { agents: ["lastfm", "fake_album_agent", "multi_plugin", "fake_artist_agent"] });
    // lastfm is not a plugin here, and fake_album_agent does not implement artist methods.
    expect(await ask("GetArtistMBID", { name: "X" })).toEqual({ agent: "multi_plugin", body: { mbid: "multi-artist-mbid" } });
    expect(await ask("GetAlbumInfo", { name: "A", artist: "B" })).toMatchObject({ agent: "fake_album_agent" });
    // multi_plugin answers an empty list for similar artists: not accepted, fake_artist_agent's is.
    expect((await ask("GetSimilarArtists", { name: "X" })).agent).toBe("fake_artist_agent");
    // Navidrome's special artists are answered before any plugin is asked.
    await expect(ask("GetArtistMBID", { id: UNKNOWN_ARTIST_ID, name: "[Unknown Artist]" })).rejects.toMatchObject({ code: "not_found" });
    expect(await ask("GetSimilarArtists", { id: VARIOUS_ARTISTS_ID, name: "Various Artists" })).toEqual({ agent: undefined, body: {} });
  });

  it("answers bad_request for a method agents do not have", async () => {
    await startTestWorker(bus, { agents: ["fake_artist_agent"] });
    await expect(ask("Scrobble", {})).rejects.toMatchObject({ code: "bad_request" });
  });
});

describe("the queue group", () => {
  it("shares the calls among the workers", async () => {
    await publisher.fixture("plugins", "fake_artist_agent");
    const [a, b] = [await startTestWorker(bus), await startTestWorker(bus)];
    await Promise.all(Array.from({ length: 40 }, () => artistMbid(bus, "fake_artist_agent")));
    expect(a.stats().served.call).toBeGreaterThan(0);
    expect(b.stats().served.call).toBeGreaterThan(0);
    expect(a.stats().served.call + b.stats().served.call).toBe(40);
  });
});
