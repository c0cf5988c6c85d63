// Every kind of NATS credentials `[nats]` accepts, against real nats-servers configured for it:
// token, nkey seed, creds file (operator/JWT mode) and TLS with client certificates. Each is shown
// accepted with the right secret and refused without it.
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAccount, createOperator, createUser, type KeyPair } from "@nats-io/nkeys";
import { BusError, connectNatsBus, type Bus, type NatsCredentials } from "@tonearm/bus";
import { parseConfig, toNatsOptions } from "@tonearm/config";
import { startNats, type OwnServer } from "@tonearm/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makePki, type Pki } from "./pki.js";

let dir: string;
const servers: OwnServer[] = [];

async function serverWith(config: string): Promise<string> {
  const file = join(dir, `server-${servers.length}.conf`);
  await writeFile(file, config);
  const server = await startNats({ configFile: file, jetstream: false });
  servers.push(server);
  return server.url;
}

const connectWith = (url: string, credentials: NatsCredentials): Promise<Bus> =>
  connectNatsBus({ servers: url, namespace: "creds", name: "credentials-test", waitForServer: false, ...credentials });

/** Connects, proves the connection works with a round trip, and closes. */
async function works(url: string, credentials: NatsCredentials): Promise<void> {
  const bus = await connectWith(url, credentials);
  try {
    const reply = new Promise<string>((resolve) => bus.subscribe("creds.echo", {}, (m) => resolve(new TextDecoder().decode(m.data))));
    await bus.flush();
    bus.publish("creds.echo", new TextEncoder().encode("hello"));
    expect(await reply).toBe("hello");
  } finally {
    await bus.close();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tonearm-creds-"));
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.dispose()));
  await rm(dir, { recursive: true, force: true });
});

describe("token", () => {
  it("connects with the server's token and is refused with another", async () => {
    const url = await serverWith('authorization { token: "t0ken-of-the-cluster" }');
    await works(url, { token: "t0ken-of-the-cluster" });
    await expect(connectWith(url, { token: "guess" })).rejects.toThrow(/refused the credentials/);
  });
});

describe("nkey seed file", () => {
  it("signs the server's challenge with the seed; another user's seed is refused", async () => {
    const user = createUser();
    const stranger = createUser();
    const url = await serverWith(`authorization { users: [ { nkey: "${user.getPublicKey()}" } ] }`);
    const seedFile = join(dir, "user.nk");
    const strangerFile = join(dir, "stranger.nk");
    await writeFile(seedFile, `${new TextDecoder().decode(user.getSeed())}\n`);
    await writeFile(strangerFile, new TextDecoder().decode(stranger.getSeed()));
    await works(url, { nkeySeedFile: seedFile });
    await expect(connectWith(url, { nkeySeedFile: strangerFile })).rejects.toThrow(/refused the credentials/);
  });

  it("names a file that holds no seed, before connecting", async () => {
    const notASeed = join(dir, "not-a-seed.nk");
    await writeFile(notASeed, "hello");
    await expect(connectWith("nats://127.0.0.1:1", { nkeySeedFile: notASeed })).rejects.toThrow(`NATS nkeySeedFile ${notASeed} holds no user nkey seed`);
    await expect(connectWith("nats://127.0.0.1:1", { nkeySeedFile: join(dir, "missing.nk") })).rejects.toThrow(/cannot read NATS nkeySeedFile .*missing\.nk/);
  });
});

describe("creds file (operator mode)", () => {
  it("presents the user JWT and signs with its seed; a user of another account is refused", async () => {
    const operator = createOperator();
    const account = createAccount();
    const user = createUser();
    const url = await serverWith(`
operator: "${jwt(operator, operator.getPublicKey(), { type: "operator", version: 2 })}"
resolver: MEMORY
resolver_preload: {
  ${account.getPublicKey()}: "${jwt(operator, account.getPublicKey(), accountClaims())}"
}
`);
    const credsFile = join(dir, "user.creds");
    await writeFile(credsFile, credsText(jwt(account, user.getPublicKey(), userClaims()), user.getSeed()));
    await works(url, { credsFile });

    // Signed by an account the operator never issued.
    const rogueAccount = createAccount();
    const rogue = createUser();
    const rogueFile = join(dir, "rogue.creds");
    await writeFile(rogueFile, credsText(jwt(rogueAccount, rogue.getPublicKey(), userClaims()), rogue.getSeed()));
    await expect(connectWith(url, { credsFile: rogueFile })).rejects.toThrow(/refused the credentials/);
  });

  it("names a file that is not a creds file, before connecting", async () => {
    const notCreds = join(dir, "not.creds");
    await writeFile(notCreds, "user: me");
    await expect(connectWith("nats://127.0.0.1:1", { credsFile: notCreds })).rejects.toThrow(`NATS credsFile ${notCreds} holds no user JWT`);
  });
});

