// A registry and two workers as separate OS processes on real NATS and Redis: calls are served by
// both workers; a worker killed with SIGKILL mid-run makes no call hang, and the survivor goes on.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { CallError } from "@tonearm/abi";
import { callPlugin, connectNatsBus, type Bus } from "@tonearm/bus";
import { fixturePaths, freePort, natsUrl, redisUrl, testNamespace } from "@tonearm/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../../services/cli/dist/main.js", import.meta.url));
const namespace = testNamespace("mp");
const processes: ChildProcess[] = [];
let bus: Bus;

interface Started {
  readonly child: ChildProcess;
  readonly port: number;
  output: string;
}

async function start(role: string): Promise<Started> {
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, "start", "--role", role, "--port", String(port)], {
    env: {
      ...process.env,
      TONEARM_CONFIG: "",
      TONEARM_MODE: "cluster",
      TONEARM_NAMESPACE: namespace,
      TONEARM_NATS_SERVERS: await natsUrl(),
      TONEARM_REDIS_URL: await redisUrl(),
      TONEARM_PLUGINS_FOLDER: fixturePaths.folder("plugins"),
      TONEARM_RUNTIME_THREADSMIN: "1",
      TONEARM_LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  processes.push(child);
  const started: Started = { child, port, output: "" };
  child.stdout?.on("data", (chunk: Buffer) => (started.output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (started.output += chunk.toString()));
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200, 30_000, () => `${role} not ready:\n${started.output}`);
  return started;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(what());
}

/** Calls of fake_artist_agent a worker served, from its /metrics. */
async function served(worker: Started): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${worker.port}/metrics`)).text();
  return text
    .split("\n")
    .filter((line) => line.startsWith("tonearm_plugin_calls_total{") && line.includes('plugin="fake_artist_agent"'))
    .reduce((sum, line) => sum + Number(line.split(" ").at(-1)), 0);
}

const mbid = (timeoutMs = 5_000) =>
  callPlugin(bus, namespace, { plugin: "fake_artist_agent", capability: "MetadataAgent", method: "GetArtistMBID", json: { id: "1", name: "X" }, timeoutMs });

beforeAll(async () => {
  bus = await connectNatsBus({ servers: await natsUrl(), namespace, name: "multi-process-test" });
}, 30_000);

afterAll(async () => {
  for (const child of processes) if (child.exitCode === null) child.kill("SIGKILL");
  await bus?.close();
});

describe("a cluster of processes", () => {
  it("serves calls on both workers, and survives one killed with SIGKILL", async () => {
    await start("registry");
    const workers = [await start("worker"), await start("worker")];
    await waitFor(
      async () => {
        try {
          return JSON.stringify(await mbid()) === '{"mbid":"1234567890"}';
        } catch {
          return false;
        }
      },
      30_000,
      () => "fake_artist_agent never became callable",
    );

    // Within the per-plugin queue cap of the two workers (runtime.maxQueuedCalls).
    const results = await Promise.all(Array.from({ length: 100 }, () => mbid()));
    expect(results.every((r) => (r as { mbid?: string }).mbid === "1234567890")).toBe(true);
    const perWorker = await Promise.all(workers.map(served));
    expect(perWorker.every((n) => n > 0)).toBe(true);

    // Calls keep flowing while one worker dies without warning.
    const deadlineMs = 3_000;
    const outcomes: Promise<{ ok: boolean; code?: string; ms: number }>[] = [];
    const flood = setInterval(() => {
      const started = Date.now();
      outcomes.push(
        mbid(deadlineMs).then(
          () => ({ ok: true, ms: Date.now() - started }),
          (err: unknown) => ({ ok: false, code: err instanceof CallError ? err.code : String(err), ms: Date.now() - started }),
        ),
      );
    }, 5);
    await new Promise((r) => setTimeout(r, 300));
    workers[0]!.child.kill("SIGKILL");
    await new Promise((r) => setTimeout(r, 1_500));
    clearInterval(flood);
    const settled = await Promise.all(outcomes);
    expect(settled.length).toBeGreaterThan(50);
    for (const outcome of settled) {
      if (!outcome.ok) expect(["unavailable", "timeout"]).toContain(outcome.code);
      expect(outcome.ms).toBeLessThan(deadlineMs + 1_000);
    }
    const survivorBefore = await served(workers[1]!);
    const after = await Promise.all(Array.from({ length: 50 }, () => mbid()));
    expect(after.every((r) => (r as { mbid?: string }).mbid === "1234567890")).toBe(true);
    expect(await served(workers[1]!)).toBeGreaterThanOrEqual(survivorBefore + 50);

    // The command line reaches the same cluster through NATS.
    const servers = await natsUrl();
    const cli = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, "call", "--nats", servers, "--namespace", namespace, "fake_artist_agent", "MetadataAgent/GetArtistMBID", '{"name":"X"}'], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      let stdout = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.on("exit", (code) => resolve({ code, stdout }));
    });
    expect(cli).toEqual({ code: 0, stdout: '{"mbid":"1234567890"}\n' });
  }, 120_000);
});
