// A nats-server running infra/nats-server.conf and a redis-server running infra/redis-users.acl,
// each on a free port with fresh random passwords, as an operator would deploy them.
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BusLogger } from "@tonearm/bus";
import { startNats, startRedis, type OwnServer } from "@tonearm/test-harness";

export const INFRA = fileURLToPath(new URL("../../infra/", import.meta.url));
/** The shipped files are written for the default namespace. */
export const NAMESPACE = "default";

export const NATS_ROLES = ["registry", "worker", "scheduler", "gateway", "operator", "music"] as const;
export type NatsRole = (typeof NATS_ROLES)[number];

export const REDIS_ROLES = ["worker", "scheduler", "gateway", "registry"] as const;
export type RedisRole = (typeof REDIS_ROLES)[number];

// Digits, '-' and '_' anywhere, as generated passwords have them.
const password = (): string => `9_${randomBytes(12).toString("base64url")}-1`;

export interface LockedNats {
  readonly url: string;
  readonly passwords: Readonly<Record<NatsRole, string>>;
  dispose(): Promise<void>;
}

export async function startLockedNats(): Promise<LockedNats> {
  const passwords = Object.fromEntries(NATS_ROLES.map((role) => [role, password()])) as Record<NatsRole, string>;
  // nats-server parses a variable's value as a config value: quoted, any password stays a string.
  const env = Object.fromEntries(NATS_ROLES.map((role) => [`TONEARM_NATS_${role.toUpperCase()}_PASSWORD`, JSON.stringify(passwords[role])]));
  const server = await startNats({ configFile: join(INFRA, "nats-server.conf"), env });
  return { url: server.url, passwords, dispose: () => server.dispose() };
}

export interface LockedRedis {
  readonly url: string;
  readonly users: Readonly<Record<RedisRole, { username: string; password: string }>>;
  /** A user the test adds (not in the shipped file) to look at and clean every key. */
  readonly admin: { username: string; password: string };
  dispose(): Promise<void>;
}

/**
 * Renders the shipped ACL file as `envsubst` would (its `${VARIABLE}`s are the passwords), adds a
 * test-only admin user, and starts Redis with it.
 */
export async function startLockedRedis(): Promise<LockedRedis> {
  const users = Object.fromEntries(REDIS_ROLES.map((role) => [role, { username: `tonearm-${role}`, password: password() }])) as Record<
    RedisRole,
    { username: string; password: string }
  >;
  const env = Object.fromEntries(REDIS_ROLES.map((role) => [`TONEARM_REDIS_${role.toUpperCase()}_PASSWORD`, users[role].password]));
  const template = await readFile(join(INFRA, "redis-users.acl"), "utf8");
  const rendered = template.replace(/\$\{(\w+)\}/g, (_, name: string) => {
    const value = env[name];
    if (value === undefined) throw new Error(`infra/redis-users.acl names \${${name}}, which no role provides`);
    return value;
  });
  const admin = { username: "test-admin", password: password() };
  const dir = await mkdtemp(join(tmpdir(), "tonearm-acl-"));
  const aclFile = join(dir, "users.acl");
  await writeFile(aclFile, `${rendered.trimEnd()}\nuser ${admin.username} on >${admin.password} ~* &* +@all\n`, { mode: 0o600 });
  let server: OwnServer;
  try {
    server = await startRedis({ aclFile });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: server.url,
    users,
    admin,
    dispose: async () => {
      await server.dispose();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface LogLine {
  readonly level: "info" | "warn" | "error";
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

export function recordingLogger(): BusLogger & { readonly lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    info: (fields, message) => lines.push({ level: "info", fields, message }),
    warn: (fields, message) => lines.push({ level: "warn", fields, message }),
    error: (fields, message) => lines.push({ level: "error", fields, message }),
  };
}
