import { BusError, GatewayMethod, decodeToken, encodeToken, storageNames, subjects } from "@tonearm/bus";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

// What NATS accepts as one subject token, and as a KV key / consumer name.
const SUBJECT_TOKEN = /^[^\s.*>]+$/;
const KV_KEY_AND_CONSUMER = /^[-_=A-Za-z0-9]+$/;

describe("encodeToken / decodeToken", () => {
  it.each([
    ["lastfm", "lastfm"],
    ["my-plugin_2", "my-plugin_2"],
    ["my.plugin", "my=2Eplugin"],
    ["DJ Ann", "DJ=20Ann"],
    ["a*b>c", "a=2Ab=3Ec"],
    ["x=y", "x=3Dy"],
    ["José", "Jos=C3=A9"],
    ["🎵", "=F0=9F=8E=B5"],
  ])("escapes %j as %j", (value, token) => {
    expect(encodeToken(value)).toBe(token);
    expect(decodeToken(token)).toBe(value);
  });

  it("round-trips any non-empty text into a valid token", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, unit: "grapheme" }), (value) => {
        const token = encodeToken(value);
        expect(token).toMatch(SUBJECT_TOKEN);
        expect(token).toMatch(KV_KEY_AND_CONSUMER);
        expect(decodeToken(token)).toBe(value);
      }),
    );
  });

  it.each(["", "a=2", "a=zz", "a=2e", "a.b", "a b", "=FF", "=C3"])("rejects %j, which encodeToken never produces", (token) => {
    expect(() => decodeToken(token)).toThrow(BusError);
  });

  it("refuses to encode an empty name", () => {
    expect(() => encodeToken("")).toThrow(/empty/);
  });
});

describe("subjects", () => {
  const s = subjects("prod");

  it("names plugin calls and reads them back", () => {
    const subject = s.call("my.plugin", "MetadataAgent", "GetArtistMBID");
    expect(subject).toBe("tonearm.prod.call.my=2Eplugin.MetadataAgent.GetArtistMBID");
    expect(s.parseCall(subject)).toEqual({ plugin: "my.plugin", capability: "MetadataAgent", method: "GetArtistMBID" });
    expect(s.allCalls).toBe("tonearm.prod.call.>");
    expect(s.pluginCalls("my.plugin")).toBe("tonearm.prod.call.my=2Eplugin.>");
  });

  it.each([
    "tonearm.prod.call.a.B",
    "tonearm.prod.call.a.B.C.D",
    "tonearm.other.call.a.B.C",
    "tonearm.prod.agents.GetArtistMBID",
    "tonearm.prod.call.bad=zz.B.C",
  ])("parseCall ignores %s", (subject) => {
    expect(s.parseCall(subject)).toBeUndefined();
  });

  it("names scrobbles per kind and user", () => {
    expect(s.scrobble("submit", "DJ Ann")).toBe("tonearm.prod.scrobble.submit.DJ=20Ann");
    expect(s.scrobble("nowplaying", "bob")).toBe("tonearm.prod.scrobble.nowplaying.bob");
    expect(s.parseScrobble("tonearm.prod.scrobble.submit.DJ=20Ann")).toEqual({ kind: "submit", user: "DJ Ann" });
    expect(s.parseScrobble("tonearm.prod.scrobble.skipped.bob")).toBeUndefined();
    expect(s.allScrobbles).toBe("tonearm.prod.scrobble.>");
  });

  it("names agents, registry, events and gateway subjects under the namespace", () => {
    expect(s.agents("GetArtistMBID")).toBe("tonearm.prod.agents.GetArtistMBID");
    expect([s.registryList, s.registryGet, s.registryRefresh]).toEqual([
      "tonearm.prod.registry.list",
      "tonearm.prod.registry.get",
      "tonearm.prod.registry.refresh",
    ]);
    expect(s.pluginEvents("a.b")).toBe("tonearm.prod.events.plugin.a=2Eb");
    expect(s.allPluginEvents).toBe("tonearm.prod.events.plugin.>");
    expect(s.gateway(GatewayMethod.Connect)).toBe("tonearm.prod.gateway.Connect");
    expect(s.gatewayInstance("gw 1", GatewayMethod.SendText)).toBe("tonearm.prod.gateway.gw=201.SendText");
  });

  it.each(["", "a.b", "has space", "a*", "a>"])("rejects namespace %j", (namespace) => {
    expect(() => subjects(namespace)).toThrow(BusError);
    expect(() => storageNames(namespace)).toThrow(BusError);
  });
});

describe("storageNames", () => {
  it("derives bucket, store and stream names without dots", () => {
    const names = storageNames("prod");
    expect(names).toMatchObject({
      pluginsBucket: "tonearm_prod_plugins",
      leasesBucket: "tonearm_prod_leases",
      websocketsBucket: "tonearm_prod_websockets",
      artifactsStore: "tonearm_prod_artifacts",
      scrobbleStream: "tonearm_prod_scrobbles",
    });
    expect(names.scrobbleConsumer("my.plugin")).toBe("scrobbler_my=2Eplugin");
    expect(names.bucket("cache")).toBe("tonearm_prod_cache");
    expect(() => names.bucket("a.b")).toThrow(BusError);
  });
});
