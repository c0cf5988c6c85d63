import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { natsUrl, redisUrl, startNats, startRedis, testNamespace } from "@tonearm/test-harness";

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

describe("real services", () => {
  it("finds a shared NATS and Redis", async () => {
    expect(await reachable(await natsUrl())).toBe(true);
    expect(await reachable(await redisUrl())).toBe(true);
  });

  it("starts, stops and restarts servers of a test's own", async () => {
    for (const server of [await startNats(), await startRedis()]) {
      expect(await reachable(server.url)).toBe(true);
      await server.stop();
      expect(await reachable(server.url)).toBe(false);
      await server.restart();
      expect(await reachable(server.url)).toBe(true);
      await server.dispose();
    }
  });

  it("gives every caller its own namespace", () => {
    expect(testNamespace()).not.toBe(testNamespace());
    expect(testNamespace()).toMatch(/^t[0-9a-f]{10}$/);
  });
});
