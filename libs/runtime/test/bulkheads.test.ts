// Bulkheads: a plugin flooded with calls that loop or wait on slow host I/O holds at most its share
// of threads and of the queue; what exceeds it is refused with `unavailable` at once, and calls of
// every other plugin keep answering meanwhile.
import { create, toBinary } from "@bufbuild/protobuf";
import { CallError } from "@tonearm/abi";
import { httpHost } from "@tonearm/proto";
import { invokeJson, Runtime, type HostCall } from "@tonearm/runtime";
import { readFixture } from "@tonearm/test-harness";
import { afterEach, describe, expect, it } from "vitest";

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

/** How a call ended, observed without awaiting it. */
interface Tracked {
  settled: boolean;
  readonly outcome: Promise<{ ok: true } | { ok: false; code: string; message: string }>;
}

function track(promise: Promise<unknown>): Tracked {
  const tracked: Tracked = {
    settled: false,
    outcome: promise.then(
      () => ({ ok: true as const }),
      (err: unknown) => {
        if (!(err instanceof CallError)) throw err;
        return { ok: false as const, code: err.code, message: err.message };
      },
    ),
  };
  void tracked.outcome.finally(() => (tracked.settled = true));
  return tracked;
}

const healthyMbid = (rt: Runtime) => invokeJson(rt, "fake_artist_agent", "MetadataAgent", "GetArtistMBID", { id: "1", name: "X" });

/** Calls the healthy plugin `rounds` times, a few calls at a time (within its own caps). */
async function healthyRounds(rt: Runtime, rounds: number): Promise<unknown[]> {
  const answers: unknown[] = [];
  for (let i = 0; i < rounds; i++) answers.push(...(await Promise.all([healthyMbid(rt), healthyMbid(rt), healthyMbid(rt)])));
  return answers;
}

describe("a plugin whose calls never return", () => {
  it("keeps its threads and queue bounded, refuses the excess at once, and leaves the others answering", async () => {
    const rt = Runtime.create({
      threads: { min: 2, max: 4, maxPerPlugin: 2 },
      pool: { maxConcurrent: 4, maxQueued: 3, acquireTimeoutMs: 60_000 },
    });
    runtime = rt;
    await rt.load(await readFixture("plugins", "fake_artist_agent"));
    await rt.load(await readFixture("hostile", "infinite_loop"));

    const LOOP_DEADLINE_MS = 4_000;
    const deadline = Date.now() + LOOP_DEADLINE_MS;
    const flood = Array.from({ length: 40 }, () =>
      track(invokeJson(rt, "infinite_loop", "MetadataAgent", "GetArtistMBID", { id: "1", name: "X" }, { timeoutMs: LOOP_DEADLINE_MS })),
    );
    // 4 admitted + 3 waiting; the other 33 are refused without waiting for anything.
    const refused = await Promise.all(flood.slice(7).map((t) => t.outcome));
    expect(refused.every((r) => !r.ok && r.code === "unavailable" && /plugin infinite_loop is overloaded/.test(r.message))).toBe(true);
    expect(flood.slice(0, 7).some((t) => t.settled)).toBe(false);
    await expect.poll(() => rt.stats().plugins.infinite_loop).toEqual({ active: 4, waiting: 3, threads: 2 });

    // Both threads the pool started with loop; the healthy plugin gets a thread of its own.
    const healthy = await healthyRounds(rt, 10);
    expect(healthy).toEqual(Array.from({ length: 30 }, () => ({ mbid: "1234567890" })));
    // Still looping, unless a loaded machine took the healthy rounds past the looping calls' deadline.
    if (Date.now() < deadline - 500) {
      expect(flood.slice(0, 7).some((t) => t.settled)).toBe(false);
      expect(rt.stats().plugins.infinite_loop?.threads).toBe(2);
    }

    // At their deadline the looping calls time out (or give up waiting), and threads are replaced.
    const admitted = await Promise.all(flood.slice(0, 7).map((t) => t.outcome));
    expect(admitted.every((r) => !r.ok && (r.code === "timeout" || r.code === "unavailable"))).toBe(true);
    expect(await healthyMbid(rt)).toEqual({ mbid: "1234567890" });
  });
});

