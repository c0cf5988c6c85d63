// What the status page's suites share: the configuration of a Tonearm on the fixture plugins.
import { parseConfig, type TonearmConfig } from "@tonearm/config";
import { fixturePaths, natsUrl, redisUrl } from "@tonearm/test-harness";

/** Embedded, or a cluster on the run's NATS and Redis, with quiet logs and one warm thread. */
export async function fixtureConfig(mode: "embedded" | "cluster", namespace: string): Promise<TonearmConfig> {
  return parseConfig("", {
    env: {
      TONEARM_MODE: mode,
      TONEARM_NAMESPACE: namespace,
      ...(mode === "cluster" ? { TONEARM_NATS_SERVERS: await natsUrl(), TONEARM_REDIS_URL: await redisUrl() } : {}),
      TONEARM_PLUGINS_FOLDER: fixturePaths.folder("plugins"),
      TONEARM_PLUGINS_AUTORELOAD: "false",
      TONEARM_RUNTIME_THREADSMIN: "1",
      TONEARM_LOG_LEVEL: "error",
      TONEARM_ARTWORK_SECRET: "s",
    },
  });
}
