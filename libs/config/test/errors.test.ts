import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseConfig } from "@tonearm/config";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tonearm-config-errors-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const SOURCE = "/etc/tonearm/tonearm.toml";

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("the configuration was accepted");
}

const fromFile = (toml: string): ConfigError => configError(() => parseConfig(toml, { source: SOURCE, env: {} }));

describe("ConfigError", () => {
  it("reports a missing file that was asked for", async () => {
    const file = join(dir, "absent.toml");
    const error = await loadConfig({ file, env: {} }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe(`config file ${file} not found`);
    expect((error as ConfigError).source).toBe(file);
    expect((error as ConfigError).name).toBe("ConfigError");
  });

  it("reports a missing file named by TONEARM_CONFIG", async () => {
    const file = join(dir, "also-absent.toml");
    await expect(loadConfig({ env: { TONEARM_CONFIG: file } })).rejects.toThrow(`config file ${file} not found`);
  });

  it("reports a folder given as the file", async () => {
    await expect(loadConfig({ file: dir, env: {} })).rejects.toThrow(`config file ${dir} is a folder, not a file`);
  });

  it("reports invalid TOML with file, line and column", async () => {
    const file = join(dir, "broken.toml");
    await writeFile(file, 'namespace = "ok"\n[nats]\nservers = ["nats://a:4222",, "nats://b:4222"]\n');
    const error = await loadConfig({ file, env: {} }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    const { message, source, problems } = error as ConfigError;
    expect(source).toBe(file);
    expect(message).toMatch(new RegExp(`^${file.replaceAll(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:3:\\d+: invalid TOML: `));
    expect(problems).toHaveLength(1);
    expect(message).toContain('servers = ["nats://a:4222",, "nats://b:4222"]');
  });

  it("gives the line and column of the TOML error", () => {
    const error = fromFile('namespace = "a"\n\nmode = = "cluster"\n');
    expect(error.message.split("\n")[0]).toMatch(new RegExp(`^${SOURCE}:3:\\d+: invalid TOML: .+`));
    expect(error.problems[0]).toMatch(/^\/etc\/tonearm\/tonearm\.toml:3:\d+: /);
  });

  it("names an unknown key and the file, and suggests the key meant", () => {
    const error = fromFile('[nats]\nsever = "nats://a:4222"');
    expect(error.source).toBe(SOURCE);
    expect(error.message).toBe(`invalid configuration in ${SOURCE}:\n  - nats.sever: unknown key (did you mean servers?)`);
  });

  it("refuses unknown keys at the top level and in every section", () => {
    const error = fromFile('Nmespace = "x"\nEnabled = true\n[Plugins]\nBogus = true\n[bogus]\nx = 1\n[runtime]\nthreads = 4');
    expect(error.problems).toEqual([
      "Nmespace: unknown key (did you mean namespace?)",
      "Enabled: unknown key",
      "bogus: unknown key",
      "Plugins.Bogus: unknown key",
      "runtime.threads: unknown key",
    ]);
  });

  it("refuses one key written twice in different case", () => {
    const error = fromFile('BaseURL = "/a"\nbaseurl = "/b"\n[PluginConfig.p]\nClientID = "x"\nclientid = "y"');
    expect(error.problems).toEqual([
      'BaseURL: given twice, as "BaseURL" and "baseurl" (keys ignore case)',
      'PluginConfig.p.clientid: given twice, as "ClientID" and "clientid" (keys ignore case)',
    ]);
    expect(fromFile('[Plugins]\nFolder = "/a"\n[plugins]\nFolder = "/b"').problems).toEqual(["Plugins.Folder: given twice"]);
  });

  it("lists every schema violation with its key path", () => {
    const error = fromFile(`
namespace = "has.dots"
mode = "swarm"
ShareURL = "share.example.com"
[Plugins]
AutoReload = "yes"
[nats]
servers = []
[redis]
url = "http://not-redis"
[runtime]
threadsMin = 0
callTimeoutMs = 1.5
memoryLimitMiB = 8192
[log]
level = "loud"
[metrics]
port = -1
[artwork]
secret = 42
[PluginConfig.p]
list = [1, 2]
when = 1979-05-27
nested = { a = 1 }
[PluginConfig]
flat = "x"
`);
    expect(error.message.split("\n")[0]).toBe(`invalid configuration in ${SOURCE}:`);
    expect(error.problems).toEqual([
      "namespace: must be 1 to 64 letters, digits, '-' or '_', as it becomes part of NATS subjects and Redis keys (got \"has.dots\")",
      'mode: must be one of "embedded", "cluster" (got "swarm")',
      'ShareURL: must be an absolute http:// or https:// URL, or empty (got "share.example.com")',
      'Plugins.AutoReload: must be true or false (got "yes")',
      "PluginConfig.p.list: must be a string, a number or a boolean (got a list)",
      "PluginConfig.p.when: must be a string, a number or a boolean (got a date)",
      "PluginConfig.p.nested: must be a string, a number or a boolean (got a table)",
      'PluginConfig.flat: must be a table (got "x")',
      "nats.servers: must list at least one entry",
      'redis.url: must be a redis:// or rediss:// URL (got "http://not-redis")',
      "runtime.threadsMin: must be >= 1 (got 0)",
      "runtime.callTimeoutMs: must be an integer (got 1.5)",
      "runtime.memoryLimitMiB: must be <= 4096 (got 8192)",
      "artwork.secret: must be a string (got a number)",
      'log.level: must be one of "fatal", "error", "warn", "info", "debug", "trace", "silent" (got "loud")',
      "metrics.port: must be >= 0 (got -1)",
    ]);
    for (const problem of error.problems) expect(error.message).toContain(`  - ${problem}`);
  });

  it("refuses a section given as a plain value", () => {
    expect(fromFile('nats = "nats://a:4222"').problems).toEqual(['nats: must be a table (got "nats://a:4222")']);
  });

  it("refuses threadsMax below threadsMin", () => {
    expect(fromFile("[runtime]\nthreadsMin = 4\nthreadsMax = 2").problems).toEqual([
      "runtime.threadsMax: must not be below runtime.threadsMin (2 < 4)",
    ]);
  });

  it("names the file and the environment when both are at fault", () => {
    const error = configError(() =>
      parseConfig("[runtime]\nthreadsMin = 0", { source: SOURCE, env: { TONEARM_HTTP_TIMEOUTMS: "0" } }),
    );
    expect(error.source).toBe(SOURCE);
    expect(error.message.split("\n")[0]).toBe(`invalid configuration in ${SOURCE} and the environment:`);
  });
});
