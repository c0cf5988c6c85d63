import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { defaultConfig, loadConfig, parseConfig } from "@tonearm/config";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tonearm-config-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("defaults", () => {
  it("fills every key the operator leaves out", () => {
    const config = parseConfig("", { env: {}, cwd: "/srv/tonearm" });
    expect(config).toEqual({
      namespace: "default",
      mode: "embedded",
      plugins: { folder: "/srv/tonearm/plugins", enabled: true, autoReload: true, reloadDebounceMs: 500, secretKeys: [] },
      pluginConfig: {},
      baseUrl: "",
      shareUrl: "",
      agents: [],
      artwork: { secret: "" },
      subsonic: {},
      nats: { servers: ["nats://127.0.0.1:4222"] },
      redis: { url: "redis://127.0.0.1:6379" },
      runtime: {},
      http: { timeoutMs: 10_000, maxResponseBytes: 10 * 1024 * 1024 },
      scrobbles: { retentionMs: 7 * 24 * 3600_000, maxDeliveries: 10, retryInitialMs: 5_000, retryMaxMs: 240_000, maxInFlight: 1_000 },
      cache: {},
      log: { level: "info", format: "json" },
      metrics: {},
      security: { clusterKey: "" },
    });
  });

  it("defaultConfig() is the empty configuration, anchored at the working folder", () => {
    expect(defaultConfig()).toEqual(parseConfig("", { env: {}, cwd: process.cwd() }));
  });

  it("returns a frozen result", () => {
    const config = parseConfig("[nats]\nservers = ['nats://a:4222']", { env: {} });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.nats.servers)).toBe(true);
    expect(() => (config.nats.servers as string[]).push("nats://b:4222")).toThrow(TypeError);
  });

  it("reads the scrobble backfill point as an ISO 8601 date-time, and refuses other text", () => {
    const config = parseConfig("[scrobbles]\nbackfillFrom = '2026-01-31T00:00:00Z'", { env: {} });
    expect(config.scrobbles.backfillFromMs).toBe(Date.UTC(2026, 0, 31));
    expect(() => parseConfig("[scrobbles]\nbackfillFrom = 'yesterday'", { env: {} })).toThrow(/backfillFrom/);
  });

  it("resolves a relative plugins folder against the config file's folder", () => {
    const config = parseConfig("[Plugins]\nFolder = 'extra/plugins'", { source: "/etc/tonearm/tonearm.toml", env: {} });
    expect(config.plugins.folder).toBe("/etc/tonearm/extra/plugins");
    const byDefault = parseConfig("", { source: "conf/tonearm.toml", cwd: "/srv", env: {} });
    expect(byDefault.plugins.folder).toBe("/srv/conf/plugins");
    const absolute = parseConfig("[Plugins]\nFolder = '/var/lib/plugins'", { source: "/etc/tonearm.toml", env: {} });
    expect(absolute.plugins.folder).toBe("/var/lib/plugins");
  });
});

describe("loadConfig", () => {
  it("reads the named file", async () => {
    const file = join(dir, "custom.toml");
    await writeFile(file, 'namespace = "from-file"\n');
    const config = await loadConfig({ file, env: {} });
    expect(config.namespace).toBe("from-file");
    expect(config.plugins.folder).toBe(join(dir, "plugins"));
  });

  it("resolves a relative file name against cwd", async () => {
    await mkdir(join(dir, "conf"));
    await writeFile(join(dir, "conf", "t.toml"), 'mode = "cluster"\n');
    const config = await loadConfig({ file: "conf/t.toml", cwd: dir, env: {} });
    expect(config.mode).toBe("cluster");
    expect(config.plugins.folder).toBe(join(dir, "conf", "plugins"));
  });

  it("uses ./tonearm.toml when no file is named, and defaults when there is none", async () => {
    expect(await loadConfig({ cwd: dir, env: {} })).toEqual(parseConfig("", { cwd: dir, env: {} }));
    await writeFile(join(dir, "tonearm.toml"), 'namespace = "found"\n');
    expect((await loadConfig({ cwd: dir, env: {} })).namespace).toBe("found");
  });

  it("takes the file from TONEARM_CONFIG when no file option is given", async () => {
    const file = join(dir, "via-env.toml");
    await writeFile(file, 'namespace = "via-env"\n');
    expect((await loadConfig({ cwd: dir, env: { TONEARM_CONFIG: file } })).namespace).toBe("via-env");
  });
});
