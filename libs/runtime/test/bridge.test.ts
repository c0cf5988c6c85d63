// The host-call bridge on its own: a real worker thread blocks in BridgeClient.call while this
// thread answers through serveBridge, for answers that fit the shared area, that do not, empty
// ones, views into larger buffers, and failures.
import { Worker } from "node:worker_threads";
import { afterAll, describe, expect, it } from "vitest";
import { SHARED_ANSWER_BYTES, createBridgeChannel, serveBridge } from "../dist/bridge.js";

const BRIDGE_URL = new URL("../dist/bridge.js", import.meta.url).href;

/** Sizes asked for by name; `fail` answers an error, `view` a view into a larger buffer. */
function answer(name: string): Uint8Array {
  const [kind, size] = name.split(":") as [string, string];
  const bytes = new Uint8Array(Number(size)).map((_, i) => (i * 7 + Number(size)) & 0xff);
  if (kind === "view") {
    const pool = new Uint8Array(bytes.length + 4096);
    pool.set(bytes, 100);
    return pool.subarray(100, 100 + bytes.length);
  }
  return bytes;
}

// The thread makes each host call in turn and posts back the bytes (or the failure) it received.
const THREAD = `
  const { parentPort, workerData } = require("node:worker_threads");
  import(workerData.bridge).then(({ BridgeClient }) => {
    const client = new BridgeClient(workerData.port, workerData.shared);
    const results = workerData.names.map((name) => {
      try {
        return { name, bytes: client.call({ callId: 1, pluginId: "p", name, request: new Uint8Array([1, 2, 3]) }) };
      } catch (err) {
        return { name, error: err.message };
      }
    });
    parentPort.postMessage(results);
  });
`;

const workers: Worker[] = [];
afterAll(async () => {
  await Promise.all(workers.map((w) => w.terminate()));
});

describe("host-call bridge", () => {
  it("delivers every answer byte for byte, in the shared area or on the port, and failures as errors", async () => {
    const names = ["ok:0", "ok:1", "ok:300", `ok:${SHARED_ANSWER_BYTES}`, `ok:${SHARED_ANSWER_BYTES + 1}`, "view:500", `view:${SHARED_ANSWER_BYTES * 3}`, "fail:0", "ok:20"];
    const channel = createBridgeChannel();
    const requests: number[][] = [];
    serveBridge(channel.main, async (req) => {
      requests.push([...req.request]);
      await new Promise((r) => setTimeout(r, 1));
      return req.name.startsWith("fail") ? { ok: false, message: `no ${req.name}` } : { ok: true, response: answer(req.name) };
    });
    const worker = new Worker(THREAD, {
      eval: true,
      workerData: { bridge: BRIDGE_URL, port: channel.thread.port, shared: channel.thread.shared, names },
      transferList: [channel.thread.port],
    });
    workers.push(worker);
    const results = await new Promise<{ name: string; bytes?: Uint8Array; error?: string }[]>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    channel.main.port.close();
    expect(requests).toEqual(names.map(() => [1, 2, 3]));
    for (const result of results) {
      if (result.name.startsWith("fail")) expect(result.error).toBe(`host function env.${result.name} failed: no ${result.name}`);
      else expect(Buffer.from(result.bytes!).equals(Buffer.from(answer(result.name)))).toBe(true);
    }
  });
});
