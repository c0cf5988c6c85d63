/**
 * Tonearm roles as separate OS processes (`tonearm start --role R` of the built CLI), for the
 * suites that kill a process: cluster mode on the harness's NATS and Redis, ready once `/readyz`
 * answers 200.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort, natsUrl, redisUrl } from "./services.js";

const CLI = fileURLToPath(new URL("../../services/cli/dist/main.js", import.meta.url));

export interface RoleProcessOptions {
  /** `--role`, e.g. `registry` or `worker,gateway`. */
  readonly role: string;
  readonly namespace: string;
  /** Environment on top of the defaults (TONEARM_CONFIG empty, one runtime thread, log level warn). */
  readonly env?: Readonly<Record<string, string>>;
  /** @default 30_000 */
  readonly readyTimeoutMs?: number;
}

export interface RoleProcess {
  readonly child: ChildProcess;
  /** Its operations port on 127.0.0.1 (/healthz, /readyz, /metrics, /v1/...). */
  readonly port: number;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** The sum of a counter's series whose label text includes every one of `labels`, from /metrics. */
  metric(name: string, ...labels: string[]): Promise<number>;
}

const started = new Set<ChildProcess>();

export async function startRoleProcess(options: RoleProcessOptions): Promise<RoleProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, "start", "--role", options.role, "--port", String(port)], {
    env: {
      ...process.env,
      TONEARM_CONFIG: "",
      TONEARM_MODE: "cluster",
      TONEARM_NAMESPACE: options.namespace,
      TONEARM_NATS_SERVERS: await natsUrl(),
      TONEARM_REDIS_URL: await redisUrl(),
      TONEARM_RUNTIME_THREADSMIN: "1",
      TONEARM_LOG_LEVEL: "warn",
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.add(child);
  child.once("exit", () => started.delete(child));
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const base = `http://127.0.0.1:${port}`;
  const ready = async () => child.exitCode === null && (await fetch(`${base}/readyz`).catch(() => undefined))?.status === 200;
  await waitFor(ready, options.readyTimeoutMs ?? 30_000, () => `${options.role} not ready (exit code ${child.exitCode}):\n${output}`);
  return {
    child,
    port,
    output: () => output,
    async metric(name, ...labels) {
      const text = await (await fetch(`${base}/metrics`)).text();
      return text
        .split("\n")
        .filter((line) => line.startsWith(`${name}{`) && labels.every((label) => line.includes(label)))
        .reduce((sum, line) => sum + Number(line.split(" ").at(-1)), 0);
    },
  };
}

/** SIGKILLs every role process started here that still runs (for afterAll). */
export function killRoleProcesses(): void {
  for (const child of started) if (child.exitCode === null) child.kill("SIGKILL");
}

/** Polls `check` every 100 ms until it holds; throws `what()` after `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(what());
}
