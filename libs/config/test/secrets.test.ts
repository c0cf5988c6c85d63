// Secret settings: the name rule, operator-marked keys, sealing for the bus, redaction and scrubbing.
import { ConfigError, createPluginSecrets, isSecretSetting, looksSecret, parseConfig, pluginSecretsFor, redactPluginConfig } from "@tonearm/config";
import { SecretsError, isSealed, redactFields, scrubSecrets } from "@tonearm/config/secrets";
import fc from "fast-check";
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";

const KEY_A = randomBytes(32).toString("base64");
const KEY_B = randomBytes(32).toString("base64");

function secretsError(action: () => unknown): SecretsError {
  try {
    action();
  } catch (err) {
    if (err instanceof SecretsError) return err;
    throw err;
  }
  throw new Error("expected a SecretsError");
}

describe("looksSecret", () => {
  it.each([
    "password", "passwd", "db_password", "userPassword", "passphrase", "secret", "clientsecret", "client_secret",
    "apikey", "api_key", "api-key", "apiKey", "ApiKey", "lastfmkey", "lastfm_key", "licensekeys", "sessionkey",
    "privatekey", "private_key", "accesskey", "signing.key", "token", "accesstoken", "bot_token", "refreshToken",
    "credentials", "auth", "basic_auth", "basicauth", "authheader", "auth_header", "authorization", "bearer",
    "user_pass", "pwd", "otp", "wifi psk",
  ])("%s is secret", (name) => {
    expect(looksSecret(name)).toBe(true);
  });

  it.each([
    "key", "keys", "clientid", "client_id", "username", "users", "url", "auth_url", "authurl", "author", "authority",
    "oauth", "max_tokens", "tokens", "tokenizer", "hotkey", "monkey", "publickey", "public_key", "sortkey", "cachekey",
    "primary_key", "region", "language", "keyboard", "keyword", "pass_through", "passthrough", "bypass", "compass",
    "endpoint", "", "_",
  ])("%s is not secret", (name) => {
    expect(looksSecret(name)).toBe(false);
  });
});

describe("isSecretSetting", () => {
  it("adds the operator's keys, for every plugin or one, ignoring the key's case", () => {
    const marked = ["users", "discord-rich-presence.ClientID"];
    expect(isSecretSetting("any", "users", marked)).toBe(true);
    expect(isSecretSetting("any", "Users", marked)).toBe(true);
    expect(isSecretSetting("discord-rich-presence", "clientid", marked)).toBe(true);
    expect(isSecretSetting("other", "clientid", marked)).toBe(false);
    expect(isSecretSetting("other", "region", marked)).toBe(false);
    expect(isSecretSetting("other", "apikey")).toBe(true);
  });
});

describe("redaction", () => {
  it("redactPluginConfig hides secret and sealed values, keeps the rest, changes nothing in place", () => {
    const secrets = createPluginSecrets({ clusterKey: KEY_A });
    const config = { clientid: "abc", apikey: "k-123456", users: "admin:tok", region: "eu" };
    const published = secrets.seal("p", config);
    expect(redactPluginConfig("p", config, ["p.users"])).toEqual({ clientid: "abc", apikey: "[redacted]", users: "[redacted]", region: "eu" });
    expect(redactPluginConfig("p", published)).toEqual({ clientid: "abc", apikey: "[redacted]", users: "admin:tok", region: "eu" });
    expect(config.apikey).toBe("k-123456");
  });

  it("redactFields hides fields with secret names at any depth, and sealed values anywhere", () => {
    const sealed = createPluginSecrets({ clusterKey: KEY_A }).seal("p", { token: "t-0000001" }).token!;
    const input = { plugin: "p", key: "cache-key", nested: { password: "hunter22", list: [{ apiKey: "x" }, sealed] }, err: "e" };
    expect(redactFields(input)).toEqual({ plugin: "p", key: "cache-key", nested: { password: "[redacted]", list: [{ apiKey: "[redacted]" }, "[redacted]"] }, err: "e" });
    const plain = { plugin: "p", calls: 3 };
    expect(redactFields(plain)).toBe(plain);
  });
});

