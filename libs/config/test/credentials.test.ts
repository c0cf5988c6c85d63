import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig, toNatsOptions, toRedisOptions } from "@tonearm/config";

const SOURCE = "/etc/tonearm/tonearm.toml";
const parse = (toml: string, env: NodeJS.ProcessEnv = {}): ReturnType<typeof parseConfig> => parseConfig(toml, { source: SOURCE, cwd: "/srv", env });

function problemsOf(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("the configuration was accepted");
}

describe("[nats] credentials", () => {
  it("reach the bus options, files resolved against the config file's folder", () => {
    const config = parse(`
[nats]
servers = ["tls://nats.example:4222"]
credsFile = "secrets/worker.creds"
tlsCa = "/pki/ca.pem"
tlsCert = "certs/worker.pem"
tlsKey = "certs/worker-key.pem"
inboxPrefix = "_INBOX.tonearm.prod.worker"
`);
    expect(toNatsOptions(config.nats)).toEqual({
      servers: ["tls://nats.example:4222"],
      credsFile: "/etc/tonearm/secrets/worker.creds",
      inboxPrefix: "_INBOX.tonearm.prod.worker",
      tls: { caFile: "/pki/ca.pem", certFile: "/etc/tonearm/certs/worker.pem", keyFile: "/etc/tonearm/certs/worker-key.pem" },
    });
  });

  it("come from the environment, paths there relative to the working folder", () => {
    const config = parse("", {
      TONEARM_NATS_USER: "worker",
      TONEARM_NATS_PASSWORD: "s3cret",
      TONEARM_NATS_TLS_CA: "ca.pem",
    });
    expect(toNatsOptions(config.nats)).toEqual({
      servers: ["nats://127.0.0.1:4222"],
      user: "worker",
      password: "s3cret",
      tls: { caFile: "/srv/ca.pem" },
    });
  });

  it("are absent by default: an anonymous connection without TLS", () => {
    expect(toNatsOptions(parse("").nats)).toEqual({ servers: ["nats://127.0.0.1:4222"] });
  });

  it("refuse a password without its user and a certificate without its key, naming the variable", () => {
    expect(problemsOf(() => parse("", { TONEARM_NATS_PASSWORD: "x" }))).toEqual([
      "nats.user: required with nats.password (from TONEARM_NATS_PASSWORD)",
    ]);
    expect(problemsOf(() => parse('[nats]\nuser = "worker"\ntlsKey = "k.pem"'))).toEqual([
      "nats.password: required with nats.user",
      "nats.tlsCert: required with nats.tlsKey",
    ]);
  });

  it("refuse empty values and an inbox prefix with wildcards", () => {
    const problems = problemsOf(() => parse('[nats]\ntoken = ""\ninboxPrefix = "_INBOX.>"'));
    expect(problems.join("\n")).toMatch(/nats\.token/);
    expect(problems.join("\n")).toMatch(/nats\.inboxPrefix: must be dot-separated subject tokens without wildcards/);
  });
});

describe("[redis] credentials", () => {
  it("become ioredis options with the TLS files read", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tonearm-redis-tls-"));
    await writeFile(join(dir, "ca.pem"), "CA PEM");
    await writeFile(join(dir, "cert.pem"), "CERT PEM");
    await writeFile(join(dir, "key.pem"), "KEY PEM");
    const config = parseConfig(
      '[redis]\nurl = "redis://cache:6379"\nusername = "tonearm-worker"\ntlsCa = "ca.pem"\ntlsCert = "cert.pem"\ntlsKey = "key.pem"',
      { source: join(dir, "tonearm.toml"), env: { TONEARM_REDIS_PASSWORD: "pw" } },
    );
    expect(await toRedisOptions(config.redis)).toEqual({
      url: "redis://cache:6379",
      username: "tonearm-worker",
      password: "pw",
      tls: { ca: "CA PEM", cert: "CERT PEM", key: "KEY PEM" },
    });
  });

  it("use TLS for a rediss:// URL and none for redis:// without files", async () => {
    expect(await toRedisOptions(parse('[redis]\nurl = "rediss://cache:6380"').redis)).toEqual({ url: "rediss://cache:6380", tls: {} });
    expect(await toRedisOptions(parse("").redis)).toEqual({ url: "redis://127.0.0.1:6379" });
  });

  it("fail at start on a TLS file that cannot be read, naming key and path", async () => {
    const config = parse('[redis]\ntlsCa = "missing-ca.pem"');
    await expect(toRedisOptions(config.redis)).rejects.toThrow("redis.tlsCa: cannot read /etc/tonearm/missing-ca.pem");
  });

  it("refuse a username without a password, but take a password alone (the default user's)", () => {
    expect(problemsOf(() => parse('[redis]\nusername = "tonearm-worker"'))).toEqual(["redis.password: required with redis.username"]);
    expect(parse("", { TONEARM_REDIS_PASSWORD: "pw" }).redis).toEqual({ url: "redis://127.0.0.1:6379", password: "pw" });
  });
});
