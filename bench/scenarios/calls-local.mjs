// GetArtistMBID in this process: through the runtime's worker threads (admission, pool,
// postMessage both ways), on a plain instance of the calling thread (the floor those hops add to),
// and through Extism (@extism/extism) with an @extism/as-pdk plugin answering the same bytes.
import { readFile } from "node:fs/promises";
import { create, toBinary } from "@bufbuild/protobuf";
import createExtismPlugin from "@extism/extism";
import { findMethod, hostImportsFor } from "@tonearm/abi";
import { grantedPermissions } from "@tonearm/manifest";
import { api } from "@tonearm/proto";
import { PluginInstance, Runtime } from "@tonearm/runtime";
import { readFixture } from "@tonearm/test-harness";
import { buildExtismPlugin } from "../extism/build.mjs";
import { load } from "../stats.mjs";

export const MBID_REQUEST = toBinary(api.ArtistMBIDRequestSchema, create(api.ArtistMBIDRequestSchema, { id: "1", name: "The Beatles" }));
const EXPECTED = toBinary(api.ArtistMBIDResponseSchema, create(api.ArtistMBIDResponseSchema, { mbid: "1234567890" }));

export function checkMbid(bytes) {
  if (!Buffer.from(bytes).equals(Buffer.from(EXPECTED))) throw new Error(`unexpected answer ${Buffer.from(bytes).toString("hex")}`);
}

export async function threadCalls({ quick }) {
  const fixture = await readFixture("plugins", "fake_artist_agent");
  const runtime = Runtime.create();
  await runtime.load(fixture);
  const call = async () => checkMbid(await runtime.call("fake_artist_agent", "MetadataAgent", "GetArtistMBID", MBID_REQUEST));
  const direct = directInstance(fixture);
  try {
    const onCallingThread = await load(direct, { total: quick ? 5_000 : 50_000, warmup: 2_000 });
    const c1 = await load(call, { total: quick ? 3_000 : 20_000, concurrency: 1 });
    const c16 = await load(call, { total: quick ? 5_000 : 40_000, concurrency: 16 });
    return {
      call_thread_c1: { ...c1, calling_thread_p50_us: onCallingThread.p50_us, calling_thread_ops_per_s: onCallingThread.ops_per_s },
      call_thread_c16: { ...c16, threads: runtime.options.minThreads },
    };
  } finally {
    await runtime.close();
  }
}

function directInstance(fixture) {
  const method = findMethod("MetadataAgent", "GetArtistMBID");
  const module = new WebAssembly.Module(fixture.wasm);
  const instance = PluginInstance.create(module, {
    pluginId: fixture.id,
    linkedEnv: hostImportsFor(grantedPermissions(fixture.manifest)).map((i) => i.name),
    dispatch: () => {
      throw new Error("no host functions in this benchmark");
    },
    onStderr: () => {},
    maxResultSize: 16 * 1024 * 1024,
  });
  return () => {
    const result = instance.call(method.exportName, MBID_REQUEST);
    if (!result.ok) throw new Error(result.error);
    checkMbid(result.bytes);
  };
}

export async function extismCalls({ quick }) {
  const wasm = await readFile(await buildExtismPlugin());
  const results = {};
  for (const [name, runInWorker] of [["call_extism_fg", false], ["call_extism_worker", true]]) {
    const plugin = await createExtismPlugin({ wasm: [{ data: wasm }] }, { useWasi: false, runInWorker });
    try {
      let calls = 0;
      const call = async () => {
        checkMbid((await plugin.call("get_artist_mbid", MBID_REQUEST)).bytes());
        // Extism keeps every call's input and output blocks until reset(), and addresses 2^15 of
        // them: a full run's 20 000 calls would run out. One call in a thousand pays for the reset.
        if (++calls % 1_000 === 0) await plugin.reset();
      };
      results[name] = await load(call, { total: quick ? 3_000 : 20_000, concurrency: 1 });
    } finally {
      await plugin.close();
    }
  }
  return results;
}
