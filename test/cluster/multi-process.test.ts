// A registry and two workers as separate OS processes on real NATS and Redis: calls are served by
// both workers; a worker killed with SIGKILL mid-run makes no call hang, and the survivor goes on.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { CallError } from "@tonearm/abi";
import { callPlugin, connectNatsBus, type Bus } from "@tonearm/bus";
import { fixturePaths, killRoleProcesses, natsUrl, startRoleProcess, testNamespace, waitFor, type RoleProcess } from "@tonearm/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../../services/cli/dist/main.js", import.meta.url));
const namespace = testNamespace("mp");
let bus: Bus;

const start = (role: string) =>
  startRoleProcess({ role, namespace, env: { TONEARM_PLUGINS_FOLDER: fixturePaths.folder("plugins") } });

/** Calls of fake_artist_agent a worker served, from its /metrics. */
const served = (worker: RoleProcess) => worker.metric("tonearm_plugin_calls_total", 'plugin="fake_artist_agent"');

const mbid = (timeoutMs = 5_000) =>
  callPlugin(bus, namespace, { plugin: "fake_artist_agent", capability: "MetadataAgent", method: "GetArtistMBID", json: { id: "1", name: "X" }, timeoutMs });

beforeAll(async () => {
  bus = await connectNatsBus({ servers: await natsUrl(), namespace, name: "multi-process-test" });
}, 30_000);

afterAll(async () => {
  killRoleProcesses();
  await bus?.close();
});

describe("a cluster of processes", () => {
  it("serves calls on both workers, and survives one killed with SIGKILL", async () => {
    await start("registry");
    const workers = [await start("worker"), await start("worker")];
    // Callable on both workers: each sees the plugin READY on its own (the queue group spreads a
    // round of calls over both), a few milliseconds apart.
    await waitFor(
      async () => {
        try {
          const round = await Promise.all(Array.from({ length: 10 }, () => mbid()));
          return round.every((answer) => JSON.stringify(answer) === '{"mbid":"1234567890"}');
        } catch {
          return false;
        }
      },
      30_000,
      () => "fake_artist_agent never became callable on both workers",
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
