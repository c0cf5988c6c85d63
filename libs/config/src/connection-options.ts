/**
 * [nats] and [redis] as the options their clients take. The shapes are restated here (as
 * `toRuntimeOptions` does) so configuration depends on neither @tonearm/bus nor ioredis; values of
 * these types can be spread into `connectNatsBus` options and into ioredis / BullMQ connections.
 */
import { readFile } from "node:fs/promises";
import { ConfigError } from "./errors.js";
import type { NatsSettings, RedisSettings } from "./types.js";

/** The credential fields of @tonearm/bus's `NatsCredentials`. */
export interface NatsCredentialOptions {
  readonly user?: string;
  readonly password?: string;
  readonly token?: string;
  readonly credsFile?: string;
  readonly nkeySeedFile?: string;
  readonly inboxPrefix?: string;
  readonly tls?: { readonly caFile?: string; readonly certFile?: string; readonly keyFile?: string };
}

/** Servers and credentials of [nats], ready for `connectNatsBus({ ...toNatsOptions(config.nats), name, namespace })`. */
export function toNatsOptions(settings: NatsSettings): NatsCredentialOptions & { readonly servers: readonly string[] } {
  const tls = defined({ caFile: settings.tlsCa, certFile: settings.tlsCert, keyFile: settings.tlsKey });
  return {
    servers: [...settings.servers],
    ...defined({
      user: settings.user,
      password: settings.password,
      token: settings.token,
      credsFile: settings.credsFile,
      nkeySeedFile: settings.nkeySeedFile,
      inboxPrefix: settings.inboxPrefix,
      tls: Object.keys(tls).length > 0 ? tls : undefined,
    }),
  };
}

/** ioredis options (with BullMQ's `url`): `new Redis(url, rest)` and BullMQ's `connection` both take it. */
export interface RedisConnectionOptions {
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  /** Node TLS options; present whenever TLS is used (a rediss:// URL or any tls* key). */
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string };
}

/**
 * The connection options of [redis], with the TLS files read now: a missing file fails at start,
 * named, rather than at the first reconnect.
 */
export async function toRedisOptions(settings: RedisSettings): Promise<RedisConnectionOptions> {
  const files = { ca: settings.tlsCa, cert: settings.tlsCert, key: settings.tlsKey };
  const wantsTls = Object.values(files).some((file) => file !== undefined) || settings.url.startsWith("rediss://");
  const tls: Record<string, string> = {};
  for (const [field, path] of Object.entries(files)) {
    if (path !== undefined) tls[field] = await readPem(path, `redis.tls${field[0]?.toUpperCase()}${field.slice(1)}`);
  }
  return { url: settings.url, ...defined({ username: settings.username, password: settings.password, tls: wantsTls ? tls : undefined }) };
}

async function readPem(path: string, key: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    throw new ConfigError(`${key}: cannot read ${path}: ${(error as Error).message}`, { source: path, cause: error });
  }
}

type Defined<T> = { [K in keyof T]?: Exclude<T[K], undefined> };

function defined<T extends object>(fields: T): Defined<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Defined<T>;
}
