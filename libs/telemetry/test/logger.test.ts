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
