// GetArtistMBID of the fake_artist_agent fixture: through the runtime's worker-thread path
// (admission, pool, postMessage both ways) against a plain instance on the calling thread.
import { readFile } from "node:fs/promises";
import { create, toBinary } from "@bufbuild/protobuf";
import { findMethod, hostImportsFor } from "@tonearm/abi";
import { grantedPermissions, loadManifest } from "@tonearm/manifest";
import { api } from "@tonearm/proto";
import { PluginInstance, Runtime } from "@tonearm/runtime";
import { measure, throughput } from "./stats.mjs";

const folder = new URL("../test/.build/plugins/fake_artist_agent/", import.meta.url);

export async function run() {
  const manifest = await loadManifest(folder.pathname);
  const wasm = new Uint8Array(await readFile(new URL("plugin.wasm", folder)));
  const method = findMethod("MetadataAgent", "GetArtistMBID");
  const request = toBinary(api.ArtistMBIDRequestSchema, create(api.ArtistMBIDRequestSchema, { id: "1", name: "The Beatles" }));

  const module = await WebAssembly.compile(wasm);
  const instance = PluginInstance.create(module, {
    pluginId: "fake_artist_agent",
    linkedEnv: hostImportsFor(grantedPermissions(manifest)).map((i) => i.name),
    dispatch: () => {
      throw new Error("no host functions in this benchmark");
    },
    onStderr: () => {},
    maxResultSize: 16 * 1024 * 1024,
  });
  const direct = () => {
    const result = instance.call(method.exportName, request);
    if (!result.ok) throw new Error(result.error);
  };

  const runtime = Runtime.create();
  await runtime.load({ id: "fake_artist_agent", manifest, wasm });
  const threaded = () => runtime.call("fake_artist_agent", "MetadataAgent", "GetArtistMBID", request);

  const rows = [];
  try {
    const onThread = await measure(direct, { iterations: 20000, warmup: 2000 });
    rows.push({ path: "calling thread", ...onThread, concurrentCallsPerSec: "-" });
    const pooled = await measure(threaded, { iterations: 5000, warmup: 500 });
    rows.push({
      path: `worker threads (${runtime.options.minThreads})`,
      ...pooled,
      concurrentCallsPerSec: await throughput(threaded, { total: 20000, concurrency: runtime.options.maxConcurrent }),
    });
    rows.push({
      path: "ratio worker/calling (median)",
      medianUs: Math.round((pooled.medianUs / onThread.medianUs) * 10) / 10,
      p99Us: "-",
      callsPerSec: "-",
      concurrentCallsPerSec: "-",
    });
  } finally {
    await runtime.close();
  }
  return rows;
}
