// Plugin versions on a worker: lazy loading shared by concurrent first calls, updates while calls
// run (none may fail), removal, failed plugins and versions, and verification for the registry.
import { CallError } from "@tonearm/abi";
import type { Bus, ObjectStore } from "@tonearm/bus";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  PluginState,
  Publisher,
  artistMbid,
  callError,
  capturingLogger,
  drainWorkers,
  eventually,
  fixtureArtifact,
  memoryBus,
  startTestWorker,
  verify,
} from "./support.js";

const NS = "versions";
let bus: Bus;
let publisher: Publisher;
/** Names of the artifacts workers fetched from the object store. */
let fetched: string[];
let holdFetch: (name: string) => { requested: Promise<void>; release: () => void };
let releaseFetches: () => void;
/** Call loops of the running test, stopped even when it fails. */
const runningLoops: { stop(): Promise<void> }[] = [];

beforeEach(async () => {
  ({ bus, fetched, hold: holdFetch, releaseAll: releaseFetches } = observedFetches(memoryBus(NS)));
  publisher = await Publisher.open(bus);
});

afterEach(async () => {
  releaseFetches();
  await Promise.all(runningLoops.splice(0).map((loops) => loops.stop()));
  await drainWorkers();
  await bus.close();
});

describe("lazy loading", () => {
  it("loads a plugin on its first call, once for concurrent first calls, and keeps it warm", async () => {
    const record = await publisher.fixture("plugins", "fake_artist_agent");
    const worker = await startTestWorker(bus);
    expect(worker.stats().plugins).toEqual({});
    const answers = await Promise.all(Array.from({ length: 20 }, () => artistMbid(bus, "fake_artist_agent")));
    expect(answers).toEqual(Array.from({ length: 20 }, () => ({ mbid: "1234567890" })));
    expect(fetched).toEqual([record.sha256]);
    expect(worker.stats().plugins.fake_artist_agent).toMatchObject({ sha256: record.sha256 });
    await artistMbid(bus, "fake_artist_agent");
    expect(fetched).toHaveLength(1);
  });

  it("answers load_error for a READY version that does not load here, without fetching it again", async () => {
    await publisher.fixture("plugins", "unauthorized_plugin");
    await startTestWorker(bus);
    const call = () => callError(artistMbid(bus, "unauthorized_plugin"));
    expect(await call()).toMatchObject({ code: "load_error", message: '"get" is not exported in module "env"' });
    expect(await call()).toMatchObject({ code: "load_error", message: '"get" is not exported in module "env"' });
    expect(fetched).toHaveLength(1);
  });

  it("answers load_error when the wasm is missing from the object store, and loads it once it is there", async () => {
    const artifact = await fixtureArtifact("plugins", "fake_artist_agent");
    await publisher.put(publisher.record("fake_artist_agent", artifact));
    await startTestWorker(bus);
    const error = await callError(artistMbid(bus, "fake_artist_agent"));
    expect(error).toMatchObject({ code: "load_error" });
    expect(error.message).toContain("is not in the object store");
    await publisher.artifacts.put(artifact.sha256, artifact.wasm);
    expect(await artistMbid(bus, "fake_artist_agent")).toEqual({ mbid: "1234567890" });
  });

  it("refuses stored wasm whose sha256 is not the record's", async () => {
    const artifact = await fixtureArtifact("plugins", "fake_artist_agent");
    const other = await fixtureArtifact("plugins", "fake_album_agent");
    await publisher.artifacts.put(artifact.sha256, other.wasm);
    await publisher.put(publisher.record("fake_artist_agent", artifact));
    await startTestWorker(bus);
    const error = await callError(artistMbid(bus, "fake_artist_agent"));
    expect(error).toMatchObject({ code: "load_error" });
    expect(error.message).toContain(`not ${artifact.sha256}`);
  });
});