describe("a plugin whose calls wait on slow host I/O", () => {
  it("holds at most its share of threads while the others keep answering, then completes what it admitted", async () => {
    let inHostCall = 0;
    let mostInHostCall = 0;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const slowResponse = toBinary(httpHost.HttpResponseSchema, create(httpHost.HttpResponseSchema, { status: 200, body: new TextEncoder().encode("slow") }));
    const handleHostCall = async (call: HostCall): Promise<Uint8Array> => {
      if (call.pluginId !== "host_probe") throw new Error(`unexpected host call ${call.name}`);
      mostInHostCall = Math.max(mostInHostCall, ++inHostCall);
      await gate;
      inHostCall--;
      // A fresh buffer each time: the bridge transfers what it is given.
      return slowResponse.slice();
    };
    const rt = Runtime.create({
      threads: { min: 1, max: 6, maxPerPlugin: 2 },
      pool: { maxConcurrent: 6, maxQueued: 2, acquireTimeoutMs: 60_000 },
      host: { handleHostCall },
    });
    runtime = rt;
    await rt.load(await readFixture("plugins", "fake_artist_agent"));
    await rt.load(await readFixture("plugins", "host_probe"));

    const slowCall = () =>
      invokeJson(rt, "host_probe", "MetadataAgent", "GetArtistBiography", { name: "http.get", id: "http://127.0.0.1:9/allowed/slow" }, { timeoutMs: 20_000 });
    const flood = Array.from({ length: 30 }, () => track(slowCall()));
    const refused = await Promise.all(flood.slice(8).map((t) => t.outcome));
    expect(refused.every((r) => !r.ok && r.code === "unavailable")).toBe(true);
    await expect.poll(() => inHostCall).toBe(2);

    const healthy = await healthyRounds(rt, 10);
    expect(healthy).toEqual(Array.from({ length: 30 }, () => ({ mbid: "1234567890" })));
    expect(flood.slice(0, 8).some((t) => t.settled)).toBe(false);
    expect(mostInHostCall).toBe(2);
    expect(rt.stats().plugins.host_probe).toEqual({ active: 6, waiting: 2, threads: 2 });

    open();
    const admitted = await Promise.all(flood.slice(0, 8).map((t) => t.outcome));
    expect(admitted).toEqual(Array.from({ length: 8 }, () => ({ ok: true })));
    expect(mostInHostCall).toBe(2);
  });
});

describe("queue cap", () => {
  it("with maxQueued 0, refuses every call that finds all slots taken", async () => {
    const rt = Runtime.create({ threads: { min: 1, max: 2 }, pool: { maxConcurrent: 1, maxQueued: 0 } });
    runtime = rt;
    await rt.load(await readFixture("hostile", "infinite_loop"));
    const first = track(invokeJson(rt, "infinite_loop", "MetadataAgent", "GetArtistMBID", { id: "1", name: "X" }, { timeoutMs: 1_000 }));
    const second = await track(invokeJson(rt, "infinite_loop", "MetadataAgent", "GetArtistMBID", { id: "1", name: "X" })).outcome;
    expect(second).toMatchObject({ ok: false, code: "unavailable" });
    expect(first.settled).toBe(false);
    expect(await first.outcome).toMatchObject({ ok: false, code: "timeout" });
  });

  it("refuses bad limits with a clear error", () => {
    expect(() => Runtime.create({ pool: { maxQueued: -1 } })).toThrow(/pool\.maxQueued must be zero or more, got -1/);
    expect(() => Runtime.create({ threads: { maxPerPlugin: 0 } })).toThrow(/threads\.maxPerPlugin must be a positive number, got 0/);
  });

  it("defaults to half the threads per plugin and 100 waiting calls", () => {
    const rt = Runtime.create({ threads: { min: 1, max: 5 } });
    runtime = rt;
    expect(rt.options).toMatchObject({ maxThreadsPerPlugin: 3, maxQueued: 100 });
  });
});