describe("sealing", () => {
  const secrets = createPluginSecrets({ clusterKey: KEY_A, secretKeys: ["users"] });

  it("seals only secret settings, deterministically, and opens them back", () => {
    const config = { clientid: "abc", apikey: "k-123456", users: "admin:tok" };
    const sealed = secrets.seal("lastfm", config);
    expect(sealed.clientid).toBe("abc");
    expect(isSealed(sealed.apikey!)).toBe(true);
    expect(isSealed(sealed.users!)).toBe(true);
    expect(sealed.apikey).toMatch(new RegExp(`^tonearm-sealed:v1:${secrets.keyId}:[A-Za-z0-9_-]+$`));
    expect(JSON.stringify(sealed)).not.toContain("k-123456");
    expect(secrets.seal("lastfm", config)).toEqual(sealed);
    expect(secrets.seal("lastfm", sealed)).toEqual(sealed);
    expect(secrets.open("lastfm", sealed)).toEqual(config);
    // Another process with the same cluster key opens it too.
    expect(createPluginSecrets({ clusterKey: KEY_A }).open("lastfm", sealed)).toEqual(config);
  });

  it("round-trips any value, and different values never seal alike", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20 }), fc.string({ maxLength: 20 }), fc.string({ maxLength: 200 }), fc.string({ maxLength: 200 }), (plugin, key, a, b) => {
        const sealedA = secrets.seal(plugin, { [`${key}_secret`]: a })[`${key}_secret`]!;
        const sealedB = secrets.seal(plugin, { [`${key}_secret`]: b })[`${key}_secret`]!;
        expect(secrets.open(plugin, { [`${key}_secret`]: sealedA })).toEqual({ [`${key}_secret`]: a });
        expect(sealedA === sealedB).toBe(a === b);
      }),
      { numRuns: 200 },
    );
  });

  it("refuses a sealed value moved to another plugin or setting, or changed", () => {
    const { apikey } = secrets.seal("lastfm", { apikey: "k-123456" });
    expect(secretsError(() => secrets.open("spotify", { apikey: apikey! })).code).toBe("corrupt");
    expect(secretsError(() => secrets.open("lastfm", { password: apikey! })).code).toBe("corrupt");
    const body = apikey!.slice(-10);
    const flipped = apikey!.slice(0, -10) + (body[0] === "A" ? "B" : "A") + body.slice(1);
    expect(secretsError(() => secrets.open("lastfm", { apikey: flipped })).message).toMatch(/fails authentication/);
    expect(secretsError(() => secrets.open("lastfm", { apikey: "tonearm-sealed:v1:zz" })).code).toBe("corrupt");
    expect(secretsError(() => secrets.open("lastfm", { apikey: apikey!.slice(0, 40) })).code).toBe("corrupt");
  });

  it("says which keys differ when another cluster key sealed the value", () => {
    const { apikey } = secrets.seal("lastfm", { apikey: "k-123456" });
    const other = createPluginSecrets({ clusterKey: KEY_B });
    const error = secretsError(() => other.open("lastfm", { apikey: apikey! }));
    expect(error.code).toBe("wrong_key");
    expect(error.message).toBe(
      `the setting apikey of plugin lastfm is sealed with cluster key ${secrets.keyId}, but this process has cluster key ${other.keyId}: ` +
        "give every Tonearm process of the cluster the same [security] clusterKey",
    );
    const processLocal = createPluginSecrets();
    expect(processLocal.processLocal).toBe(true);
    expect(secretsError(() => processLocal.open("lastfm", { apikey: apikey! })).message).toMatch(/but no cluster key is configured here/);
  });

  it("refuses a cluster key that is not 32 bytes of base64", () => {
    for (const bad of ["short", randomBytes(16).toString("base64"), randomBytes(32).toString("hex"), "!".repeat(44)]) {
      expect(secretsError(() => createPluginSecrets({ clusterKey: bad })).code).toBe("bad_key");
    }
  });
});

describe("scrubbing", () => {
  it("removes every secret value the process sealed or opened from text, also JSON-escaped", () => {
    const secrets = createPluginSecrets({ clusterKey: KEY_A });
    secrets.seal("p", { password: 'pa"ss\\word-1', apikey: "tiny" });
    const line = JSON.stringify({ msg: 'plugin said pa"ss\\word-1', raw: "x pa\"ss\\word-1 y" });
    expect(line).toContain('pa\\"ss\\\\word-1');
    const scrubbed = scrubSecrets(line);
    expect(scrubbed).not.toContain("word-1");
    expect(JSON.parse(scrubbed)).toEqual({ msg: "plugin said [redacted]", raw: "x [redacted] y" });
    // Too short to scrub from free text without blanking ordinary words.
    expect(scrubSecrets("tiny")).toBe("tiny");
  });
});

describe("pluginSecretsFor", () => {
  const toml = (extra: string) => `${extra}\n[PluginConfig.lastfm]\nApiKey = "k-123456"\nregion = "eu"\n`;

  it("refuses cluster mode with secret plugin settings and no cluster key, naming them and the fix", () => {
    const config = parseConfig(`mode = "cluster"\n${toml("")}`, { env: {} });
    expect(() => pluginSecretsFor(config)).toThrow(ConfigError);
    expect(() => pluginSecretsFor(config)).toThrow(
      /security\.clusterKey: required in cluster mode, because plugin settings PluginConfig\.lastfm\.apikey are secret.*openssl rand -base64 32/s,
    );
  });

  it("accepts cluster mode with a key from the environment, and embedded mode without one", () => {
    const clustered = parseConfig(`mode = "cluster"\n${toml("")}`, { env: { TONEARM_SECURITY_CLUSTERKEY: KEY_A } });
    expect(pluginSecretsFor(clustered).processLocal).toBe(false);
    expect(pluginSecretsFor(clustered).keyId).toBe(createPluginSecrets({ clusterKey: KEY_A }).keyId);
    expect(pluginSecretsFor(parseConfig(toml(""), { env: {} })).processLocal).toBe(true);
    // Nothing secret: no key needed anywhere.
    expect(pluginSecretsFor(parseConfig('mode = "cluster"\n[PluginConfig.x]\nregion = "eu"', { env: {} })).processLocal).toBe(true);
  });

  it("marks settings secret from [Plugins] SecretKeys and TONEARM_PLUGINS_SECRETKEYS", () => {
    const fromFile = parseConfig(toml('[Plugins]\nSecretKeys = ["lastfm.region"]'), { env: {} });
    expect(fromFile.plugins.secretKeys).toEqual(["lastfm.region"]);
    expect(pluginSecretsFor(fromFile).secretSettings(fromFile.pluginConfig)).toEqual(["PluginConfig.lastfm.apikey", "PluginConfig.lastfm.region"]);
    const fromEnv = parseConfig(toml(""), { env: { TONEARM_PLUGINS_SECRETKEYS: "region, users" } });
    expect(fromEnv.plugins.secretKeys).toEqual(["region", "users"]);
  });

  it("refuses a malformed cluster key without echoing it", () => {
    const bad = "not-a-key-but-still-secret";
    let message = "";
    try {
      parseConfig(`[security]\nclusterKey = "${bad}"`, { env: {} });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toMatch(/security\.clusterKey: must be 32 random bytes in base64/);
    expect(message).not.toContain(bad);
  });
});
