// Mutated plugin binaries in the runtime, run in-process as the worker runs it: fixture modules with
// bytes flipped, cut short, sections swapped, dropped, repeated or given absurd sizes. Each one
// fails to load (load_error) or loads and answers, fails (plugin_error) or times out; none crashes
// or wedges the process, and a healthy plugin answers all along.
//
// Seeded and bounded: TONEARM_FUZZ_SEED picks other mutants, TONEARM_WASM_MUTANTS how many.
import { existsSync } from "node:fs";
import { CallError, CallErrorCode } from "@tonearm/abi";
import { invokeJson, Runtime } from "@tonearm/runtime";
import { fixturePaths, readFixture } from "@tonearm/test-harness";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const SEED = Number(process.env.TONEARM_FUZZ_SEED ?? 20_261_125);
const MUTANTS = Number(process.env.TONEARM_WASM_MUTANTS ?? 48);
const MIB = 1024 * 1024;

interface Section {
  readonly id: number;
  /** The whole section: id, size and contents. */
  readonly bytes: Uint8Array;
}

/** The module's sections after its 8-byte header (magic and version); the last runs to the end if its size lies. */
function sections(wasm: Uint8Array): Section[] {
  const found: Section[] = [];
  let at = 8;
  while (at < wasm.length) {
    const start = at;
    const id = wasm[at++] ?? 0;
    let size = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = wasm[at++] ?? 0;
      size += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) break;
    }
    at = Math.min(at + size, wasm.length);
    found.push({ id, bytes: wasm.subarray(start, at) });
  }
  return found;
}

const concat = (parts: readonly Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

type Mutation =
  | { readonly kind: "flip" | "data"; readonly at: readonly number[]; readonly mask: number }
  | { readonly kind: "truncate"; readonly at: number }
  | { readonly kind: "swap" | "drop" | "repeat"; readonly a: number; readonly b: number }
  | { readonly kind: "oversize"; readonly a: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constantFrom("flip" as const, "data" as const), at: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constantFrom("swap" as const, "drop" as const, "repeat" as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ kind: fc.constant("oversize" as const), a: fc.nat() }),
);

function mutate(wasm: Uint8Array, m: Mutation): Uint8Array {
  const header = wasm.subarray(0, 8);
  const parts = sections(wasm);
  const pick = (n: number): number => n % parts.length;
  if (parts.length === 0 && m.kind !== "flip" && m.kind !== "truncate") return wasm;
  const DATA_SECTION = 11;
  switch (m.kind) {
    case "flip": {
      const copy = wasm.slice();
      for (const at of m.at) copy[at % copy.length] = (copy[at % copy.length] ?? 0) ^ m.mask;
      return copy;
    }
    case "data": {
      // Within the data section: the module stays valid, what the guest reads from memory changes.
      const data = parts.find((p) => p.id === DATA_SECTION);
      if (!data) return wasm;
      const offset = data.bytes.byteOffset - wasm.byteOffset;
      const copy = wasm.slice();
      for (const at of m.at) copy[offset + (at % data.bytes.length)] = (copy[offset + (at % data.bytes.length)] ?? 0) ^ m.mask;
      return copy;
    }
    case "truncate":
      return wasm.slice(0, m.at % wasm.length);
    case "swap": {
      const copy = [...parts];
      const [i, j] = [pick(m.a), pick(m.b)];
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
      return concat([header, ...copy.map((s) => s.bytes)]);
    }
    case "drop":
      return concat([header, ...parts.filter((_, i) => i !== pick(m.a)).map((s) => s.bytes)]);
    case "repeat":
      return concat([header, ...parts.flatMap((s, i) => (i === pick(m.a) ? [s.bytes, s.bytes] : [s.bytes]))]);
    case "oversize": {
      // The section claims 2^32-1 bytes: a reader that trusts sizes would run off the end.
      const target = parts[pick(m.a)]!;
      const body = target.bytes.subarray(1 + lebLength(target.bytes, 1));
      return concat([header, ...parts.map((s) => (s === target ? concat([Uint8Array.of(s.id, 0xff, 0xff, 0xff, 0xff, 0x0f), body]) : s.bytes))]);
    }
  }
}

function lebLength(bytes: Uint8Array, at: number): number {
  let n = 1;
  while (((bytes[at + n - 1] ?? 0) & 0x80) !== 0) n++;
  return n;
}

/** The code a call or load failed with, or "ok". */
async function outcome(action: Promise<unknown>): Promise<string> {
  try {
    await action;
    return "ok";
  } catch (err) {
    if (err instanceof CallError) return err.code;
    throw err;
  }
}

let runtime: Runtime;
const healthy = () => invokeJson(runtime, "fake_artist_agent", "MetadataAgent", "GetArtistMBID", { id: "1", name: "X" });

beforeAll(async () => {
  runtime = Runtime.create({ threads: { min: 2, max: 4 }, callTimeoutMs: 2_000, memoryLimitBytes: 64 * MIB, pool: { acquireTimeoutMs: 2_000 } });
  await runtime.load(await readFixture("plugins", "fake_artist_agent"));
});

afterAll(() => runtime?.close());

const BASES = [
  { set: "plugins" as const, name: "fake_artist_agent", share: 0.6 },
  { set: "plugins" as const, name: "multi_plugin", share: 0.25 },
  { set: "go" as const, name: "fake_artist_agent_go", share: 0.15 },
].filter((base) => existsSync(`${fixturePaths.plugin(base.set, base.name)}/plugin.wasm`));

describe(`mutated plugin binaries (seed ${SEED}, ${MUTANTS} mutants)`, () => {
  it.each(BASES)("$name: every mutant fails to load or fails its calls cleanly, and the healthy plugin answers", async ({ set, name, share }) => {
    const base = await readFixture(set, name);
    const count = Math.max(1, Math.round(MUTANTS * share));
    const mutations = fc.sample(fc.array(mutation, { minLength: 1, maxLength: 3 }), { numRuns: count, seed: SEED + name.length });
    const seen: Record<string, number> = {};
    for (const [i, steps] of mutations.entries()) {
      const id = `${name}_mutant_${i}`;
      const wasm = steps.reduce(mutate, base.wasm);
      const loaded = await outcome(runtime.load({ id, manifest: base.manifest, wasm }));
      expect(["ok", CallErrorCode.LoadError], `${id} ${JSON.stringify(steps)}`).toContain(loaded);
      const results = [loaded];
      if (loaded === "ok") {
        for (const method of ["GetArtistMBID", "GetArtistURL", "GetArtistBiography"]) {
          const call = await outcome(invokeJson(runtime, id, "MetadataAgent", method, { id: "1", name: "X" }, { timeoutMs: 1_000 }));
          expect(["ok", CallErrorCode.PluginError, CallErrorCode.Timeout, CallErrorCode.NotFound, CallErrorCode.NotImplemented], `${id} ${method}`).toContain(call);
          results.push(call);
        }
      }
      for (const result of results) seen[result] = (seen[result] ?? 0) + 1;
      runtime.unload(id);
      expect(await healthy()).toEqual({ mbid: "1234567890" });
    }
    // The mutants exercised refusal at load and, for the loadable ones, their calls.
    expect(seen[CallErrorCode.LoadError] ?? 0).toBeGreaterThan(0);
    expect(runtime.stats().threads).toBeLessThanOrEqual(4);
  }, 180_000);
});
