// Every role, as a process of its own on real NATS and Redis, exits by itself soon after SIGTERM:
// it finishes what is in flight, closes its connections, and nothing keeps the event loop alive.
import { fixturePaths, killRoleProcesses, startRoleProcess, testNamespace } from "@tonearm/test-harness";
import { afterAll, describe, expect, it } from "vitest";

const namespace = testNamespace("term");

afterAll(() => killRoleProcesses());

describe("SIGTERM", () => {
  it.each(["registry", "worker", "scheduler", "gateway", "registry,worker,scheduler,gateway"])("ends a %s process with exit code 0", async (role) => {
    const started = await startRoleProcess({ role, namespace, env: { TONEARM_PLUGINS_FOLDER: fixturePaths.folder("plugins") } });
    const exited = new Promise<number | null>((resolve) => started.child.once("exit", (code) => resolve(code)));
    const sent = Date.now();
    started.child.kill("SIGTERM");
    const code = await Promise.race([exited, new Promise<"still running">((resolve) => setTimeout(() => resolve("still running"), 8_000))]);
    expect(code, started.output()).toBe(0);
    expect(Date.now() - sent).toBeLessThan(8_000);
  }, 60_000);
});