describe("updates", () => {
  it("serves calls on the loaded version while a new one loads, then on the new one, failing none", async () => {
    await publisher.fixture("plugins", "fake_artist_agent");
    const worker = await startTestWorker(bus);
    await artistMbid(bus, "fake_artist_agent");
    const loops = callLoops(bus, "fake_artist_agent", 10);
    // The same id now names another build (multi_plugin answers GetArtistMBID differently),
    // whose wasm takes as long to fetch as this test says.
    const next = await fixtureArtifact("plugins", "multi_plugin");
    const fetch = holdFetch(next.sha256);
    await publisher.artifacts.put(next.sha256, next.wasm);
    await publisher.put(publisher.record("fake_artist_agent", next));
    await fetch.requested;
    const answeredBefore = loops.answers.length;
    await loops.reach(answeredBefore + 50, () => true);
    expect(loops.answers.slice(answeredBefore)).not.toContain("multi-artist-mbid");
    fetch.release();
    await loops.reach(loops.answers.length + 1, (answer) => answer === "multi-artist-mbid");
    await loops.reach(loops.answers.length + 50, () => true);
    await loops.stop();

    expect(loops.failures).toEqual([]);
    // Once the new version answered, the old one never did again (beyond calls already in flight).
    const firstNew = loops.answers.indexOf("multi-artist-mbid");
    expect(loops.answers.slice(firstNew + 10)).not.toContain("1234567890");
    expect(worker.stats().plugins.fake_artist_agent?.sha256).toBe(next.sha256);
  });

  it("keeps the READY version serving through the registry's LOADING, verify, OnInit and READY", async () => {
    await publisher.fixture("plugins", "fake_artist_agent");
    await startTestWorker(bus);
    await artistMbid(bus, "fake_artist_agent");
    const loops = callLoops(bus, "fake_artist_agent", 10);

    const next = await fixtureArtifact("plugins", "multi_plugin");
    await publisher.artifacts.put(next.sha256, next.wasm);
    const loading = await publisher.put(publisher.record("fake_artist_agent", next, { state: PluginState.LOADING }));
    await loops.reach(loops.answers.length + 20, () => true);
    await verify(bus, loading);
    await loops.reach(loops.answers.length + 20, () => true);
    await publisher.update(loading, { state: PluginState.READY });
    await loops.reach(50, (answer) => answer === "multi-artist-mbid");
    await loops.stop();

    expect(loops.failures).toEqual([]);
    expect(new Set(loops.answers)).toEqual(new Set(["1234567890", "multi-artist-mbid"]));
  });

  it("loads a Go build of the plugin in the background while the old one serves", async () => {
    await publisher.fixture("plugins", "fake_artist_agent");
    const worker = await startTestWorker(bus);
    await artistMbid(bus, "fake_artist_agent");
    const loops = callLoops(bus, "fake_artist_agent", 10);
    const go = await publisher.fixture("go", "fake_artist_agent_go", { id: "fake_artist_agent" });
    await eventually(() => worker.stats().plugins.fake_artist_agent?.sha256 === go.sha256, "the Go build to serve", 8_000);
    await loops.reach(loops.answers.length + 20, () => true);
    await loops.stop();
    expect(loops.failures).toEqual([]);
    expect(new Set(loops.answers)).toEqual(new Set(["1234567890"]));
  });

  it("goes on serving the loaded version when a new one does not load", async () => {
    const { logger, lines } = capturingLogger("warn");
    const first = await publisher.fixture("plugins", "fake_artist_agent");
    const worker = await startTestWorker(bus, { logger });
    await artistMbid(bus, "fake_artist_agent");
    const broken = await publisher.fixture("hostile", "unpermitted_import", { id: "fake_artist_agent" });
    await eventually(() => lines.some((line) => line.plugin === "fake_artist_agent" && line.sha256 === broken.sha256), "the failed load to be logged");
    expect(lines.find((line) => line.sha256 === broken.sha256)).toMatchObject({ code: "load_error", err: '"get" is not exported in module "env"' });
    expect(await artistMbid(bus, "fake_artist_agent")).toEqual({ mbid: "1234567890" });
    expect(worker.stats().plugins.fake_artist_agent?.sha256).toBe(first.sha256);
  });
});

describe("removal and failure", () => {
  it("unloads a plugin whose record becomes REMOVED, or whose key is deleted", async () => {
    const artist = await publisher.fixture("plugins", "fake_artist_agent");
    await publisher.fixture("plugins", "multi_plugin");
    const worker = await startTestWorker(bus);
    await artistMbid(bus, "fake_artist_agent");
    await artistMbid(bus, "multi_plugin");
    expect(Object.keys(worker.stats().plugins).sort()).toEqual(["fake_artist_agent", "multi_plugin"]);

    await publisher.update(artist, { state: PluginState.REMOVED });
    await publisher.records.delete("multi_plugin");
    await eventually(() => Object.keys(worker.stats().plugins).length === 0, "both plugins to be unloaded");
    expect(await callError(artistMbid(bus, "fake_artist_agent"))).toMatchObject({ code: "not_found" });
    expect(await callError(artistMbid(bus, "multi_plugin"))).toMatchObject({ code: "not_found" });
  });

  it("unloads a plugin marked FAILED and refuses it with the record's error", async () => {
    const record = await publisher.fixture("plugins", "fake_artist_agent");
    const worker = await startTestWorker(bus);
    await artistMbid(bus, "fake_artist_agent");
    await publisher.update(record, { state: PluginState.FAILED, error: "initialization failed with response error" });
    await eventually(() => worker.stats().plugins.fake_artist_agent === undefined, "the plugin to be unloaded");
    expect(await callError(artistMbid(bus, "fake_artist_agent"))).toMatchObject({
      code: "load_error",
      message: "initialization failed with response error",
    });
  });
});

