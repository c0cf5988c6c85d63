// Bulkheads end to end, on the real NATS: a plugin whose calls wait on a slow HTTP server is
// flooded through the bus. It holds no more threads than [runtime] maxThreadsPerPlugin and no more
// waiting calls than maxQueuedCalls; the rest of the flood is answered `unavailable` at once, and
// another plugin's calls keep answering while the slow ones wait. The pool has as many threads as
// the slow plugin has running calls, so without its thread cap the other plugin would get none.
import { mkdtemp, rm, symlink } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CallError } from "@tonearm/abi";
import { callPlugin, connectNatsBus, type Bus } from "@tonearm/bus";
import { parseConfig, toRuntimeOptions } from "@tonearm/config";
import { createLocalWebSocketGateway, createMemoryCacheStore, createMemoryScheduleStore, hostSettings } from "@tonearm/host";
import { startRegistry, type Registry } from "@tonearm/registry";
import { createLogger } from "@tonearm/telemetry";
import { fixturePaths, natsUrl, testNamespace } from "@tonearm/test-harness";
import { createWorker, type Worker } from "@tonearm/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const quiet = createLogger({ level: "silent" });
let folder: string;
let bus: Bus;
let worker: Worker;
let registry: Registry;
let server: Server;
let base: string;
let inFlight = 0;
let mostInFlight = 0;
let release!: () => void;
const released = new Promise<void>((resolve) => (release = resolve));

beforeAll(async () => {
  server = createServer((_request, response) => {
    mostInFlight = Math.max(mostInFlight, ++inFlight);
    void released.then(() => {
      inFlight--;
      response.setHeader("Content-Type", "text/plain");
      response.end("slow answer");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;

  folder = await mkdtemp(join(tmpdir(), "tonearm-overload-"));
  for (const id of ["host_probe", "fake_artist_agent"]) await symlink(fixturePaths.plugin("plugins", id), join(folder, id));
  const namespace = testNamespace("ovl");
  const servers = await natsUrl();
  const config = parseConfig(
    `mode = "cluster"\nnamespace = "${namespace}"\n[Plugins]\nFolder = "${folder}"\nAutoReload = false\n[nats]\nservers = ["${servers}"]\n` +
      "[http]\ntimeoutMs = 60000\n" +
      "[runtime]\nthreadsMin = 1\nthreadsMax = 4\nmaxThreadsPerPlugin = 2\nmaxConcurrentCalls = 4\nmaxQueuedCalls = 4\nacquireTimeoutMs = 60000\ncallTimeoutMs = 60000\n",
    { env: {} },
  );
  bus = await connectNatsBus({ servers, name: "overload", namespace, logger: { info: () => {}, warn: () => {}, error: () => {} } });
  worker = createWorker({
    bus,
    namespace,
    runtimeOptions: toRuntimeOptions(config.runtime),
    hostSettings: hostSettings(config),
    hostDrivers: { cache: createMemoryCacheStore(), schedules: createMemoryScheduleStore(), websocket: createLocalWebSocketGateway({ onEvent: () => {} }) },
    agents: [],
    logger: quiet,
  });
  await worker.start();
  registry = await startRegistry({ bus, config, logger: quiet });
}, 60_000);

afterAll(async () => {
  release();
  await registry?.stop();
  await worker?.drain();
  await bus?.close();
  server?.close();
  await rm(folder, { recursive: true, force: true });
});

interface Settled {
  done: boolean;
  readonly result: Promise<{ readonly code?: string; readonly answer?: unknown }>;
}

function track(call: Promise<unknown>): Settled {
  const settled: Settled = {
    done: false,
    result: call.then(
      (answer) => ({ answer }),
      (err: unknown) => {
        if (err instanceof CallError) return { code: err.code };
        throw err;
      },
    ),
  };
  void settled.result.finally(() => (settled.done = true));
  return settled;
}

/** Polls are given time for a loaded machine; a broken bulkhead fails them all the same. */
const POLL = { timeout: 15_000, interval: 20 };

const slow = () =>
  callPlugin(bus, bus.namespace, {
    plugin: "host_probe",
    capability: "MetadataAgent",
    method: "GetArtistBiography",
    json: { name: "http.get", id: `${base}/allowed/slow` },
    timeoutMs: 60_000,
  });

// A deadline far below the slow calls': a thread it cannot get makes it fail, not wait them out.
const mbid = () =>
  callPlugin(bus, bus.namespace, { plugin: "fake_artist_agent", capability: "MetadataAgent", method: "GetArtistMBID", json: { id: "1", name: "X" }, timeoutMs: 5_000 });

describe("a plugin flooded while its calls wait on a slow server", () => {
  it("keeps to its threads and queue, refuses the excess at once, and leaves the other plugin answering", async () => {
    // Both plugins published and loaded before the flood, so loading is not what is measured.
    await expect.poll(() => mbid().then((answer) => answer, () => undefined), POLL).toEqual({ mbid: "1234567890" });
    await expect
      .poll(() => callPlugin(bus, bus.namespace, { plugin: "host_probe", capability: "MetadataAgent", method: "GetArtistBiography", json: { name: "config" } }).catch(() => undefined), POLL)
      .toEqual({}); // an empty config: the empty biography, left out of the JSON

    // Admitted one at a time first, so which four run and which four wait is known.
    const admitted = [];
    for (let i = 0; i < 8; i++) {
      admitted.push(track(slow()));
      if (i < 4) await expect.poll(() => worker.stats().plugins.host_probe?.active, POLL).toBe(i + 1);
      else await expect.poll(() => worker.stats().plugins.host_probe?.waiting, POLL).toBe(i - 3);
    }
    const flood = Array.from({ length: 30 }, () => track(slow()));
    // At once: long before the slow calls' deadline, while all eight admitted ones still wait.
    await expect.poll(() => flood.every((f) => f.done), POLL).toBe(true);
    expect((await Promise.all(flood.map((f) => f.result))).map((r) => r.code)).toEqual(Array.from({ length: 30 }, () => "unavailable"));
    expect(worker.stats().plugins.host_probe).toMatchObject({ active: 4, waiting: 4 });

    await expect.poll(() => inFlight, POLL).toBe(2);
    for (let i = 0; i < 10; i++) expect(await mbid()).toEqual({ mbid: "1234567890" });
    expect(admitted.some((a) => a.done)).toBe(false);
    expect(mostInFlight).toBe(2);

    release();
    const answers = await Promise.all(admitted.map((a) => a.result));
    expect(answers).toEqual(Array.from({ length: 8 }, () => ({ answer: { biography: "200 text/plain slow answer" } })));
    expect(mostInFlight).toBe(2);
  }, 120_000);
});
