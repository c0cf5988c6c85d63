// Runs docs/plugins/guide.md as a new user would: in an empty folder inside the checkout, every code
// block marked `file=<path>` is written, every `sh run` block is run command by command (the `# `
// lines after a command are its expected output, `…` standing for anything), and the `sh start`
// block starts Tonearm as a process whose port replaces `<port>` in later commands.
import { spawn } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { startTonearm, type RunningTonearm } from "../../../examples/shared/test/tonearm-process.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const GUIDE = join(ROOT, "docs/plugins/guide.md");
// Inside the checkout, as the guide asks, and in a folder git and the test runner ignore.
const WORKDIR = join(ROOT, ".build/guide-test/wikipedia-agent");

interface Block {
  readonly lang: string;
  readonly attrs: string;
  readonly body: string;
}

interface Command {
  readonly text: string;
  readonly expected: string[];
}

function blocks(markdown: string): Block[] {
  return [...markdown.matchAll(/^```(\w+)([^\n]*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1] ?? "", attrs: (m[2] ?? "").trim(), body: m[3] ?? "" }));
}

/** The commands of a shell block, `\`-continued lines joined, each with the `# ` lines that follow it. */
function commands(body: string): Command[] {
  const out: { text: string; expected: string[] }[] = [];
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
async function run(command: Command, cwd: string): Promise<{ code: number; output: string }> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const result = await sh(command.text, cwd);
    const loading = command.text.includes("--url") && /^error: (not_found: plugin not found|unavailable): /m.test(result.output);
    if (!loading || Date.now() > deadline) return result;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

let tonearm: RunningTonearm | undefined;

afterAll(async () => {
  const code = await tonearm?.stop();
  if (tonearm) expect(code, tonearm.output()).toBe(0);
});

describe("docs/plugins/guide.md", () => {
  it("works as written: files, build, tonearm call, tests, packing, installing, calling the running Tonearm", { timeout: 600_000 }, async () => {
    const guide = blocks(await readFile(GUIDE, "utf8"));
    const written = guide.filter((b) => /^file=/.test(b.attrs)).map((b) => b.attrs.slice(5));
    expect(written).toEqual(["manifest.json", "assembly/index.ts", "test/wikipedia-agent.test.ts", "vitest.config.ts", "tonearm.toml"]);
    expect(guide.filter((b) => b.attrs === "start")).toHaveLength(1);

    await rm(WORKDIR, { recursive: true, force: true });
    await mkdir(WORKDIR, { recursive: true });
    const ran: string[] = [];
    for (const block of guide) {
      if (block.attrs.startsWith("file=")) {
        const path = join(WORKDIR, block.attrs.slice(5));
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, block.body);
      } else if (block.attrs === "start") {
        const [command] = commands(block.body);
        expect(command?.text).toMatch(/^npx tonearm start /);
        tonearm = await startTonearm((command?.text ?? "").replace(/^npx tonearm start /, "").split(" "), { cwd: WORKDIR, timeoutMs: 120_000 });
      } else if (block.attrs === "run") {
        for (const command of commands(block.body)) {
          const text = command.text.replaceAll("<port>", tonearm ? new URL(tonearm.url).port : "<port>");
          const result = await run({ ...command, text }, WORKDIR);
          ran.push(text);
          const failing = command.expected.some((line) => line.startsWith("error: "));
          expect(result.code === 0, `${text}\n${result.output}`).toBe(!failing);
          const lines = result.output.split("\n");
          for (const expected of command.expected) expect(lines.some((line) => pattern(expected).test(line)), `${text}: "${expected}" in\n${result.output}`).toBe(true);
        }
      }
    }
    expect(ran.map((text) => text.split(" ").slice(0, 3).join(" "))).toEqual([
      "npx tonearm-pdk build",
      "npx tonearm call",
      "npx tonearm call",
      "npx vitest run",
      "npx tonearm plugin",
      "npx tonearm plugin",
      "npx tonearm call",
    ]);
  });
});
