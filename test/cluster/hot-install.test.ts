// Plugins installed, changed and removed in a running cluster with the `tonearm plugin` commands
// (`--nats`), on the real NATS server: a registry and a worker keep running throughout, and each
// change shows in the answers of calls made through the worker.
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { callPlugin, connectNatsBus, type Bus } from "@tonearm/bus";
import { startTonearm, type RunningTonearm } from "@tonearm/cli";
import { parseConfig } from "@tonearm/config";
import { fixturePaths, natsUrl, redisUrl, testNamespace } from "@tonearm/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../../services/cli/dist/main.js", import.meta.url));
const namespace = testNamespace("hot");
let nats: string;
let work: string;
let registryFolder: string;
const running: RunningTonearm[] = [];
let bus: Bus;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function tonearm(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000, env: { ...process.env, TONEARM_CONFIG: "" } }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

const cluster = (): string[] => ["--nats", nats, "--namespace", namespace];

/** The answer of the worker, through the bus, or the error code. */
async function answer(plugin: string): Promise<unknown> {
  try {
    return await callPlugin(bus, namespace, { plugin, capability: "MetadataAgent", method: "GetArtistMBID", json: { name: "X" }, caller: "test" });
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

beforeAll(async () => {
  nats = await natsUrl();
  work = await mkdtemp(join(tmpdir(), "tonearm-hot-install-"));
  registryFolder = join(work, "registry-plugins");
  await mkdir(registryFolder);
  const env = (roles: string) => ({
    TONEARM_MODE: "cluster",
    TONEARM_NAMESPACE: namespace,
    TONEARM_NATS_SERVERS: nats,
    TONEARM_PLUGINS_FOLDER: registryFolder,
    // Only the commands change the cluster: the registry does not follow the folder by itself.
    TONEARM_PLUGINS_AUTORELOAD: "false",
    TONEARM_RUNTIME_THREADSMIN: "1",
    TONEARM_LOG_LEVEL: "error",
    TONEARM_ARTWORK_SECRET: roles,
  });
  const redis = await redisUrl();
  for (const role of ["registry", "worker"] as const) {
    const config = parseConfig("", { env: { ...env(role), TONEARM_REDIS_URL: redis } });
    running.push(await startTonearm(config, { roles: new Set([role]), port: 0, host: "127.0.0.1" }));
  }
  bus = await connectNatsBus({ servers: nats, namespace, name: "hot-install-test", waitForServer: false });
}, 60_000);

afterAll(async () => {
  await bus?.close();
  for (const r of running.reverse()) await r.stop();
  await rm(work, { recursive: true, force: true });
});

describe("hot install in a running cluster", () => {
  it("install, refresh after replacing plugin.wasm, update and remove change the worker's answers with nothing restarted", async () => {
    // A plugin folder as an author has it, packed by the CLI.
    const source = join(work, "hot-agent-src");
    await cp(fixturePaths.plugin("plugins", "fake_artist_agent"), source, { recursive: true });
    const manifest = (version: string) =>
      JSON.stringify({
        name: "hot_agent",
        author: "Tonearm Tests",
        version,
        description: "Installed into a running cluster",
        website: "https://example.com/hot-agent",
        capabilities: ["MetadataAgent"],
        permissions: { scheduler: { reason: "Lets a later plugin.wasm schedule callbacks" } },
      });
    await writeFile(join(source, "manifest.json"), manifest("1.0.0"));
    const ndp = join(work, "hot_agent.ndp");
    expect(await tonearm("plugin", "pack", source, "-o", ndp)).toMatchObject({ code: 0 });
    expect(await answer("hot_agent")).toBe("not_found");

    // install: the registry writes its folder, a worker verifies, calls answer.
    expect(await tonearm("plugin", "install", ndp, ...cluster())).toEqual({
      code: 0,
      stdout: "Plugin 'hot_agent' v1.0.0 installed successfully\n",
      stderr: "",
    });
    await expect.poll(() => answer("hot_agent"), { timeout: 10_000, interval: 100 }).toEqual({ mbid: "1234567890" });
    expect(await tonearm("call", ...cluster(), "hot_agent", "MetadataAgent/GetArtistMBID", '{"name":"X"}')).toMatchObject({
      code: 0,
      stdout: '{"mbid":"1234567890"}\n',
    });

    // refresh after replacing plugin.wasm in the registry's folder: the workers swap versions.
    await cp(join(fixturePaths.plugin("plugins", "multi_plugin"), "plugin.wasm"), join(registryFolder, "hot_agent", "plugin.wasm"));
    expect(await answer("hot_agent")).toEqual({ mbid: "1234567890" });
    expect(await tonearm("plugin", "refresh", "hot_agent", ...cluster())).toEqual({
      code: 0,
      stdout: "Refreshing plugin 'hot_agent'...\nPlugin 'hot_agent' refreshed successfully\n",
      stderr: "",
    });
    await expect.poll(() => answer("hot_agent"), { timeout: 10_000, interval: 100 }).toEqual({ mbid: "multi-artist-mbid" });

    // update from a package: the new version replaces the refreshed one.
    await writeFile(join(source, "manifest.json"), manifest("2.0.0"));
    const v2 = join(work, "hot_agent-2.ndp");
    expect(await tonearm("plugin", "pack", source, "-o", v2)).toMatchObject({ code: 0 });
    expect(await tonearm("plugin", "update", v2, ...cluster())).toEqual({
      code: 0,
      stdout: "Plugin 'hot_agent' updated to v2.0.0 successfully\n",
      stderr: "",
    });
    await expect.poll(() => answer("hot_agent"), { timeout: 10_000, interval: 100 }).toEqual({ mbid: "1234567890" });

    // remove: the record becomes a tombstone, calls answer not_found.
    expect(await tonearm("plugin", "remove", "hot_agent", ...cluster())).toEqual({
      code: 0,
      stdout: "Plugin 'hot_agent' removed successfully\n",
      stderr: "",
    });
    await expect.poll(() => answer("hot_agent"), { timeout: 10_000, interval: 100 }).toBe("not_found");
    const gone = await tonearm("call", ...cluster(), "hot_agent", "MetadataAgent/GetArtistMBID", '{"name":"X"}');
    expect(gone).toMatchObject({ code: 1, stdout: "" });
    expect(gone.stderr).toMatch(/^error: not_found: /m);
  }, 120_000);
});
