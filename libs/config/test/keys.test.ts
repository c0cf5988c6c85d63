import { describe, expect, it } from "vitest";
import { parseConfig } from "@tonearm/config";

const parse = (toml: string): ReturnType<typeof parseConfig> => parseConfig(toml, { env: {}, cwd: "/srv" });

describe("Navidrome-style keys", () => {
  it("matches keys and table names whatever their case", () => {
    const spellings = [
      'BaseURL = "/music"\nShareURL = "https://share.example.com"\n[Plugins]\nFolder = "/p"\nAutoReload = false',
      'baseurl = "/music"\nshareurl = "https://share.example.com"\n[plugins]\nfolder = "/p"\nautoreload = false',
      'BASEURL = "/music"\nSHAREURL = "https://share.example.com"\n[PLUGINS]\nFOLDER = "/p"\nAUTORELOAD = false',
      'Baseurl = "/music"\nShareUrl = "https://share.example.com"\nPlugins.Folder = "/p"\nPlugins.autoReload = false',
    ];
    for (const toml of spellings) {
      const config = parse(toml);
      expect(config.baseUrl).toBe("/music");
      expect(config.shareUrl).toBe("https://share.example.com");
      expect(config.plugins).toEqual({ folder: "/p", enabled: true, autoReload: false, reloadDebounceMs: 500, secretKeys: [] });
    }
  });

  it("matches Tonearm's own sections ignoring case too", () => {
    const config = parse(
      'NameSpace = "prod"\nMODE = "cluster"\n[NATS]\nServers = ["nats://n1:4222"]\n[Redis]\nURL = "rediss://r:6380"\n' +
        "[Runtime]\nTHREADSMIN = 2\nthreadsmax = 6\nMemoryLimitMiB = 64\n[HTTP]\nTimeoutMS = 2500\n[Log]\nLevel = \"DEBUG\"",
    );
    expect(config.namespace).toBe("prod");
    expect(config.mode).toBe("cluster");
    expect(config.nats.servers).toEqual(["nats://n1:4222"]);
    expect(config.redis.url).toBe("rediss://r:6380");
    expect(config.runtime).toEqual({ threadsMin: 2, threadsMax: 6, memoryLimitMiB: 64 });
    expect(config.http.timeoutMs).toBe(2500);
    expect(config.log.level).toBe("debug");
  });

  it("reads a file that starts with a byte-order mark", () => {
    expect(parse('\uFEFFnamespace = "bom"').namespace).toBe("bom");
  });

  it("merges tables whose names differ only in case", () => {
    const config = parse('[plugins]\nFolder = "/p"\n[PLUGINS]\nAutoReload = false\n[PluginConfig.x]\na = "1"\n[pluginconfig.x]\nB = "2"');
    expect(config.plugins).toEqual({ folder: "/p", enabled: true, autoReload: false, reloadDebounceMs: 500, secretKeys: [] });
    expect(config.pluginConfig).toEqual({ x: { a: "1", b: "2" } });
  });

  it("reads every section", () => {
    const config = parse(`
[runtime]
threadsMin = 1
threadsMax = 2
threadIdleTtlMs = 3
maxIdleInstances = 0
maxConcurrentCalls = 5
acquireTimeoutMs = 6
instanceIdleTtlMs = 7
callTimeoutMs = 8
memoryLimitMiB = 9
maxResultBytes = 10
[http]
maxResponseBytes = 1024
[cache]
maxEntries = 100
maxBytes = 4096
[artwork]
secret = "s3cret"
[subsonic]
url = "http://127.0.0.1:4533"
username = "tonearm"
password = "pw"
[metrics]
port = 9464
`);
    expect(config.runtime).toEqual({
      threadsMin: 1,
      threadsMax: 2,
      threadIdleTtlMs: 3,
      maxIdleInstances: 0,
      maxConcurrentCalls: 5,
      acquireTimeoutMs: 6,
      instanceIdleTtlMs: 7,
      callTimeoutMs: 8,
      memoryLimitMiB: 9,
      maxResultBytes: 10,
    });
    expect(config.http).toEqual({ timeoutMs: 10_000, maxResponseBytes: 1024 });
    expect(config.cache).toEqual({ maxEntries: 100, maxBytes: 4096 });
    expect(config.artwork.secret).toBe("s3cret");
    expect(config.subsonic).toEqual({ url: "http://127.0.0.1:4533", username: "tonearm", password: "pw" });
    expect(config.metrics.port).toBe(9464);
  });
});

describe("[PluginConfig.<pluginId>]", () => {
  it("lower-cases keys and keeps the plugin id's case", () => {
    const config = parse('[PluginConfig.Discord-RPC]\nClientID = "abc"\nUSERS = "admin:token"\n[pluginconfig.lastfm]\napi_key = "k"');
    expect(config.pluginConfig).toEqual({
      "Discord-RPC": { clientid: "abc", users: "admin:token" },
      lastfm: { api_key: "k" },
    });
  });

  it("turns values into the strings Navidrome hands to plugins", () => {
    const config = parse(`
[PluginConfig.p]
text = "x"
on = true
off = false
count = 42
negative = -7
ratio = 1.5
whole = 2.0
tiny = 1e-7
huge = 1e21
big = 9007199254740993
inf = inf
minus_inf = -inf
nan = nan
`);
    expect(config.pluginConfig.p).toEqual({
      text: "x",
      on: "1",
      off: "0",
      count: "42",
      negative: "-7",
      ratio: "1.5",
      whole: "2",
      tiny: "0.0000001",
      huge: "1000000000000000000000",
      big: "9007199254740993",
      inf: "+Inf",
      minus_inf: "-Inf",
      nan: "NaN",
    });
  });

  it("accepts any key, including names that are special in JavaScript", () => {
    const config = parse('[PluginConfig.p]\n__proto__ = "a"\nconstructor = "b"\nUnknownToTonearm = "c"');
    const settings = config.pluginConfig.p ?? {};
    expect(Object.keys(settings)).toEqual(["__proto__", "constructor", "unknowntotonearm"]);
    expect(Object.getOwnPropertyDescriptor(settings, "__proto__")?.value).toBe("a");
    expect(Object.getPrototypeOf(settings)).toBe(Object.prototype);
  });

  it("keeps plugin ids that need quoting", () => {
    const config = parse('[PluginConfig."my.plugin"]\nKey = "v"');
    expect(config.pluginConfig).toEqual({ "my.plugin": { key: "v" } });
  });
});
