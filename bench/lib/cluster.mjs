// Tonearm processes for the cluster benchmarks: `tonearm start --role <role>` on the real NATS and
// Redis, in a namespace of the run's own, with a config file naming the plugins folder.
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { freePort, natsUrl, redisUrl } from "@tonearm/test-harness";

const BIN = fileURLToPath(new URL("../../services/cli/dist/main.js", import.meta.url));

/**
 * `node` flags for worker processes, from BENCH_WORKER_NODE_ARGS (space-separated), e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof`. A profile is written when the process exits by itself,
 * which a worker does soon after SIGTERM.
 */
export function workerNodeArgs() {
  return (process.env.BENCH_WORKER_NODE_ARGS ?? "").split(" ").filter(Boolean);
}

export class Cluster {
  #processes = [];

  constructor({ namespace, configFile }) {
    this.namespace = namespace;
    this.configFile = configFile;
  }

  /** Starts one process with `role` (and extra `node` flags, e.g. for profiling) and waits until it is ready. */
  async start(role, env = {}, nodeArgs = role === "worker" ? workerNodeArgs() : []) {
    const port = await freePort();
    const child = spawn(process.execPath, [...nodeArgs, BIN, "start", "--role", role, "--port", String(port)], {
      env: {
        ...process.env,
        TONEARM_CONFIG: this.configFile,
        TONEARM_MODE: "cluster",
        TONEARM_NAMESPACE: this.namespace,
        TONEARM_NATS_SERVERS: await natsUrl(),
        TONEARM_REDIS_URL: await redisUrl(),
        TONEARM_LOG_LEVEL: "warn",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const started = { role, child, port, output: "" };
    const keep = (chunk) => (started.output = (started.output + chunk.toString()).slice(-20_000));
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    this.#processes.push(started);
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200,
      30_000,
      () => `${role} not ready:\n${started.output}`,
    );
    return started;
  }

  /** The last output of every process, for error messages. */
  output() {
    return this.#processes.map((p) => `--- ${p.role}\n${p.output}`).join("\n");
  }

  /** Stops every process of the cluster (SIGTERM, then SIGKILL after 5 s). */
  async stop() {
    await Promise.all(this.#processes.map(stopProcess));
    this.#processes = [];
  }
}

async function stopProcess({ child }) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await gone;
  clearTimeout(timer);
}

/** Resident set size of a process in MiB, from /proc. */
export async function rssMb(pid) {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1]);
  return Math.round((kb / 1024) * 10) / 10;
}

export async function waitFor(check, timeoutMs, what, intervalMs = 50) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(what());
}
