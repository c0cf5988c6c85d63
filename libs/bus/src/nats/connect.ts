/**
 * How a process proves who it is to NATS: one kind of credentials (user and password, token, nkey
 * seed or creds file) and TLS, turned into nats.js connection options. The server's permissions for
 * that identity decide what the process may publish and subscribe (see infra/nats-server.conf).
 */
import { readFile } from "node:fs/promises";
import {
  AuthorizationError,
  connect,
  credsAuthenticator,
  nkeyAuthenticator,
  type Authenticator,
  type ConnectionOptions,
  type NatsConnection,
  type TlsOptions,
} from "@nats-io/transport-node";
import { BusError } from "../errors.js";
import { encodeToken } from "../subjects.js";

/** Files of a TLS connection, PEM. Setting any of them makes TLS required. */
export interface NatsTlsFiles {
  /** CA certificate(s) the server's certificate must chain to. @default the system's CAs */
  readonly caFile?: string;
  /** Client certificate, for servers that verify clients (`verify: true`). */
  readonly certFile?: string;
  /** Private key of `certFile`. */
  readonly keyFile?: string;
}

/** At most one kind of credentials; none connects anonymously. */
export interface NatsCredentials {
  /** Goes with `password`. */
  readonly user?: string;
  readonly password?: string;
  readonly token?: string;
  /** A `.creds` file (user JWT and nkey seed), for servers in operator (JWT) mode. */
  readonly credsFile?: string;
  /** A file holding a user nkey seed (`SU…`), for servers listing users by nkey. */
  readonly nkeySeedFile?: string;
  /** TLS is used whenever the server requires it; these files add trust and client certificates. */
  readonly tls?: NatsTlsFiles;
  /**
   * Subject prefix of this connection's reply inboxes: the server must let it subscribe there.
   * @default `_INBOX.tonearm.<ns>.<user>` with a user, else `_INBOX.tonearm.<ns>`
   */
  readonly inboxPrefix?: string;
}

/** What `openNatsConnection` needs beyond credentials. */
export interface NatsConnectionTarget extends NatsCredentials {
  readonly servers: string | readonly string[];
  readonly name: string;
  readonly namespace: string;
  readonly reconnectTimeWaitMs?: number;
  readonly waitForServer?: boolean;
}

type AuthOptions = Pick<ConnectionOptions, "user" | "pass" | "token" | "authenticator" | "tls" | "inboxPrefix">;

/**
 * The nats.js options for these credentials. Files are read now, so a missing or unreadable file
 * fails before any connection attempt, naming the file. Throws `invalid_argument` for credentials
 * that contradict each other.
 */
export async function natsAuthOptions(namespace: string, credentials: NatsCredentials): Promise<AuthOptions> {
  const { user, password, token, credsFile, nkeySeedFile } = credentials;
  const kinds = [
    user !== undefined || password !== undefined ? "user/password" : undefined,
    token !== undefined ? "token" : undefined,
    credsFile !== undefined ? "credsFile" : undefined,
    nkeySeedFile !== undefined ? "nkeySeedFile" : undefined,
  ].filter((kind) => kind !== undefined);
  if (kinds.length > 1) {
    throw new BusError("invalid_argument", `NATS credentials: give one kind of credentials, not ${kinds.join(" and ")}`);
  }
  if ((user === undefined) !== (password === undefined)) {
    throw new BusError("invalid_argument", "NATS credentials: a user and its password go together (set both)");
  }
  for (const [what, value] of [["user", user], ["password", password], ["token", token]] as const) {
    if (value === "") throw new BusError("invalid_argument", `NATS credentials: ${what} must not be empty`);
  }

  const options: AuthOptions = {
    // Replies come back on inboxes of the namespace (and of the user), so the server can confine
    // each identity to its own replies.
    inboxPrefix: credentials.inboxPrefix ?? `_INBOX.tonearm.${namespace}${user === undefined ? "" : `.${encodeToken(user)}`}`,
  };
  if (user !== undefined) Object.assign(options, { user, pass: password });
  if (token !== undefined) options.token = token;
  if (credsFile !== undefined) options.authenticator = await credsFromFile(credsFile);
  if (nkeySeedFile !== undefined) options.authenticator = await nkeyFromFile(nkeySeedFile);
  const tls = await tlsOptions(credentials.tls);
  if (tls) options.tls = tls;
  return options;
}

async function credsFromFile(path: string): Promise<Authenticator> {
  const creds = await readCredentialFile(path, "credsFile");
  if (!/-----BEGIN NATS USER JWT-----/.test(new TextDecoder().decode(creds))) {
    throw new BusError("invalid_argument", `NATS credsFile ${path} holds no user JWT (expected a .creds file)`, { target: path });
  }
  return credsAuthenticator(creds);
}

async function nkeyFromFile(path: string): Promise<Authenticator> {
  const seed = new TextDecoder().decode(await readCredentialFile(path, "nkeySeedFile")).trim();
  if (!/^SU[A-Z2-7]+$/.test(seed)) {
    throw new BusError("invalid_argument", `NATS nkeySeedFile ${path} holds no user nkey seed (one line starting with SU)`, { target: path });
  }
  return nkeyAuthenticator(new TextEncoder().encode(seed));
}

/** nats.js reads the TLS files itself; they are checked here so a bad path fails with its name. */
async function tlsOptions(files: NatsTlsFiles | undefined): Promise<TlsOptions | undefined> {
  if (!files || (files.caFile === undefined && files.certFile === undefined && files.keyFile === undefined)) return undefined;
  if ((files.certFile === undefined) !== (files.keyFile === undefined)) {
    throw new BusError("invalid_argument", "NATS TLS: a client certificate and its key go together (set both certFile and keyFile)");
  }
  const tls: TlsOptions = {};
  if (files.caFile !== undefined) tls.ca = new TextDecoder().decode(await readCredentialFile(files.caFile, "TLS CA file"));
  if (files.certFile !== undefined) tls.cert = new TextDecoder().decode(await readCredentialFile(files.certFile, "TLS certificate file"));
  if (files.keyFile !== undefined) tls.key = new TextDecoder().decode(await readCredentialFile(files.keyFile, "TLS key file"));
  return tls;
}

async function readCredentialFile(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (err) {
    throw new BusError("invalid_argument", `cannot read NATS ${what} ${path}: ${(err as Error).message}`, { target: path, cause: err });
  }
}

/**
 * Connects, retrying forever (by default also the first connection, so services may start before
 * the server). Refused credentials fail at once: retrying cannot fix them.
 */
export async function openNatsConnection(target: NatsConnectionTarget): Promise<NatsConnection> {
  const servers = typeof target.servers === "string" ? target.servers : [...target.servers];
  const auth = await natsAuthOptions(target.namespace, target);
  return connect({
    servers,
    name: target.name,
    maxReconnectAttempts: -1,
    waitOnFirstConnect: target.waitForServer ?? true,
    reconnectTimeWait: target.reconnectTimeWaitMs ?? 2000,
    ...auth,
  }).catch((err: unknown) => {
    if (err instanceof AuthorizationError || (err instanceof Error && /authorization/i.test(err.message))) {
      throw new BusError("disconnected", `NATS at ${String(servers)} refused the credentials: ${err.message}`, { cause: err });
    }
    if (auth.tls && err instanceof Error && /tls|certificate|ssl/i.test(`${err.message} ${String((err as { code?: unknown }).code)}`)) {
      throw new BusError("disconnected", `TLS with NATS at ${String(servers)} failed: ${err.message}`, { cause: err });
    }
    throw new BusError("disconnected", `cannot reach NATS at ${String(servers)}`, { cause: err });
  });
}
