// The `tonearm` command as a user runs it: a child process of the repository's binary, for the
// tests that check the examples (and the plugin guide) through `tonearm call` and `tonearm start`.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort } from "@tonearm/test-harness";

export const TONEARM_BIN = fileURLToPath(new URL("../../../services/cli/bin/tonearm.js", import.meta.url));

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `tonearm <args>` to completion; no configuration file is picked up from the environment. */
export function tonearm(args: readonly string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [TONEARM_BIN, ...args],
      { cwd: options.cwd, timeout: options.timeoutMs ?? 30_000, env: { ...process.env, TONEARM_CONFIG: "" } },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

export interface RunningTonearm {
  /** `http://127.0.0.1:<port>`, for `tonearm call --url`. */
  readonly url: string;
  /** Everything the process wrote so far. */
  readonly output: () => string;
  /** SIGTERM, then waits for the exit; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts `tonearm start <args> --port <free port>` and resolves once it printed its banner and
 * `/readyz` answers 200; rejects with its output when it exits or takes longer than `timeoutMs`.
 */
export async function startTonearm(args: readonly string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<RunningTonearm> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [TONEARM_BIN, "start", ...args, "--port", String(port)], {
    cwd: options.cwd,
    env: { ...process.env, TONEARM_CONFIG: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const running: RunningTonearm = {
    url,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };

  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`tonearm start exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) {
      await running.stop();
      throw new Error(`tonearm start was not ready in time:\n${output}`);
    }
    if (output.includes("Tonearm is running") && (await ready(url))) return running;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function ready(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/readyz`)).ok;
  } catch {
    return false;
  }
}

/**
 * `tonearm call --url` until the plugin answers something other than "not loaded yet": the
 * registry loads plugins in the background after start. Resolves with the last run.
 */
export async function callWhenLoaded(url: string, plugin: string, method: string, json: string, timeoutMs = 30_000): Promise<Run> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await tonearm(["call", "--url", url, plugin, method, json]);
    const notYet = /^error: (not_found: plugin not found|unavailable): /m.test(run.stderr);
    if (!notYet || Date.now() > deadline) return run;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}