describe("TLS", () => {
  let pki: Pki;
  let url: string;

  beforeAll(async () => {
    pki = await makePki(dir);
    url = await serverWith(`tls { cert_file: "${pki.serverCert}", key_file: "${pki.serverKey}", ca_file: "${pki.ca}", verify: true }`);
  });

  it("connects with the CA and a client certificate from [nats] tls* keys", async () => {
    const config = parseConfig("", {
      env: { TONEARM_NATS_SERVERS: url, TONEARM_NATS_TLSCA: pki.ca, TONEARM_NATS_TLSCERT: pki.clientCert, TONEARM_NATS_TLSKEY: pki.clientKey },
    });
    await works(url, toNatsOptions(config.nats));
  });

  it("refuses a server whose certificate the configured CA did not sign", async () => {
    const connecting = connectWith(url, { tls: { caFile: pki.otherCa, certFile: pki.clientCert, keyFile: pki.clientKey } });
    await expect(connecting).rejects.toBeInstanceOf(BusError);
    await expect(connecting).rejects.toThrow(/TLS with NATS at .* failed|certificate/i);
  });

  it("requires TLS once a tls* key is set: a plain server is refused", async () => {
    const plain = await serverWith("# no TLS\n");
    await expect(connectWith(plain, { tls: { caFile: pki.ca } })).rejects.toThrow(BusError);
  });
});

describe("contradicting credentials", () => {
  it.each([
    [{ user: "a", password: "b", token: "t" }, "give one kind of credentials, not user/password and token"],
    [{ token: "t", credsFile: "x.creds" }, "not token and credsFile"],
    [{ user: "a" }, "a user and its password go together"],
    [{ tls: { certFile: "c.pem" } }, "a client certificate and its key go together"],
    [{ token: "" }, "token must not be empty"],
  ] satisfies [NatsCredentials, string][])("are refused before connecting: %j", async (credentials, message) => {
    const connecting = connectWith("nats://127.0.0.1:1", credentials);
    await expect(connecting).rejects.toMatchObject({ name: "BusError", code: "invalid_argument" });
    await expect(connecting).rejects.toThrow(message);
  });
});

// ---- JWTs made here, so the test needs no tool of NATS beyond the server ----------------------

const base64url = (data: Uint8Array | string): string => Buffer.from(data).toString("base64url");

/** A NATS JWT (v2): ed25519-nkey signed, `jti` the base32 SHA-512/256 of the claims without it. */
function jwt(issuer: KeyPair, subject: string, nats: Record<string, unknown>): string {
  const claims: Record<string, unknown> = { iat: Math.floor(Date.now() / 1000), iss: issuer.getPublicKey(), name: subject.slice(0, 8), sub: subject, nats };
  claims.jti = base32(createHash("sha512-256").update(JSON.stringify(claims)).digest());
  const signed = `${base64url(JSON.stringify({ typ: "JWT", alg: "ed25519-nkey" }))}.${base64url(JSON.stringify(claims))}`;
  return `${signed}.${base64url(issuer.sign(new TextEncoder().encode(signed)))}`;
}

function accountClaims(): Record<string, unknown> {
  const unlimited = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 };
  return { limits: unlimited, default_permissions: { pub: {}, sub: {} }, type: "account", version: 2 };
}

function userClaims(): Record<string, unknown> {
  return { pub: {}, sub: {}, subs: -1, data: -1, payload: -1, type: "user", version: 2 };
}

function credsText(userJwt: string, seed: Uint8Array): string {
  return `-----BEGIN NATS USER JWT-----\n${userJwt}\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${new TextDecoder().decode(seed)}\n------END USER NKEY SEED------\n`;
}

function base32(data: Uint8Array): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of data) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}
