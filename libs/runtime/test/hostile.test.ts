// Hostile plugins (hand-written WAT, test/fixtures/hostile): each fails with a clear error while the
// runtime goes on serving every other call.
import { CallError } from "@tonearm/abi";
import { invokeJson, Runtime } from "@tonearm/runtime";
import { readFixture } from "@tonearm/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const MIB = 1024 * 1024;
let runtime: Runtime;

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof CallError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error("it succeeded");
}

const mbid = (plugin: string, timeoutMs?: number) =>
  invokeJson(runtime, plugin, "MetadataAgent", "GetArtistMBID", { id: "1", name: "X" }, timeoutMs ? { timeoutMs } : undefined);
const url = (plugin: string) => invokeJson(runtime, plugin, "MetadataAgent", "GetArtistURL", { id: "1", name: "X" });

/** A healthy plugin answers, proving the worker still serves after whatever came before. */
async function expectStillServing(): Promise<void> {
  expect(await mbid("fake_artist_agent")).toEqual({ mbid: "1234567890" });
}

beforeAll(async () => {
  runtime = Runtime.create({ threads: { min: 2, max: 4 }, memoryLimitBytes: 64 * MIB });
  await runtime.load(await readFixture("plugins", "fake_artist_agent"));
});

afterAll(() => runtime?.close());

async function loadHostile(name: string) {
  return runtime.load(await readFixture("hostile", name));
}

describe("plugins that fail to load", () => {
  it.each([
    ["no_malloc", "malloc is not exported"],
    ["wrong_api_version", "API version mismatch, host: 1, plugin: 2"],
    ["unpermitted_import", '"get" is not exported in module "env"'],
    ["memory_bomb_initial", "memory minimum of 40000 pages (2500 MiB) exceeds the limit of 1024 pages (64 MiB)"],
    ["bad_init", "unreachable"],
  ])("%s fails with load_error: %s", async (name, text) => {
    const error = await failure(loadHostile(name));
    expect(error.code).toBe("load_error");
    expect(error.message).toContain(text);
    expect(runtime.status(name)).toMatchObject({ state: "failed" });
    expect(await failure(url(name))).toMatchObject({ code: "load_error" });
    await expectStillServing();
  });
});

describe("plugins that misbehave in a call", () => {
  it.each([
    ["trap", /^wasm trap: unreachable$/],
    ["bad_pointer", /^Memory\.Read\(4294901760, 16\) out of range of memory size 65536$/],
    ["exit_in_call", /^module closed with exit_code\(3\)$/],
    // memory.grow fails at the 64 MiB ceiling, and the fixture then traps.
    ["memory_bomb", /^wasm trap: unreachable$/],
    ["oversized_result", /^result of 50331648 bytes exceeds the limit of 16777216 bytes$/],
  ])("%s fails with plugin_error and its other methods still answer", async (name, text) => {
    await loadHostile(name);
    const error = await failure(mbid(name));
    expect(error.code).toBe("plugin_error");
    expect(error.message).toMatch(text);
    // The broken instance was discarded; a fresh one answers the plugin's healthy method.
    expect(await url(name)).toEqual({ url: "https://example.com" });
    await expectStillServing();
  });

  it("stops an infinite loop at its deadline by replacing the thread, then answers the next call", async () => {
    await loadHostile("infinite_loop");
    const replacedBefore = runtime.stats().replaced;
    const started = performance.now();
    const error = await failure(mbid("infinite_loop", 300));
    expect(error.code).toBe("timeout");
    expect(performance.now() - started).toBeLessThan(5_000);
    await expect.poll(() => runtime.stats().replaced).toBe(replacedBefore + 1);
    expect(await url("infinite_loop")).toEqual({ url: "https://example.com" });
    await expectStillServing();
  });

  it("keeps every other plugin's calls answering while one loops", async () => {
    const looping = failure(mbid("infinite_loop", 500));
    const others = await Promise.all(Array.from({ length: 20 }, () => mbid("fake_artist_agent")));
    expect(others.every((r) => (r as { mbid: string }).mbid === "1234567890")).toBe(true);
    expect((await looping).code).toBe("timeout");
  });
});
