// The worker's request handlers (calls, agents, verification) fed hostile bus messages: unknown and
// malformed subjects' tokens, garbage or truncated protobuf, broken JSON, missing, malformed and
// oversized headers. Every request gets exactly one answer, an answer or a call-protocol error with
// a known code on one line, and the worker keeps serving healthy calls afterwards.
import { mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isCallErrorCode } from "@tonearm/abi";
import { CallHeader, callPlugin, createMemoryBus, encodeToken, subjects, workerVerifySubject, type Bus, type Headers } from "@tonearm/bus";
import { parseConfig } from "@tonearm/config";
import { createLocalWebSocketGateway, createMemoryCacheStore, createMemoryScheduleStore, hostSettings } from "@tonearm/host";
import { startRegistry, type Registry } from "@tonearm/registry";
import { createLogger } from "@tonearm/telemetry";
import { fixturePaths, testNamespace } from "@tonearm/test-harness";
import { createWorker, type Worker } from "@tonearm/worker";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awkwardText } from "./support.js";

const PLUGINS = ["fake_artist_agent", "fake_album_agent", "fake_init_service"];
const quiet = createLogger({ level: "silent" });
let bus: Bus;
let worker: Worker;
let registry: Registry;
let folder: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "tonearm-fuzz-"));
  for (const id of PLUGINS) await symlink(fixturePaths.plugin("plugins", id), join(folder, id));
  const namespace = testNamespace("fz");
  const config = parseConfig(`namespace = "${namespace}"\n[Plugins]\nFolder = "${folder}"\nAutoReload = false\n`, { env: {} });
  bus = createMemoryBus({ namespace, logger: { info: () => {}, warn: () => {}, error: () => {} } });
  worker = createWorker({
    bus,
    namespace,
    runtimeOptions: { threads: { min: 1, max: 4 }, callTimeoutMs: 5_000 },
    hostSettings: hostSettings(config),
    hostDrivers: { cache: createMemoryCacheStore(), schedules: createMemoryScheduleStore(), websocket: createLocalWebSocketGateway({ onEvent: () => {} }) },
    agents: ["nobody", "fake_artist_agent", "fake_album_agent"],
    logger: quiet,
  });
  await worker.start();
  registry = await startRegistry({ bus, config, logger: quiet });
}, 60_000);

afterAll(async () => {
  await registry?.stop();
  await worker?.drain();
  await bus?.close();
  await rm(folder, { recursive: true, force: true });
});

const METHODS = [
  ["fake_artist_agent", "MetadataAgent", "GetArtistMBID"],
  ["fake_artist_agent", "MetadataAgent", "GetArtistURL"],
  ["fake_artist_agent", "MetadataAgent", "GetSimilarArtists"],
  ["fake_album_agent", "MetadataAgent", "GetAlbumInfo"],
  ["fake_album_agent", "MetadataAgent", "GetAlbumImages"],
  ["fake_init_service", "LifecycleManagement", "OnInit"],
  ["fake_artist_agent", "Scrobbler", "NowPlaying"],
] as const;
const token = fc.oneof(fc.constantFrom(...PLUGINS, "nobody", "MetadataAgent", "Bogus", "GetArtistMBID"), fc.stringMatching(/^[A-Za-z0-9_=-]{1,10}$/));
const prefix = (): string => subjects(bus.namespace).prefix;
// Mostly subjects that reach a plugin, so that the garbage gets past the gate to the guest.
const subject = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...METHODS).map(([p, c, m]) => `${prefix()}.call.${encodeToken(p)}.${c}.${m}`) },
  { weight: 2, arbitrary: fc.tuple(token, token, token).map(([p, c, m]) => `${prefix()}.call.${encodeToken(p)}.${c}.${m}`) },
  { weight: 3, arbitrary: fc.oneof(fc.constantFrom("GetArtistMBID", "GetAlbumInfo", "GetArtistImages"), token).map((m) => `${prefix()}.agents.${m}`) },
  { weight: 1, arbitrary: fc.constant(null).map(() => workerVerifySubject(bus.namespace)) },
);
const junk = fc.oneof(
  awkwardText(8).map((s) => s.replace(/[\r\n]/g, "")),
  fc.integer({ min: 1_000, max: 100_000 }).map((n) => "x".repeat(n)),
);
const maybe = (usual: fc.Arbitrary<string>): fc.Arbitrary<string | undefined> =>
  fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 3, arbitrary: usual }, { weight: 1, arbitrary: junk });
const headers: fc.Arbitrary<Headers> = fc
  .record({
    [CallHeader.Deadline]: maybe(fc.oneof(fc.integer({ min: 1_000, max: 20_000 }).map((ms) => String(Date.now() + ms)), fc.constantFrom("0", "1", "9".repeat(16)))),
    [CallHeader.ContentType]: maybe(fc.constantFrom("application/json", "application/protobuf", "Application/JSON; charset=utf-8")),
    [CallHeader.Traceparent]: maybe(fc.constant("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")),
    [CallHeader.Caller]: maybe(fc.constantFrom("navidrome", "fuzz")),
  })
  .map((h) => Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined)) as Headers);
const body = fc.oneof(
  fc.uint8Array({ maxLength: 256 }),
  fc.constant(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])), // a field length far past the end
  fc.oneof(fc.json({ maxDepth: 3 }), awkwardText()).map((text) => new TextEncoder().encode(text)),
);

describe("worker handlers fuzz", () => {
  it("answers every hostile request exactly once, with a known code on error, and keeps serving", async () => {
    const servedBefore = Object.values(worker.stats().served).reduce((a, b) => a + b, 0);
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(subject, body, headers, async (to, data, h) => {
        sent++;
        const reply = await bus.request(to, data, { timeoutMs: 15_000, headers: h });
        const code = reply.headers[CallHeader.ErrorCode];
        if (code === undefined) return;
        expect(isCallErrorCode(code), code).toBe(true);
        const message = reply.headers[CallHeader.ErrorMessage] ?? "";
        expect(message).not.toMatch(/[\r\n]/);
        expect(message.length).toBeLessThanOrEqual(2048);
      }),
      { numRuns: 150 },
    );
    const served = Object.values(worker.stats().served).reduce((a, b) => a + b, 0);
    expect(served - servedBefore).toBe(sent);
    expect(await callPlugin(bus, bus.namespace, { plugin: "fake_artist_agent", capability: "MetadataAgent", method: "GetArtistMBID", json: { id: "1", name: "X" } })).toEqual({
      mbid: "1234567890",
    });
  }, 120_000);
});
