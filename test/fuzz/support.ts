// What the fuzz suites share: running a function where a hang cannot take the test run down, and
// fast-check's settings. Every run draws new inputs; a failure prints its seed, and
// TONEARM_FUZZ_SEED=<seed> replays it.
import fc from "fast-check";
import { Worker } from "node:worker_threads";

/** Runs per property: bounded, so `npm test` stays quick. */
export const FUZZ_RUNS = 300;

const seed = process.env.TONEARM_FUZZ_SEED;
fc.configureGlobal({ numRuns: FUZZ_RUNS, ...(seed ? { seed: Number(seed) } : {}) });

const RUNNER = `
import { parentPort, workerData } from "node:worker_threads";
const started = performance.now();
const module = await import(workerData.module);
const results = [];
for (const args of workerData.calls) {
  try {
    results.push({ ok: true, value: await module[workerData.name](...args) });
  } catch (err) {
    results.push({ ok: false, name: err?.name, message: String(err?.message ?? err) });
  }
}
parentPort.postMessage({ results, ms: performance.now() - started });
`;

export type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly name: string; readonly message: string };

/**
 * Calls `name` of the built module at `module` once per argument list, in a worker thread that is
 * terminated after `limitMs`: a function that never returns fails the test instead of wedging it.
 * Resolves with each call's outcome.
 */
export async function callsFinishWithin(module: URL, name: string, calls: readonly (readonly unknown[])[], limitMs: number): Promise<Outcome[]> {
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(RUNNER)}`), { workerData: { module: module.href, name, calls } });
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<Outcome[]>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`${name} did not finish ${calls.length} calls within ${limitMs} ms`)), limitMs);
      worker.once("message", (message: { results: Outcome[] }) => resolve(message.results));
      worker.once("error", reject);
    });
  } finally {
    clearTimeout(timer);
    await worker.terminate();
  }
}

const PIECES = ["a", "Z", "0", "9", " ", "-", "_", ".", "/", ":", "*", "=", "\"", "'", "\\", "{", "}", "[", "]", ",", "\n", "\r\n", "\t", "\u0000", "é", "€", "😀", "\ud800", "\u200b", "%00", "..", "@every", "json"];

/**
 * Text from short pieces chosen to be awkward (quotes, separators, line breaks, NUL, non-ASCII, a
 * lone surrogate): far cheaper to draw than `fc.string`, which matters at hundreds of runs.
 */
export function awkwardText(maxPieces = 12): fc.Arbitrary<string> {
  return fc.array(fc.constantFrom(...PIECES), { maxLength: maxPieces }).map((pieces) => pieces.join(""));
}

/** A built module of a workspace library, e.g. `libs/host/dist/index.js`. */
export function libraryEntry(lib: string, module = "index.js"): URL {
  return new URL(`../../libs/${lib}/dist/${module}`, import.meta.url);
}
