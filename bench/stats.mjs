// Latency summaries for benchmarks: medians and tail percentiles, never means.
export function percentile(sortedMs, p) {
  if (sortedMs.length === 0) return NaN;
  const index = Math.min(sortedMs.length - 1, Math.ceil((p / 100) * sortedMs.length) - 1);
  return sortedMs[Math.max(0, index)];
}

/** Times `fn` `iterations` times after `warmup` runs; returns microsecond median / p99 and calls per second. */
export async function measure(fn, { iterations = 5000, warmup = 500 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const samples = new Float64Array(iterations);
  const started = performance.now();
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    await fn();
    samples[i] = performance.now() - t0;
  }
  const elapsed = performance.now() - started;
  const sorted = Array.from(samples).sort((a, b) => a - b);
  return {
    medianUs: round(percentile(sorted, 50) * 1000),
    p99Us: round(percentile(sorted, 99) * 1000),
    callsPerSec: Math.round(iterations / (elapsed / 1000)),
  };
}

/** Runs `total` calls with `concurrency` in flight; returns calls per second. */
export async function throughput(fn, { total = 20000, concurrency = 32 } = {}) {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) await fn();
    }),
  );
  return Math.round(total / ((performance.now() - started) / 1000));
}

const round = (n) => Math.round(n * 10) / 10;
