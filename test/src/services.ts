/**
 * Finds the real NATS (with JetStream) and Redis servers a test run talks to, in this order:
 * `NATS_URL` / `REDIS_URL`; servers listening on the default local ports; `nats-server` /
 * `redis-server` from PATH started on free ports for the run; testcontainers when a Docker engine
 * answers. Otherwise the run fails and says how to get them.
 *
 * Tests that stop or restart a server start their own with `startNats` / `startRedis`; the shared
 * servers are never stopped.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

export interface OwnServer {
  readonly url: string;
  readonly port: number;
  /** Stops the server; its data (JetStream store) is kept for `restart`. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same data. */
  restart(): Promise<void>;
  /** Stops it and removes its data. */
  dispose(): Promise<void>;
}

const HOW_TO =
  "Tonearm's tests need NATS (with JetStream) and Redis. Either set NATS_URL and REDIS_URL, run them on " +
  "127.0.0.1:4222 (`nats-server -js`) and 127.0.0.1:6379 (`redis-server`), put `nats-server` and `redis-server` " +
  "on PATH (Debian/Ubuntu: `apt-get install nats-server redis-server`), or start a Docker engine for testcontainers.";

let natsUrlPromise: Promise<string> | undefined;
let redisUrlPromise: Promise<string> | undefined;

/** The URL of the NATS server the whole run shares. */
export function natsUrl(): Promise<string> {
  natsUrlPromise ??= findServer("nats", process.env.NATS_URL, 4222, (port) => startNats({ port }));
  return natsUrlPromise;
}

/** The URL of the Redis server the whole run shares. */
export function redisUrl(): Promise<string> {
  redisUrlPromise ??= findServer("redis", process.env.REDIS_URL, 6379, (port) => startRedis({ port }));
  return redisUrlPromise;
}

/** A namespace no other test run uses, so runs sharing one NATS and one Redis never collide. */
export function testNamespace(prefix = "t"): string {
  return `${prefix}${randomBytes(5).toString("hex")}`;
}

async function findServer(
  kind: "nats" | "redis",
  fromEnv: string | undefined,
  defaultPort: number,
  start: (port: number) => Promise<OwnServer>,
): Promise<string> {
  if (fromEnv) return fromEnv;
  if (await listening(defaultPort)) return `${kind}://127.0.0.1:${defaultPort}`;
  const binary = kind === "nats" ? "nats-server" : "redis-server";
  if (onPath(binary)) {
    const server = await start(await freePort());
    process.once("exit", () => void server.stop());
    return server.url;
  }
  const container = await startContainer(kind);
  if (container) return container;
  throw new Error(`no ${kind} server found. ${HOW_TO}`);
}

export interface StartNatsOptions {
  port?: number;
  jetstream?: boolean;
  /**
   * A nats-server configuration file, e.g. infra/nats-server.conf. Address and port given on the
   * command line override the file's; its JetStream `store_dir` is pointed at the test's own
   * folder (nats-server refuses `-sd` beside a `store_dir`).
   */
  configFile?: string;
  /** Extra environment of the server process: the values of `$VARIABLE`s in the config file. */
  env?: Readonly<Record<string, string>>;
}

/** Starts a nats-server of the test's own on a free port (JetStream on unless told otherwise). */
export async function startNats(options: StartNatsOptions = {}): Promise<OwnServer> {
  if (!onPath("nats-server")) throw new Error(`nats-server is not on PATH. ${HOW_TO}`);
  const port = options.port ?? (await freePort());
  const storeDir = await mkdtemp(join(tmpdir(), "tonearm-nats-"));
  const args = ["-a", "127.0.0.1", "-p", String(port)];
  if (options.configFile !== undefined) {
    const text = await readFile(options.configFile, "utf8");
    const ownStore = text.replace(/^(\s*store_dir\s*[:=]\s*).*$/m, (_, key: string) => `${key}${JSON.stringify(storeDir)}`);
    const configFile = join(storeDir, "nats-server.conf");
    await writeFile(configFile, ownStore);
    args.push("-c", configFile);
    if (options.jetstream !== false && ownStore === text) args.push("-js", "-sd", storeDir);
  } else if (options.jetstream !== false) {
    args.push("-js", "-sd", storeDir);
  }
  return ownServer(`nats://127.0.0.1:${port}`, port, "nats-server", args, storeDir, options.env);
}

export interface StartRedisOptions {
  port?: number;
  /** A Redis ACL file (`--aclfile`), e.g. one rendered from infra/redis-users.acl. */
  aclFile?: string;
  /**
   * Serve TLS only (the URL is then `rediss://`), with these PEM files. With `caFile`, clients must
   * present a certificate it signed.
   */
  tls?: { certFile: string; keyFile: string; caFile?: string };
}

/** Starts a redis-server of the test's own on a free port, without persistence. */
export async function startRedis(options: StartRedisOptions = {}): Promise<OwnServer> {
  if (!onPath("redis-server")) throw new Error(`redis-server is not on PATH. ${HOW_TO}`);
  const port = options.port ?? (await freePort());
  const dir = await mkdtemp(join(tmpdir(), "tonearm-redis-"));
  const args = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir];
  if (options.aclFile !== undefined) args.push("--aclfile", options.aclFile);
  const { tls } = options;
  if (tls === undefined) return ownServer(`redis://127.0.0.1:${port}`, port, "redis-server", ["--port", String(port), ...args], dir);
  args.push("--port", "0", "--tls-port", String(port), "--tls-cert-file", tls.certFile, "--tls-key-file", tls.keyFile);
  if (tls.caFile !== undefined) args.push("--tls-ca-cert-file", tls.caFile, "--tls-auth-clients", "yes");
  else args.push("--tls-auth-clients", "no");
  return ownServer(`rediss://127.0.0.1:${port}`, port, "redis-server", args, dir);
}

async function ownServer(
  url: string,
  port: number,
  binary: string,
  args: string[],
  dataDir: string,
  env?: Readonly<Record<string, string>>,
): Promise<OwnServer> {
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const proc = spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...env } });
    let stderr = "";
    proc.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<never>((_, reject) =>
      proc.once("exit", (code) => reject(new Error(`${binary} exited with code ${code}: ${stderr.trim()}`))),
    );
    exited.catch(() => undefined);
    child = proc;
    await Promise.race([waitListening(port, 10_000, binary), exited]);
  };
  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const gone = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 5_000);
    await gone;
    clearTimeout(timer);
  };
  await start();
  return {
    url,
    port,
    stop,
    restart: start,
    dispose: async () => {
      await stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function startContainer(kind: "nats" | "redis"): Promise<string | undefined> {
  if (!dockerAvailable()) return undefined;
  const { GenericContainer } = await import("testcontainers");
  const container =
    kind === "nats"
      ? await new GenericContainer("nats:2.10-alpine").withCommand(["-js"]).withExposedPorts(4222).start()
      : await new GenericContainer("redis:7-alpine").withExposedPorts(6379).start();
  process.once("exit", () => void container.stop());
  const port = container.getMappedPort(kind === "nats" ? 4222 : 6379);
  return `${kind}://${container.getHost()}:${port}`;
}

function dockerAvailable(): boolean {
  return Boolean(process.env.DOCKER_HOST) || existsSync("/var/run/docker.sock");
}

function onPath(binary: string): boolean {
  return (process.env.PATH ?? "").split(delimiter).some((dir) => dir && existsSync(join(dir, binary)));
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function waitListening(port: number, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await listening(port)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${what} did not listen on port ${port} within ${timeoutMs} ms`);
}

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