describe("verification for the registry", () => {
  it("answers success once the version loads, and keeps it warm", async () => {
    const worker = await startTestWorker(bus);
    const record = await publisher.fixture("plugins", "fake_artist_agent", { state: PluginState.LOADING });
    await verify(bus, record);
    expect(worker.stats().plugins.fake_artist_agent?.sha256).toBe(record.sha256);
  });

  it("answers load_error with the runtime's text for a plugin that does not link", async () => {
    await startTestWorker(bus);
    const record = await publisher.fixture("plugins", "unauthorized_plugin", { state: PluginState.LOADING });
    const error = await callError(verify(bus, record));
    expect(error).toBeInstanceOf(CallError);
    expect(error).toMatchObject({ code: "load_error", message: '"get" is not exported in module "env"' });
  });

  it("answers load_error for a manifest the runtime refuses, and bad_request for a request that is no record", async () => {
    await startTestWorker(bus);
    const artifact = await fixtureArtifact("plugins", "fake_artist_agent");
    await publisher.artifacts.put(artifact.sha256, artifact.wasm);
    const error = await callError(verify(bus, publisher.record("broken", { sha256: artifact.sha256, manifestJson: "{" }, { state: PluginState.LOADING })));
    expect(error).toMatchObject({ code: "load_error" });
    expect(error.message).toContain("invalid manifest");

    const reply = await bus.request(`tonearm.${NS}.worker.verify`, new Uint8Array([0xff, 0xff]), { timeoutMs: 2_000 });
    expect(reply.headers["Tonearm-Error-Code"]).toBe("bad_request");
  });
});

/** Calls GetArtistMBID in `parallel` loops until stopped, keeping every answer and failure. */
function callLoops(bus: Bus, plugin: string, parallel: number) {
  const answers: string[] = [];
  const failures: unknown[] = [];
  let stopped = false;
  let waiter: { count: number; match: (answer: string) => boolean; resolve: () => void } | undefined;
  const loops = Array.from({ length: parallel }, async () => {
    while (!stopped) {
      try {
        const { mbid } = (await artistMbid(bus, plugin)) as { mbid: string };
        answers.push(mbid);
        if (waiter && answers.length >= waiter.count && waiter.match(mbid)) waiter.resolve();
      } catch (err) {
        failures.push(err);
      }
    }
  });
  const control = {
    answers,
    failures,
    /** Resolves once `count` answers came and the latest one matched. */
    reach(count: number, match: (answer: string) => boolean, limitMs = 8_000): Promise<void> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${answers.length} answers, ${failures.length} failures; expected ${count}`)), limitMs);
        waiter = {
          count,
          match,
          resolve: () => {
            clearTimeout(timer);
            waiter = undefined;
            resolve();
          },
        };
      });
    },
    async stop(): Promise<void> {
      stopped = true;
      await Promise.all(loops);
    },
  };
  runningLoops.push(control);
  return control;
}

/**
 * A bus whose object stores record every `get`, to see how often workers fetch wasm, and can hold
 * the fetch of one artifact, to keep a version loading for as long as a test needs.
 */
function observedFetches(inner: Bus) {
  const fetched: string[] = [];
  const held = new Map<string, { requested: () => void; released: Promise<void>; release: () => void }>();
  const observed = (store: ObjectStore): ObjectStore => ({
    bucket: store.bucket,
    put: (name, data) => store.put(name, data),
    get: async (name) => {
      fetched.push(name);
      const hold = held.get(name);
      if (hold) {
        hold.requested();
        await hold.released;
      }
      return store.get(name);
    },
    info: (name) => store.info(name),
    delete: (name) => store.delete(name),
  });
  const bus = new Proxy(inner, {
    get(target, property) {
      if (property === "objects") return async (bucket: string) => observed(await target.objects(bucket));
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  const hold = (name: string) => {
    let requested!: () => void;
    let release!: () => void;
    const requestedPromise = new Promise<void>((resolve) => (requested = resolve));
    held.set(name, { requested, released: new Promise<void>((resolve) => (release = resolve)), release: () => release() });
    return { requested: requestedPromise, release };
  };
  const releaseAll = (): void => {
    for (const hold of held.values()) hold.release();
  };
  return { bus, fetched, hold, releaseAll };
}
