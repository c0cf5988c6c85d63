// Runs the code of a Markdown page as a reader would. Blocks marked `file=<path>` are files to
// write; `sh run` blocks are commands, each followed by `# ` lines giving its expected output (`…`
// stands for anything; an expected line starting with `error: ` means the command fails); a
// `sh start` block starts `tonearm start` in the background, whose port replaces `<port>` later on.
import { spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { expect } from "vitest";
import { startTonearm, type RunningTonearm } from "../../../examples/shared/test/tonearm-process.js";

export interface Block {
  readonly lang: string;
  /** What follows the language on the opening fence: `file=<path>`, `run`, `start` or nothing. */
  readonly attrs: string;
  readonly body: string;
}

export interface Command {
  readonly text: string;
  readonly expected: string[];
}

export function blocks(markdown: string): Block[] {
  return [...markdown.matchAll(/^```(\w+)([^\n]*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1] ?? "", attrs: (m[2] ?? "").trim(), body: m[3] ?? "" }));
}

/** The commands of a shell block, `\`-continued lines joined, each with the `# ` lines that follow it. */
export function commands(body: string): Command[] {
  const out: Command[] = [];
  let pending = "";
  for (const line of body.split("\n")) {
    if (pending === "" && line.startsWith("# ")) {
      out.at(-1)?.expected.push(line.slice(2));
      continue;
    }
    if (line.trim() === "" && pending === "") continue;
    pending += line.endsWith("\\") ? `${line.slice(0, -1)} ` : line;
    if (!line.endsWith("\\")) {
      out.push({ text: pending.trim(), expected: [] });
      pending = "";
    }
  }
  return out;
}

/** `expected` as a pattern: `…` matches anything. */
function pattern(expected: string): RegExp {
  return new RegExp(`^${expected.split("…").map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
}

function sh(command: string, cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn("sh", ["-c", command], { cwd, env: { ...process.env, TONEARM_CONFIG: "", NO_COLOR: "1" } });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

/** Runs a command; one calling a running Tonearm is retried while the plugin is still loading. */
async function run(text: string, cwd: string): Promise<{ code: number; output: string }> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const result = await sh(text, cwd);
    const loading = text.includes("--url") && /^error: (not_found: plugin not found|unavailable): /m.test(result.output);
    if (!loading || Date.now() > deadline) return result;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

/** Runs a page's blocks in order in `cwd`; resolves with the commands run. Stops what it started. */
export async function runPage(page: readonly Block[], cwd: string): Promise<string[]> {
  let tonearm: RunningTonearm | undefined;
  const ran: string[] = [];
  try {
    for (const block of page) {
      if (block.attrs.startsWith("file=")) {
        const path = join(cwd, block.attrs.slice(5));
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, block.body);
      } else if (block.attrs === "start") {
        const [command] = commands(block.body);
        expect(command?.text).toMatch(/^npx tonearm start /);
        tonearm = await startTonearm((command?.text ?? "").replace(/^npx tonearm start /, "").split(" "), { cwd, timeoutMs: 120_000 });
      } else if (block.attrs === "run") {
        for (const command of commands(block.body)) {
          const text = command.text.replaceAll("<port>", tonearm ? new URL(tonearm.url).port : "<port>");
          const result = await run(text, cwd);
          ran.push(text);
          const failing = command.expected.some((line) => line.startsWith("error: "));
          expect(result.code === 0, `${text}\n${result.output}`).toBe(!failing);
          const lines = result.output.split("\n");
          for (const expected of command.expected) expect(lines.some((line) => pattern(expected).test(line)), `${text}: "${expected}" in\n${result.output}`).toBe(true);
        }
      }
    }
  } finally {
    const code = await tonearm?.stop();
    if (tonearm) expect(code, tonearm.output()).toBe(0);
  }
  return ran;
}
