// One-time schedules on the cluster's BullMQ driver (Redis): how late each fires past its runAt.
import { createBullMqScheduleDriver } from "@tonearm/host";
import { redisUrl, testNamespace } from "@tonearm/test-harness";
import { waitFor } from "../lib/cluster.mjs";
import { summarize } from "../stats.mjs";

const DELAY_MS = 2_000;

export async function scheduleLateness({ quick }) {
  const count = quick ? 200 : 1_000;
  const driver = createBullMqScheduleDriver({ connection: await redisUrl(), namespace: testNamespace("bench") });
  const lateness = [];
  let runAt = 0;
  let lastFiredAt = 0;
  try {
    await driver.start(async (firing) => {
      lastFiredAt = Date.now();
      lateness.push(lastFiredAt - firing.firedAt);
    });
    runAt = Date.now() + DELAY_MS;
    for (let i = 0; i < count; i += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, count - i) }, (_, k) =>
          driver.upsert({ kind: "once", pluginId: "bench", scheduleId: `s${i + k}`, payload: new Uint8Array(0), createdAt: Date.now(), delaySeconds: DELAY_MS / 1000, runAt }),
        ),
      );
    }
    if (Date.now() > runAt) throw new Error("scheduling took longer than the delay; lateness would be wrong");
    await waitFor(() => lateness.length >= count, 60_000, () => `${lateness.length} of ${count} schedules fired`);
  } finally {
    await driver.close();
  }
  const { p50_us, p99_us } = summarize(lateness);
  return { schedule_lateness: { p50_us, p99_us, // Firings per second from the common runAt to the last firing.
    ops_per_s: Math.round(count / (Math.max(1, lastFiredAt - runAt) / 1000)),
    schedules: count, delay_ms: DELAY_MS } };
}
