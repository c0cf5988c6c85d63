import { randomBytes } from "node:crypto";
import { createPluginSecrets } from "@tonearm/config";
import { describe, expect, it } from "vitest";
import { createLogger, pluginLogger, type DestinationStream } from "@tonearm/telemetry";

/** Collects what a logger writes, one parsed JSON object per line. */
function capture(): DestinationStream & { lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return {
    lines,
    write(message: string): void {
      for (const line of message.split("\n").filter((l) => l !== "")) lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  };
}

describe("createLogger", () => {
  it("writes one JSON object per line with level word, ISO time, name and message", () => {
    const out = capture();
    const logger = createLogger({ destination: out, name: "worker" });
    logger.info({ calls: 3 }, "ready");
    expect(out.lines).toHaveLength(1);
    const [line] = out.lines;
    expect(line).toMatchObject({ level: "info", name: "worker", msg: "ready", calls: 3 });
    expect(new Date(String(line?.time)).toISOString()).toBe(line?.time);
  });

  it("drops lines below the level, which is read ignoring case", () => {
    const out = capture();
    const logger = createLogger({ destination: out, level: "WARN" });
    logger.info("hidden");
    logger.warn("shown");
    logger.error("shown too");
    expect(out.lines.map((l) => l.msg)).toEqual(["shown", "shown too"]);
  });

  it("logs info and above by default", () => {
    const out = capture();
    const logger = createLogger({ destination: out });
    logger.debug("hidden");
    logger.info("shown");
    expect(out.lines.map((l) => l.msg)).toEqual(["shown"]);
    expect(out.lines[0]).not.toHaveProperty("name");
  });

  it("refuses an unknown level", () => {
    expect(() => createLogger({ level: "loud" })).toThrow(/unknown log level "loud"; use one of fatal, error, warn, info, debug, trace, silent/);
  });
});

describe("the pretty format", () => {
  /** Collects the text lines a logger writes. */
  function text(): DestinationStream & { lines: string[] } {
    const lines: string[] = [];
    return { lines, write: (message: string) => void lines.push(...message.split("\n").filter((l) => l !== "")) };
  }

  it("writes one readable line per entry: time, level, name, message and the fields", () => {
    const out = text();
    const logger = createLogger({ destination: out, name: "tonearm", format: "pretty" });
    logger.child({ role: "worker" }).warn({ plugin: "lastfm", calls: 3 }, "plugin slow");
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN \(tonearm\): plugin slow \{"role":"worker","plugin":"lastfm","calls":3\}$/);
  });

  it("keeps the level and secret rules of the JSON format", () => {
    createPluginSecrets({ clusterKey: randomBytes(32).toString("base64") }).seal("lb", { token: "LB-5e4d3c2b" });
    const out = text();
    const logger = createLogger({ destination: out, level: "info", format: "pretty" });
    logger.debug("hidden");
    logger.info({ password: "p4ssw0rd!" }, "posting with LB-5e4d3c2b");
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]).toContain('posting with [redacted] {"password":"[redacted]"}');
  });
});

describe("pluginLogger", () => {
  it("tags every line with the plugin id and keeps the parent's settings", () => {
    const out = capture();
    const logger = createLogger({ destination: out, name: "worker", level: "debug" });
    const plugin = pluginLogger(logger, "lastfm-official");
    plugin.debug({ method: "GetArtistMBID" }, "call");
    logger.info("untagged");
    expect(out.lines[0]).toMatchObject({ plugin: "lastfm-official", name: "worker", method: "GetArtistMBID", msg: "call" });
    expect(out.lines[1]).not.toHaveProperty("plugin");
  });
});

describe("secrets in log lines", () => {
  it("redacts fields of a log call whose names look secret, at any depth, and keeps the rest", () => {
    const out = capture();
    const logger = createLogger({ destination: out });
    logger.child({ role: "worker" }).info({ key: "kv-key", token: "t-1", nested: { password: "p4ssw0rd!", apiKey: "" }, user: "alice" }, "connecting");
    expect(out.lines[0]).toMatchObject({ role: "worker", token: "[redacted]", key: "kv-key", nested: { password: "[redacted]", apiKey: "" }, user: "alice", msg: "connecting" });
  });

  it("scrubs secret values the process sealed from messages and every field, whatever their name", () => {
    createPluginSecrets({ clusterKey: randomBytes(32).toString("base64") }).seal("lastfm", { apikey: "LFM-9f8e7d6c" });
    const out = capture();
    const logger = pluginLogger(createLogger({ destination: out }), "lastfm");
    logger.warn({ url: "https://ws.audioscrobbler.com/?api_key=LFM-9f8e7d6c&x=1" }, "request with LFM-9f8e7d6c failed");
    expect(JSON.stringify(out.lines)).not.toContain("LFM-9f8e7d6c");
    expect(out.lines[0]).toMatchObject({ url: "https://ws.audioscrobbler.com/?api_key=[redacted]&x=1", msg: "request with [redacted] failed" });
  });

  it("redacts sealed values wherever they are logged", () => {
    const sealed = createPluginSecrets({ clusterKey: randomBytes(32).toString("base64") }).seal("p", { secret: "s-000111" });
    const out = capture();
    createLogger({ destination: out }).info({ config: sealed }, "record");
    expect(out.lines[0]).toMatchObject({ config: { secret: "[redacted]" } });
  });
});
