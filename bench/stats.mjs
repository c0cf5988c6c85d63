// Latency summaries for benchmarks: medians and tail percentiles, never means.
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

/** p50 / p99 in microseconds of samples given in milliseconds. */
export function summarize(samplesMs) {
  const sorted = Float64Array.from(samplesMs).sort();
  return { p50_us: round(percentile(sorted, 50) * 1000), p99_us: round(percentile(sorted, 99) * 1000) };
}

/**
 * Runs `total` calls of `fn` with `concurrency` in flight (after `warmup` calls the same way);
 * returns the p50 / p99 latency of one call in microseconds and the calls completed per second.
 */
export async function load(fn, { total, concurrency = 1, warmup = Math.min(500, total) }) {
  await drive(fn, warmup, concurrency, undefined);
  const samples = new Float64Array(total);
  const started = performance.now();
  await drive(fn, total, concurrency, samples);
  const elapsedMs = performance.now() - started;
  return { ...summarize(samples), ops_per_s: Math.round(total / (elapsedMs / 1000)) };
}

async function drive(fn, total, concurrency, samples) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < total; i = next++) {
        const t0 = performance.now();
        await fn();
        if (samples) samples[i] = performance.now() - t0;
      }
    }),
  );
}

/** The median of several runs of a figure, for noisy machines. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export const round = (n) => Math.round(n * 10) / 10;
