import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "@tonearm/config";

const FILE = `
namespace = "from-file"
mode = "embedded"
[Plugins]
Folder = "file-plugins"
AutoReload = true
[nats]
servers = ["nats://file:4222"]
[redis]
url = "redis://file:6379"
[log]
level = "warn"
[runtime]
threadsMin = 2
`;

const withEnv = (env: NodeJS.ProcessEnv, toml = FILE): ReturnType<typeof parseConfig> =>
  parseConfig(toml, { source: "/etc/tonearm/tonearm.toml", cwd: "/srv", env });

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("the configuration was accepted");
}

describe("environment overrides", () => {
  it("win over the file", () => {
    const config = withEnv({
      TONEARM_NAMESPACE: "from-env",
      TONEARM_MODE: "cluster",
      TONEARM_NATS_SERVERS: "nats://a:4222, nats://b:4222,",
      TONEARM_REDIS_URL: "redis://env:6379",
      TONEARM_PLUGINS_FOLDER: "/opt/plugins",
      TONEARM_PLUGINS_AUTORELOAD: "false",
      TONEARM_LOG_LEVEL: "DEBUG",
      TONEARM_RUNTIME_THREADSMIN: "4",
    });
    expect(config.namespace).toBe("from-env");
    expect(config.mode).toBe("cluster");
    expect(config.nats.servers).toEqual(["nats://a:4222", "nats://b:4222"]);
    expect(config.redis.url).toBe("redis://env:6379");
    expect(config.plugins.folder).toBe("/opt/plugins");
    expect(config.plugins.autoReload).toBe(false);
    expect(config.log.level).toBe("debug");
    expect(config.runtime.threadsMin).toBe(4);
  });

  it("leave the file's values alone when unset or empty, and ignore other programs' variables", () => {
    const config = withEnv({
      PATH: "/usr/bin",
      TONEARM_CONFIG: "/elsewhere.toml",
      TONEARM_ROLE: "worker",
      TONEARM_NAMESPACE: "",
      TONEARM_NATS_SERVERS: "",
    });
    expect(config.namespace).toBe("from-file");
    expect(config.nats.servers).toEqual(["nats://file:4222"]);
    expect(config.plugins.folder).toBe("/etc/tonearm/file-plugins");
  });

  it("resolve a relative folder against the working folder, not the file's", () => {
    expect(withEnv({ TONEARM_PLUGINS_FOLDER: "env-plugins" }).plugins.folder).toBe("/srv/env-plugins");
  });

  it("accept underscores between words and any case after the prefix", () => {
    const config = withEnv({
      TONEARM_RUNTIME_MAX_CONCURRENT_CALLS: "3",
      TONEARM_HTTP_TIMEOUT_MS: "1500",
      tonearm_base_url: "/music",
      TONEARM_PLUGINS_RELOAD_DEBOUNCE_MS: "0",
    });
    expect(config.runtime.maxConcurrentCalls).toBe(3);
    expect(config.http.timeoutMs).toBe(1500);
    expect(config.baseUrl).toBe("/music");
    expect(config.plugins.reloadDebounceMs).toBe(0);
  });

  it("read booleans as Go's ParseBool does", () => {
    for (const [text, value] of [["1", true], ["TRUE", true], ["t", true], ["0", false], ["False", false]] as const) {
      expect(withEnv({ TONEARM_PLUGINS_AUTORELOAD: text }).plugins.autoReload).toBe(value);
    }
  });

  it("take NATS_URL and REDIS_URL as the switch to cluster mode", () => {
    const config = parseConfig("", { env: { NATS_URL: "nats://n1:4222,nats://n2:4222", REDIS_URL: "redis://r:6379" } });
    expect(config.mode).toBe("cluster");
    expect(config.nats.servers).toEqual(["nats://n1:4222", "nats://n2:4222"]);
    expect(config.redis.url).toBe("redis://r:6379");
  });

  it("let TONEARM_ variables and an explicit mode win over NATS_URL", () => {
    const config = withEnv({ NATS_URL: "nats://generic:4222", TONEARM_NATS_SERVERS: "nats://specific:4222" });
    expect(config.nats.servers).toEqual(["nats://specific:4222"]);
    expect(config.mode).toBe("embedded");
  });

  it("name the variable when its value is refused", () => {
    const error = configError(() => withEnv({ TONEARM_RUNTIME_CALLTIMEOUTMS: "soon", TONEARM_METRICS_PORT: "70000" }));
    expect(error.source).toBe("environment");
    expect(error.message).toMatch(/^invalid configuration in the environment:/);
    expect(error.problems).toEqual([
      'runtime.callTimeoutMs: must be an integer (got "soon", from TONEARM_RUNTIME_CALLTIMEOUTMS)',
      "metrics.port: must be <= 65535 (got 70000, from TONEARM_METRICS_PORT)",
    ]);
  });

  it("refuse an unknown variable of a known section, with a suggestion", () => {
    const error = configError(() => withEnv({ TONEARM_NATS_SERVER: "nats://x:4222" }));
    expect(error.problems).toEqual([
      "TONEARM_NATS_SERVER: unknown environment variable (did you mean TONEARM_NATS_SERVERS?)",
    ]);
  });

  it("refuse plugin settings, which only the file can give", () => {
    const error = configError(() => withEnv({ TONEARM_PLUGINCONFIG_LASTFM_APIKEY: "k" }));
    expect(error.problems[0]).toMatch(/^TONEARM_PLUGINCONFIG_LASTFM_APIKEY: plugin settings cannot come from the environment/);
  });

  it("refuse two spellings of one variable", () => {
    const error = configError(() => withEnv({ TONEARM_RUNTIME_THREADSMIN: "2", TONEARM_RUNTIME_THREADS_MIN: "3" }));
    expect(error.problems).toEqual(["runtime.threadsMin: set by both TONEARM_RUNTIME_THREADSMIN and TONEARM_RUNTIME_THREADS_MIN"]);
  });
});
